"""Run conditions follow the state machine: every transition updates them, and they always agree with the state."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from digitalhub_runtime_python.models.conditions import TRUE_WHEN
from digitalhub_runtime_python.models.resources import resource_status
from digitalhub_runtime_python.models.run import Run, RunStatus
from digitalhub_runtime_python.models.states import State
from digitalhub_runtime_python.stores.base import apply_transition


def new_run() -> Run:
    return Run(project="demo", name="r1", id="r1", spec={"task": "t", "function": "f", "action": "job"})


def true_conditions(status: RunStatus) -> set[str]:
    return {c.type for c in status.conditions if c.status == "True"}


def test_a_new_run_has_every_condition_false_and_pending():
    conditions = new_run().status.conditions
    assert [c.type for c in conditions] == list(TRUE_WHEN)
    assert {(c.status, c.reason) for c in conditions} == {("False", "Pending")}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ([State.READY], set()),
        ([State.READY, State.RUNNING], {"Ready"}),
        ([State.READY, State.RUNNING, State.COMPLETED], {"Completed", "Finished"}),
        ([State.ERROR], {"Failed", "Finished"}),
        ([State.READY, State.RUNNING, State.STOPPED], {"Stopped", "Finished"}),
        ([State.READY, State.RUNNING, State.STOPPED, State.READY], set()),
    ],
)
def test_every_transition_updates_the_conditions(path, expected):
    status = new_run().status
    for state in path:
        apply_transition(status, state, f"now {state.value}")
    assert true_conditions(status) == expected
    assert {c.message for c in status.conditions} == {f"now {path[-1].value}"}


def test_transition_times_move_only_when_a_condition_flips():
    status = new_run().status
    apply_transition(status, State.READY)
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    for condition in status.conditions:
        condition.last_transition_time = long_ago
    apply_transition(status, State.RUNNING)
    moved = {c.type for c in status.conditions if c.last_transition_time != long_ago}
    assert moved == {"Ready"}


def test_conditions_written_before_they_existed_are_derived_on_read():
    status = RunStatus.model_validate({"state": "COMPLETED", "message": "done"})
    assert true_conditions(status) == {"Completed", "Finished"}
    stale = RunStatus.model_validate(
        {"state": "ERROR", "conditions": [c.model_dump(mode="json") for c in new_run().status.conditions]}
    )
    assert true_conditions(stale) == {"Failed", "Finished"}


def test_a_kubernetes_reason_explains_ready_false():
    status = new_run().status
    status.message = "waiting: pod p: ImagePullBackOff: no such image"
    status.refresh_conditions("ImagePullBackOff")
    ready = next(c for c in status.conditions if c.type == "Ready")
    assert (ready.status, ready.reason, ready.message) == ("False", "ImagePullBackOff", status.message)


def test_the_resource_status_carries_the_generation_in_kubernetes_spelling():
    status = new_run().status
    apply_transition(status, State.ERROR, "boom")
    document = resource_status(status, 3)
    assert document["observedGeneration"] == 3
    assert {c["observedGeneration"] for c in document["conditions"]} == {3}
    failed = next(c for c in document["conditions"] if c["type"] == "Failed")
    assert set(failed) == {"type", "status", "reason", "message", "lastTransitionTime", "observedGeneration"}
    assert RunStatus.model_validate(document).observed_generation == 3
