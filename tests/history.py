"""Run histories for tests: runs made as the SDK stores them, with their creation times and states chosen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from digitalhub_runtime_python.models.base import Metadata
from digitalhub_runtime_python.models.run import Run, RunStatus
from digitalhub_runtime_python.models.states import State, Transition

BASE = datetime(2025, 3, 1, 12, tzinfo=UTC)
FUNCTIONS = {"train": ("v1", "v2"), "score": ("s1",)}


def make_run(
    number: int,
    function: str = "train",
    version: str = "v1",
    action: str = "job",
    state: State = State.COMPLETED,
    created: datetime | None = None,
    labels: tuple[str, ...] = (),
    project: str = "p",
) -> Run:
    """A run as the SDK would store it, with its creation time and state chosen."""
    run_id = f"run-{number:03d}"
    created = created or BASE + timedelta(minutes=number)
    return Run(
        project=project,
        name=run_id,
        id=run_id,
        metadata=Metadata(created=created, updated=created + timedelta(seconds=30), labels=list(labels)),
        spec={
            "function": f"store://{project}/function/python/{function}:{version}",
            "task": f"store://{project}/task/python+{action}/{function}-{action}:t-{version}-{action}",
            "action": action,
        },
        status=RunStatus(state=state, transitions=[Transition(time=created, state=state)]),
    )


def history() -> list[Run]:
    """Twelve runs, oldest first: two functions (train in two versions), jobs and services, three states, some
    labelled; created a minute apart."""
    states = [State.COMPLETED, State.ERROR, State.COMPLETED, State.RUNNING]
    runs = []
    for number in range(12):
        function = "score" if number % 3 == 2 else "train"
        version = FUNCTIONS[function][number % len(FUNCTIONS[function])]
        action = "serve" if number in (4, 9) else "job"
        labels = ("nightly",) if number % 4 == 0 else ()
        runs.append(make_run(number, function, version, action, states[number % 4], labels=labels))
    return runs
