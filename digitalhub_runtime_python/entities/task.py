"""A task as an object: how a function runs (job, serve, build); each ``run`` creates a Run and launches it."""

from __future__ import annotations

from typing import Any

from digitalhub_runtime_python.entities.base import EntityObject
from digitalhub_runtime_python.entities.run import Run
from digitalhub_runtime_python.models.base import Metadata, check_id, new_id
from digitalhub_runtime_python.models.errors import SpecError, validate
from digitalhub_runtime_python.models.run import Run as RunModel
from digitalhub_runtime_python.models.run import RunSpec
from digitalhub_runtime_python.models.task import Task as TaskModel


def run_id(uuid: str | None) -> str:
    """The id of a new run: ``uuid`` if given (validated), else a fresh one."""
    try:
        return check_id(uuid) if uuid is not None else new_id()
    except ValueError as exc:
        raise SpecError("run", [("uuid", str(exc))]) from None


def run_spec(
    function: str,
    action: str,
    inputs: dict[str, str] | None,
    parameters: dict[str, Any] | None,
    outputs: dict[str, str] | None,
    init_parameters: dict[str, Any] | None,
    local_execution: bool,
    isolation: str,
    schedule: str | None = None,
) -> RunSpec:
    """A validated run spec (its task is set when the run is stored); SpecError naming the fields otherwise."""
    return validate(
        RunSpec,
        {
            "task": "",
            "function": function,
            "action": action,
            "inputs": inputs or {},
            "parameters": parameters or {},
            "outputs": outputs or {},
            "init_parameters": init_parameters or {},
            "local_execution": local_execution,
            "isolation": isolation,
            "schedule": schedule,
        },
        "run spec",
    )


class Task(EntityObject[TaskModel]):
    """A function's task: its action and the knobs of the place it runs in."""

    @property
    def action(self) -> str:
        return str(self.spec.action)

    def run(
        self,
        *,
        inputs: dict[str, str] | None = None,
        parameters: dict[str, Any] | None = None,
        outputs: dict[str, str] | None = None,
        init_parameters: dict[str, Any] | None = None,
        local_execution: bool = False,
        isolation: str = "inprocess",
        uuid: str | None = None,
        labels: list[str] | None = None,
        wait: bool = False,
        log_info: bool = True,
    ) -> Run:
        """Create a run of this task and launch it where its backend runs it; ``wait`` returns once it ended."""
        spec = run_spec(
            self.spec.function, self.action, inputs, parameters, outputs, init_parameters, local_execution, isolation
        )
        return self.launch(spec, run_id(uuid), labels, wait, log_info)

    def store_run(self, spec: RunSpec, id_: str, labels: list[str] | None = None) -> Run:
        """Store a run of this task (CREATED) that no launcher starts: for code that executes it itself, such as a
        module serving itself (``digitalhub_runtime_python.serve``)."""
        spec.task = self.key
        entity = RunModel(project=self.project, name=id_, id=id_, spec=spec, metadata=Metadata(labels=labels or []))
        return Run(self._backend.store.create(self._backend.claim(entity)), self._backend)

    def launch(
        self, spec: RunSpec, id_: str, labels: list[str] | None = None, wait: bool = False, log_info: bool = True
    ) -> Run:
        """Store a run of this task with a validated ``spec`` and launch it."""
        launcher = self._backend.launcher(self.action, spec.local_execution)
        run = self.store_run(spec, id_, labels)
        launcher.launch(run)
        run.refresh()
        return run.wait(log_info=log_info) if wait else run
