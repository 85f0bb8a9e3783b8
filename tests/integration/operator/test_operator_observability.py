"""What the operator lets people and machines see: the log tail kept on a run after its pod is gone, the
Prometheus metrics, and watches the API server filters (so a busy cluster does not flood the operator)."""

from __future__ import annotations

import re

import pytest
from operator_harness import finished, job_condition

from digitalhub_runtime_python.contract import MANAGED_BY
from digitalhub_runtime_python.models.states import State
from tests.kube.emulator import CompatEmulator
from tests.waiting import wait_for

pytestmark = pytest.mark.integration

OWNED_SELECTOR = "app.kubernetes.io/managed-by=" + MANAGED_BY["app.kubernetes.io/managed-by"]


def test_the_run_keeps_its_log_tail_when_the_job_and_its_pods_are_gone(operator, world, kube_server):
    run = world.run("job")
    name = f"run-{run.id}"
    pod = world.start_pod(wait_for(lambda: world.job(name), what="the Job"))
    kube_server.emulator.pod_logs[(world.namespace, pod)] = "".join(f"line {i}\n" for i in range(500))
    for state in (State.READY, State.RUNNING, State.COMPLETED):
        world.store.transition(run.key, state)
    world.pod_status(pod, finished("Completed", 0))
    world.job_status(name, job_condition("Complete", "CompletionsReached"))
    kept = world.wait_run(run, lambda r: r.status.kubernetes.log_tail is not None, "the log tail")
    tail = kept.status.kubernetes.log_tail
    assert tail.pod == pod and tail.truncated and tail.text.splitlines() == [f"line {i}" for i in range(300, 500)]

    world.batch.delete_namespaced_job(name, world.namespace, propagation_policy="Background")  # the Job's TTL
    wait_for(lambda: world.gone(lambda n: world.core.read_namespaced_pod(n, world.namespace), pod), what="pod gone")
    [record] = world.store.read_logs(run.key)
    assert record.text.endswith("line 498\nline 499\n") and "were not kept" in record.text
    assert world.get_run(run).status.state == State.COMPLETED  # a Job removed after the end changes nothing


def _samples(text: str, name: str) -> dict[str, float]:
    return {
        labels: float(value)
        for labels, value in re.findall(rf"^{name}(\{{[^}}]*\}}) ([0-9.e+]+)$", text, flags=re.MULTILINE)
    }


def test_metrics_count_runs_launches_and_their_latency(operator, world):
    run = world.run("job")
    world.wait_run(run, lambda r: r.status.kubernetes and r.status.kubernetes.job, "launched")
    response = operator.probe("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    launches = _samples(text, "digitalhub_operator_launches_total")
    assert launches['{action="job",outcome="created"}'] >= 1
    runs = _samples(text, "digitalhub_operator_runs")
    assert runs['{action="job",state="CREATED"}'] >= 1 and '{action="serve",state="RUNNING"}' in runs
    assert _samples(text, "digitalhub_operator_launch_latency_seconds_count")['{action="job"}'] >= 1
    assert "# TYPE digitalhub_operator_reconcile_errors_total counter" in text
    assert "# TYPE digitalhub_operator_watch_restarts_total counter" in text


def test_workload_watches_are_filtered_by_label_at_the_api_server(start_operator, monkeypatch):
    watched: list[tuple[str, str | None]] = []
    select = CompatEmulator._select

    def recording(self, request):  # type: ignore[no-untyped-def]
        if request.params.get("watch") == "true":
            watched.append((request.resource.plural, request.params.get("labelSelector")))
        return select(self, request)

    monkeypatch.setattr(CompatEmulator, "_select", recording)
    start_operator(DIGITALHUB_OPERATOR_PENDING_DEADLINE="120")
    workloads = {"jobs", "cronjobs", "deployments", "pods"}
    wait_for(lambda: workloads <= {plural for plural, _ in watched}, what="watches of every workload kind")
    assert {selector for plural, selector in watched if plural in workloads} == {OWNED_SELECTOR}
