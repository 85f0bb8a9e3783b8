"""Prometheus metrics of the operator, served at ``GET /metrics`` on the health port (prometheus_client).

- ``digitalhub_operator_runs{state, action}``: runs the operator knows (from its watch index), by state;
- ``digitalhub_operator_launches_total{action, outcome}``: launches, ``created`` or ``refused`` (bad input, the
  run ended in ERROR) or ``error`` (a transient API failure, retried by the scan);
- ``digitalhub_operator_launch_latency_seconds{action}``: from the run's creation to its workload created;
- ``digitalhub_operator_reconcile_errors_total{handler}``: handler and scan failures (each is logged);
- ``digitalhub_operator_watch_restarts_total{resource, reason}``: watch streams kopf restarted: ``gone`` (410, the
  resource version expired: a new listing) or ``inactive`` (no event within kopf's inactivity timeout).
"""

from __future__ import annotations

import functools
import logging
import re
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ParamSpec, TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from digitalhub_runtime_python.models.states import State
from digitalhub_runtime_python.models.task import Action

REGISTRY = CollectorRegistry()
LAUNCHES = Counter("digitalhub_operator_launches", "Run launches by outcome", ["action", "outcome"], registry=REGISTRY)
LAUNCH_LATENCY = Histogram(
    "digitalhub_operator_launch_latency_seconds",
    "Seconds from a run's creation to its workload created",
    ["action"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
    registry=REGISTRY,
)
RECONCILE_ERRORS = Counter(
    "digitalhub_operator_reconcile_errors", "Handler and scan failures", ["handler"], registry=REGISTRY
)
WATCH_RESTARTS = Counter(
    "digitalhub_operator_watch_restarts", "Watch streams restarted", ["resource", "reason"], registry=REGISTRY
)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
P = ParamSpec("P")
R = TypeVar("R")

# kopf reports restarts of its watch streams only in debug lines of this logger (its messages, verbatim)
WATCH_LOGGER = "kopf._cogs.clients.watching"
_RESTARTS = (
    (re.compile(r"^Restarting the watch-stream for (\S+)"), "gone"),
    (re.compile(r"^Watch-stream for (\S+) .* is inactive, reconnecting"), "inactive"),
)


class RunStates(Collector):
    """``digitalhub_operator_runs``, counted from the runs index at scrape time (no bookkeeping to drift)."""

    def __init__(self) -> None:
        self.source: Callable[[], Iterable[Any]] = tuple
        """Run summaries with ``state`` and ``action`` (the operator points it at its runs index)."""

    def collect(self) -> Iterator[Metric]:
        counts = Tally((ref.state, ref.action) for ref in self.source())
        family = GaugeMetricFamily("digitalhub_operator_runs", "Runs by state and action", labels=["state", "action"])
        for state in State:
            for action in Action:
                family.add_metric([state.value, action.value], counts.get((state.value, action.value), 0))
        yield family


RUNS = RunStates()
REGISTRY.register(RUNS)


def counted(handler: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Count the failures of a handler in ``digitalhub_operator_reconcile_errors_total`` (they still raise)."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return function(*args, **kwargs)
            except Exception:
                RECONCILE_ERRORS.labels(handler).inc()
                raise

        return wrapper

    return decorate


class WatchRestarts(logging.Filter):
    """Counts kopf's watch-stream restarts from its log records; lets through only what the logger let through
    before it was opened to debug records."""

    def __init__(self, threshold: int):
        super().__init__()
        self.threshold = threshold

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for pattern, reason in _RESTARTS:
            match = pattern.match(message)
            if match:
                WATCH_RESTARTS.labels(match.group(1), reason).inc()
        return record.levelno >= self.threshold


def count_watch_restarts() -> None:
    """Install the WatchRestarts filter on kopf's watching logger (once)."""
    logger = logging.getLogger(WATCH_LOGGER)
    if any(isinstance(f, WatchRestarts) for f in logger.filters):
        return
    logger.addFilter(WatchRestarts(logger.getEffectiveLevel()))
    logger.setLevel(logging.DEBUG)


def exposition() -> bytes:
    """The metrics in Prometheus' text format."""
    return generate_latest(REGISTRY)
