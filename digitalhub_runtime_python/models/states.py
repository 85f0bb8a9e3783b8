"""Run states and the transitions allowed between them."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from pydantic import Field

from digitalhub_runtime_python.models.base import StrictModel, now


class State(str, Enum):
    CREATED = "CREATED"
    READY = "READY"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    ERROR = "ERROR"
    STOPPED = "STOPPED"


FINAL_STATES = frozenset({State.COMPLETED, State.ERROR, State.STOPPED})

# STOPPED -> READY is a resume (serve runs); every other final state is terminal.
ALLOWED: dict[State, frozenset[State]] = {
    State.CREATED: frozenset({State.READY, State.ERROR, State.STOPPED}),
    State.READY: frozenset({State.RUNNING, State.ERROR, State.STOPPED}),
    State.RUNNING: frozenset({State.COMPLETED, State.ERROR, State.STOPPED}),
    State.COMPLETED: frozenset(),
    State.ERROR: frozenset(),
    State.STOPPED: frozenset({State.READY}),
}


class IllegalTransition(ValueError):
    """A state change the run state machine does not allow."""


class Transition(StrictModel):
    """One recorded state change."""

    time: datetime = Field(default_factory=now)
    state: State
    message: str | None = None


def check_transition(current: State | str, target: State | str) -> State:
    """Return ``target`` as a State, or raise if ``current -> target`` is not allowed."""
    current, target = State(current), State(target)
    if target not in ALLOWED[current]:
        allowed = ", ".join(sorted(s.value for s in ALLOWED[current])) or "none (final state)"
        raise IllegalTransition(f"run cannot go from {current.value} to {target.value}; allowed: {allowed}")
    return target


def is_final(state: State | str) -> bool:
    """True for COMPLETED, ERROR and STOPPED."""
    return State(state) in FINAL_STATES
