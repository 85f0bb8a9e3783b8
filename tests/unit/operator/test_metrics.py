"""The operator's metrics and watch settings, without servers: what is counted and how kopf is configured."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import kopf
import pytest

from digitalhub_operator import lifecycle, metrics
from digitalhub_operator.settings import OperatorSettings


def sample(name: str, **labels: str) -> float:
    value = metrics.REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_kopf_watch_restarts_are_counted_and_their_debug_lines_stay_quiet(caplog):
    logger = logging.getLogger(metrics.WATCH_LOGGER)
    level = logger.level
    metrics.count_watch_restarts()
    metrics.count_watch_restarts()  # installing twice counts once
    before = sample("digitalhub_operator_watch_restarts_total", resource="runs.v1alpha1.digitalhub.io", reason="gone")
    try:
        with caplog.at_level(logging.INFO):
            logger.debug("Restarting the watch-stream for runs.v1alpha1.digitalhub.io in 'team-a'.")
            logger.debug("Watch-stream for pods.v1 cluster-wide is inactive, reconnecting.")
            logger.debug("Starting the watch-stream for pods.v1 cluster-wide.")
    finally:
        logger.filters.clear()
        logger.setLevel(level)
    after = sample("digitalhub_operator_watch_restarts_total", resource="runs.v1alpha1.digitalhub.io", reason="gone")
    assert after == before + 1
    assert sample("digitalhub_operator_watch_restarts_total", resource="pods.v1", reason="inactive") >= 1
    assert [r for r in caplog.records if r.name == metrics.WATCH_LOGGER] == []


def test_handler_failures_are_counted_and_still_raise():
    @metrics.counted("unit")
    def handler(fail: bool) -> str:
        if fail:
            raise RuntimeError("boom")
        return "ok"

    before = sample("digitalhub_operator_reconcile_errors_total", handler="unit")
    assert handler(fail=False) == "ok"
    with pytest.raises(RuntimeError):
        handler(fail=True)
    assert sample("digitalhub_operator_reconcile_errors_total", handler="unit") == before + 1
    assert handler.__name__ == "handler"  # kopf names handlers after the function


def test_runs_are_counted_by_state_from_the_index_at_scrape_time():
    refs = [SimpleNamespace(state="RUNNING", action="serve")] * 2 + [SimpleNamespace(state="ERROR", action="job")]
    metrics.RUNS.source = lambda: refs
    try:
        assert sample("digitalhub_operator_runs", state="RUNNING", action="serve") == 2
        assert sample("digitalhub_operator_runs", state="ERROR", action="job") == 1
        assert sample("digitalhub_operator_runs", state="CREATED", action="build") == 0
    finally:
        metrics.RUNS.source = tuple


@pytest.mark.parametrize(
    ("group", "version", "plural", "filtered"),
    [
        ("batch", "v1", "jobs", True),
        ("batch", "v1", "cronjobs", True),
        ("apps", "v1", "deployments", True),
        ("", "v1", "pods", True),
        ("digitalhub.io", "v1alpha1", "runs", False),
    ],
)
def test_workload_watches_ask_the_api_server_for_our_label_only(group, version, plural, filtered):
    settings = kopf.OperatorSettings()
    lifecycle.configure(settings, OperatorSettings(priority=1))
    resource = kopf.Resource(group, version, plural)
    expected = ["app.kubernetes.io/managed-by=digitalhub-operator"] if filtered else []
    assert settings.watching.label_selectors.collect(resource) == expected
