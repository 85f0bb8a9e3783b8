"""Prometheus metrics of a served function: an ASGI middleware in front of everything, serving ``GET /metrics``.

- ``digitalhub_serve_requests_total{route, method, status}`` and ``digitalhub_serve_request_duration_seconds``
  (same labels): every request, refusals by the gate (429, 503, 413) included; ``route`` is the route's template
  (``/``, ``/jobs/{job_id}``, ``/<command>``), ``other`` for paths no route serves;
- ``digitalhub_serve_requests_in_flight``: requests the gate let in and not yet answered;
- ``digitalhub_serve_async_jobs{status}``: async jobs not finished yet (PENDING, RUNNING), at scrape time.

Each app has its own registry (prometheus_client), so several apps in one process never share counters. The hot
path costs a dict lookup, two clock reads and two lock-protected increments.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

METRICS_PATH = "/metrics"
CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


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
        self.registry = CollectorRegistry()
        labels = ["route", "method", "status"]
        self._requests = Counter("digitalhub_serve_requests", "Requests answered", labels, registry=self.registry)
        self._duration = Histogram(
            "digitalhub_serve_request_duration_seconds",
            "Seconds from a request's arrival to the end of its response",
            labels,
            buckets=BUCKETS,
            registry=self.registry,
        )
        Gauge("digitalhub_serve_requests_in_flight", "Requests being answered", registry=self.registry).set_function(
            in_flight
        )
        self.registry.register(_AsyncJobs(async_jobs))
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

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
            labels = (template, scope["method"], str(status))
            series = self._series[key] = (self._requests.labels(*labels), self._duration.labels(*labels))
        series[0].inc()
        series[1].observe(seconds)

    async def _expose(self, send: Send) -> None:
        body = generate_latest(self.registry)
        headers = [(b"content-type", CONTENT_TYPE), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
