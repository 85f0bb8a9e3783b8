"""Prometheus metrics of a served function: an ASGI middleware in front of everything, serving ``GET /metrics``.

- ``digitalhub_serve_requests_total{route, method, status}`` and ``digitalhub_serve_request_duration_seconds``
  (same labels): every request, refusals by the gate (429, 503, 413) included; ``route`` is the route's template
  (``/``, ``/jobs/{job_id}``, ``/<command>``), ``other`` for paths no route serves;
- ``digitalhub_serve_requests_in_flight``: requests the gate let in and not yet answered;
- ``digitalhub_serve_async_jobs{status}``: async jobs by status, as the app counts them at scrape time (RUNNING:
  the jobs this replica is running).

Each app has its own registry (prometheus_client), so several apps in one process never share counters. Requests
are tallied in plain counters that the event loop alone touches (prometheus_client's own metric objects take a
lock per change, for threaded programs): the hot path costs a dict lookup, a bisection and two clock reads, and
the tallies become prometheus families only when scraped.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

METRICS_PATH = "/metrics"
CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
LABELS = ["route", "method", "status"]


class _Series:
    """One (route, method, status): how many requests, how long in all, how many within each bucket."""

    __slots__ = ("count", "total", "buckets")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.buckets = [0] * (len(BUCKETS) + 1)  # the last one is +Inf

    def add(self, seconds: float) -> None:
        self.count += 1
        self.total += seconds
        self.buckets[bisect.bisect_left(BUCKETS, seconds)] += 1


class _Requests(Collector):
    def __init__(self, series: dict[tuple[str, str, int], _Series]):
        self._series = series

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily("digitalhub_serve_requests", "Requests answered", labels=LABELS)
        durations = HistogramMetricFamily(
            "digitalhub_serve_request_duration_seconds",
            "Seconds from a request's arrival to the end of its response",
            labels=LABELS,
        )
        for (route, method, status), series in list(self._series.items()):
            labels = [route, method, str(status)]
            requests.add_metric(labels, series.count)
            cumulative, buckets = 0, []
            for bound, count in zip([*map(str, BUCKETS), "+Inf"], series.buckets, strict=True):
                cumulative += count
                buckets.append((bound, cumulative))
            durations.add_metric(labels, buckets, series.total)
        yield requests
        yield durations


class _AsyncJobs(Collector):
    def __init__(self, counts: Callable[[], Mapping[str, int]]):
        self._counts = counts

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("digitalhub_serve_async_jobs", "Async jobs not finished", labels=["status"])
        for status, count in sorted(self._counts().items()):
            family.add_metric([status], count)
        yield family


class ServeMetrics:
    """Pure ASGI middleware: times and counts every request of ``app``, answers ``GET /metrics`` itself."""

    def __init__(
        self,
        app: ASGIApp,
        in_flight: Callable[[], float],
        async_jobs: Callable[[], Mapping[str, int]],
    ):
        self.app = app
        self._series: dict[tuple[str, str, int], _Series] = {}
        self.registry = CollectorRegistry()
        self.registry.register(_Requests(self._series))
        Gauge("digitalhub_serve_requests_in_flight", "Requests being answered", registry=self.registry).set_function(
            in_flight
        )
        self.registry.register(_AsyncJobs(async_jobs))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == METRICS_PATH and scope["method"] == "GET":
            await self._expose(send)
            return
        status = 500  # what the server answers when the app fails before starting a response

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, sending)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or ("/" if scope["path"] == "/" else "other")
        key = (template, scope["method"], status)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series()
        series.add(seconds)

    async def _expose(self, send: Send) -> None:
        body = generate_latest(self.registry)
        headers = [(b"content-type", CONTENT_TYPE), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
