"""Job / Pod / Deployment state -> run state, message and Kubernetes reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from digitalhub_operator.status import merge, observe_deployment, observe_job, pending_expired, pod_problem
from digitalhub_runtime_python.models.run import ErrorInfo, KubernetesInfo, RunStatus
from digitalhub_runtime_python.models.states import State, Transition
from digitalhub_runtime_python.stores.base import apply_transition

CREATED_AT = datetime(2026, 1, 1, tzinfo=UTC)
URL = "http://run-1.ns.svc.cluster.local"


def job(*conditions: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "metadata": {"name": "run-1", "creationTimestamp": "2026-01-01T00:00:00Z"},
        "status": {"conditions": [{"type": t, "status": "True", "reason": r, "message": m} for t, r, m in conditions]},
    }


def pod(
    phase: str = "Pending",
    waiting: str | None = None,
    terminated: dict | None = None,
    unschedulable: str | None = None,
    running: bool = False,
    name: str = "run-1-abcde",
) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": phase}
    if unschedulable:
        status["conditions"] = [
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": unschedulable}
        ]
    state: dict[str, Any] = {}
    if waiting:
        state = {"waiting": {"reason": waiting, "message": f"{waiting} detail"}}
    if terminated:
        state = {"terminated": terminated}
    if running:
        state = {"running": {"startedAt": "2026-01-01T00:00:05Z"}}
    if state:
        status["containerStatuses"] = [{"name": "runtime", "state": state}]
    return {"metadata": {"name": name}, "status": status}


def deployment(replicas: int = 1, available: int = 0, conditions: list | None = None) -> dict[str, Any]:
    return {
        "metadata": {"name": "run-1", "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"replicas": replicas},
        "status": {"availableReplicas": available, "conditions": conditions or []},
    }


@pytest.mark.parametrize(
    ("the_pod", "reason", "text"),
    [
        (pod(unschedulable="0/3 nodes are available: 3 Insufficient cpu."), "Unschedulable", "Insufficient cpu"),
        (pod(waiting="ImagePullBackOff"), "ImagePullBackOff", "ImagePullBackOff detail"),
        (pod(waiting="CrashLoopBackOff"), "CrashLoopBackOff", "detail"),
        (pod("Failed", terminated={"reason": "OOMKilled", "exitCode": 137}), "OOMKilled", "raise resources.mem"),
        (pod("Failed", terminated={"reason": "Error", "exitCode": 3}), "Error", "exit code 3"),
        (
            {"metadata": {"name": "p"}, "status": {"phase": "Failed", "reason": "DeadlineExceeded", "message": "late"}},
            "DeadlineExceeded",
            "late",
        ),
    ],
)
def test_pod_problems(the_pod, reason, text):
    problem = pod_problem(the_pod)
    assert problem is not None and problem.reason == reason and text in problem.describe()


def test_healthy_pods_have_no_problem():
    assert pod_problem(pod()) is None and pod_problem(pod("Running", running=True)) is None
    assert pod_problem(pod("Succeeded", terminated={"reason": "Completed", "exitCode": 0})) is None


def test_job_waiting_then_running_messages():
    waiting = observe_job(job(), [pod(unschedulable="0/1 nodes are available")], State.CREATED)
    assert waiting.state is None and waiting.reason == "Unschedulable" and "Unschedulable" in waiting.message
    assert not waiting.started and waiting.stuck_since == CREATED_AT
    running = observe_job(job(), [pod("Running", running=True)], State.CREATED)
    assert running.state is None and running.started and "running" in running.message
    # once the runtime owns the run, the operator leaves its state and message alone
    assert observe_job(job(), [pod("Running", running=True)], State.RUNNING).message is None


def test_job_failures_end_in_error():
    oom = observe_job(
        job(("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")),
        [pod("Failed", terminated={"reason": "OOMKilled", "exitCode": 137})],
        State.RUNNING,
    )
    assert oom.state == State.ERROR and oom.reason == "OOMKilled" and "BackoffLimitExceeded" in oom.message
    late = observe_job(
        job(("Failed", "DeadlineExceeded", "Job was active longer than specified deadline")), [], State.RUNNING
    )
    assert late.state == State.ERROR and late.reason == "DeadlineExceeded"
    bad_image = observe_job(job(), [pod(waiting="InvalidImageName")], State.CREATED)
    assert bad_image.state == State.ERROR and bad_image.reason == "InvalidImageName"


def test_job_complete_without_runtime_record_is_an_error():
    observation = observe_job(job(("Complete", "", "")), [], State.RUNNING)
    assert observation.state == State.ERROR and "recorded no end" in observation.message


def test_finished_runs_are_left_alone():
    observation = observe_job(job(("Failed", "BackoffLimitExceeded", "")), [], State.COMPLETED)
    assert observation.state is None and observation.message is None


def test_deployment_states():
    starting = observe_deployment(deployment(2, 0), [pod()], State.READY, URL)
    assert starting.state is None and "0/2" in starting.message and starting.service.replicas == 2
    serving = observe_deployment(deployment(2, 1), [pod("Running", running=True)], State.READY, URL)
    assert serving.state == State.RUNNING and URL in serving.message and serving.service.available_replicas == 1
    crashing = observe_deployment(deployment(1, 0), [pod("Running", waiting="CrashLoopBackOff")], State.RUNNING, URL)
    assert crashing.state is None and crashing.reason == "CrashLoopBackOff" and "no replica" in crashing.message
    stalled = observe_deployment(
        deployment(
            1, 0, [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "slow"}]
        ),
        [],
        State.READY,
        URL,
    )
    assert stalled.reason == "ProgressDeadlineExceeded"


def test_pending_deadline():
    stuck = observe_job(job(), [pod(unschedulable="no nodes")], State.CREATED)
    assert pending_expired(stuck, State.CREATED, CREATED_AT + timedelta(seconds=61), 60)
    assert not pending_expired(stuck, State.CREATED, CREATED_AT + timedelta(seconds=59), 60)
    started = observe_job(job(), [pod("Running", running=True)], State.CREATED)
    assert not pending_expired(started, State.CREATED, CREATED_AT + timedelta(days=1), 60)
    assert not pending_expired(stuck, State.RUNNING, CREATED_AT + timedelta(days=1), 60)
    serve = observe_deployment(deployment(1, 0), [pod(unschedulable="no nodes")], State.READY, URL)
    assert pending_expired(serve, State.READY, CREATED_AT + timedelta(seconds=61), 60)


def test_merge_records_transitions_and_messages():
    status = RunStatus(transitions=[Transition(state=State.CREATED)])
    waiting = observe_job(job(), [pod(unschedulable="no nodes")], State.CREATED)
    assert merge(status, waiting, KubernetesInfo(job="run-1")) == []
    assert status.state == State.CREATED and "Unschedulable" in status.message
    assert status.kubernetes.reason == "Unschedulable" and status.kubernetes.pods == ["run-1-abcde"]
    serving = observe_deployment(deployment(1, 1), [], State.CREATED, URL)
    assert merge(status, serving, KubernetesInfo(deployment="run-1")) == [State.READY, State.RUNNING]
    assert status.service.url == URL and [t.state for t in status.transitions][-2:] == [State.READY, State.RUNNING]
    failed = observe_job(job(("Failed", "BackoffLimitExceeded", "")), [], State.RUNNING)
    assert merge(status, failed, KubernetesInfo()) == [State.ERROR] and status.state == State.ERROR


def test_a_run_the_workload_ends_in_error_gets_the_reason_as_its_error():
    status = RunStatus(transitions=[Transition(state=State.CREATED)])
    apply_transition(status, State.READY)
    apply_transition(status, State.RUNNING)
    stuck = observe_job(job(), [pod(unschedulable="no nodes")], State.RUNNING)
    merge(status, stuck, KubernetesInfo())
    assert status.error is None  # waiting is not failing
    failed = observe_job(
        job(("Failed", "DeadlineExceeded", "Job was active longer than specified deadline")), [], State.RUNNING
    )
    assert merge(status, failed, KubernetesInfo()) == [State.ERROR]
    assert status.error == ErrorInfo(type="DeadlineExceeded", message=status.message)
    assert "Job was active longer" in status.error.message


def test_an_error_the_runtime_recorded_is_kept():
    status = RunStatus(transitions=[Transition(state=State.CREATED)])
    apply_transition(status, State.ERROR, "ValueError: bad")
    status.error = ErrorInfo(type="ValueError", message="ValueError: bad", traceback="...")
    merge(status, observe_job(job(("Failed", "BackoffLimitExceeded", "")), [], State.ERROR), KubernetesInfo())
    assert status.error == ErrorInfo(type="ValueError", message="ValueError: bad", traceback="...")
