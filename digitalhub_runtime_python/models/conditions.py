"""Standard Kubernetes conditions of a run, derived from its state so that ``kubectl wait --for=condition=X`` works.

Every condition is always present, ``True`` or ``False``; which ones are ``True`` follows from the state alone:

| condition | True when the run is |
| --- | --- |
| Ready | RUNNING: a job's handler executes, a serve run answers, a schedule is active |
| Completed | COMPLETED |
| Failed | ERROR |
| Stopped | STOPPED |
| Finished | COMPLETED, ERROR or STOPPED (wait for this one to wait for any end) |

``reason`` is the state as a CamelCase word (or, for ``Ready=False``, why Kubernetes keeps the run from starting:
``ImagePullBackOff``, ``Unschedulable``, ...), ``message`` the run's status message, and ``lastTransitionTime``
moves only when a condition's status flips. ``observedGeneration`` is stamped by the Kubernetes store.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from digitalhub_runtime_python.models.base import StrictModel, now
from digitalhub_runtime_python.models.states import FINAL_STATES, State

REASON_PATTERN = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"
_REASON_RE = re.compile(REASON_PATTERN)
MAX_MESSAGE = 32768  # metav1.Condition's limit

TRUE_WHEN: dict[str, frozenset[State]] = {
    "Ready": frozenset({State.RUNNING}),
    "Completed": frozenset({State.COMPLETED}),
    "Failed": frozenset({State.ERROR}),
    "Stopped": frozenset({State.STOPPED}),
    "Finished": FINAL_STATES,
}
STATE_REASONS: dict[State, str] = {
    State.CREATED: "Pending",
    State.READY: "Starting",
    State.RUNNING: "Running",
    State.COMPLETED: "Completed",
    State.ERROR: "Failed",
    State.STOPPED: "Stopped",
}


class Condition(StrictModel):
    """One ``status.conditions[]`` entry, shaped like Kubernetes' metav1.Condition."""

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True, serialize_by_alias=True)

    type: str = Field(pattern=r"^[A-Z][A-Za-z]*$")
    status: Literal["True", "False", "Unknown"]
    reason: str = Field(pattern=REASON_PATTERN, max_length=1024)
    message: str = Field(max_length=MAX_MESSAGE)
    last_transition_time: datetime = Field(alias="lastTransitionTime")
    observed_generation: int | None = Field(None, ge=0, alias="observedGeneration")


def agree(conditions: Sequence[Condition], state: State | str) -> bool:
    """True when ``conditions`` are the full set and say what ``state`` implies."""
    state = State(state)
    statuses = {condition.type: condition.status for condition in conditions}
    return statuses == {kind: "True" if state in states else "False" for kind, states in TRUE_WHEN.items()}


def derive(
    state: State | str,
    message: str | None,
    previous: Sequence[Condition] = (),
    blocked_by: str | None = None,
) -> list[Condition]:
    """The conditions of a run in ``state``; ``previous`` keeps transition times, ``blocked_by`` is a Kubernetes
    reason (``ImagePullBackOff``...) explaining ``Ready=False``."""
    state = State(state)
    before = {condition.type: condition for condition in previous}
    stamp = now()
    text = (message or f"the run is {state.value}")[:MAX_MESSAGE]
    conditions = []
    for kind, states in TRUE_WHEN.items():
        status: Literal["True", "False"] = "True" if state in states else "False"
        reason = STATE_REASONS[state]
        if kind == "Ready" and status == "False" and blocked_by and _REASON_RE.match(blocked_by):
            reason = blocked_by
        old = before.get(kind)
        conditions.append(
            Condition(
                type=kind,
                status=status,
                reason=reason,
                message=text,
                last_transition_time=old.last_transition_time if old and old.status == status else stamp,
                observed_generation=old.observed_generation if old else None,
            )
        )
    return conditions
