"""A function as an object: run it as a job, a service or an image build."""

from __future__ import annotations

from typing import Any, Self

from digitalhub_runtime_python.builds.dockerfile import BuildError, check_instructions
from digitalhub_runtime_python.entities.base import EntityObject
from digitalhub_runtime_python.entities.compat import either, refuse
from digitalhub_runtime_python.entities.run import Run
from digitalhub_runtime_python.entities.task import Task, run_id, run_spec
from digitalhub_runtime_python.models.errors import SpecError, validate
from digitalhub_runtime_python.models.function import Function as FunctionModel
from digitalhub_runtime_python.models.states import is_final
from digitalhub_runtime_python.models.task import Action, TaskSpec, task_kind
from digitalhub_runtime_python.models.task import Task as TaskModel


class Function(EntityObject[FunctionModel]):
    """A versioned python function."""

    _build: str | None = None
    """The key of the last build run this object launched: ``refresh`` moves to the version it produced."""

    def refresh(self) -> Self:
        """Reload from the store; after a build launched from this object completed, move to the version it made
        (the one with the image), so later runs use the image."""
        if self._build is not None:
            status = self._backend.store.get_run(self._build).status
            if is_final(status.state):
                self._build = None
            if status.build is not None and status.build.function:
                self.entity = self._backend.store.get_as(FunctionModel, status.build.function)
                return self
        return super().refresh()

    def run(
        self,
        action: str = "job",
        wait: bool = False,
        log_info: bool = True,
        extensions: list[dict[str, Any]] | None = None,
        *,
        inputs: dict[str, str] | None = None,
        parameters: dict[str, Any] | None = None,
        outputs: dict[str, str] | None = None,
        init_parameters: dict[str, Any] | None = None,
        local_execution: bool | None = None,
        isolation: str = "inprocess",
        uuid: str | None = None,
        labels: list[str] | None = None,
        profile: str | None = None,
        parameter: dict[str, Any] | None = None,
        schedule: str | None = None,
        **task_fields: Any,
    ) -> Run:
        """Create a task and a run for ``action`` and launch it.

        ``task_fields`` are the task's knobs (resources, envs, secrets, volumes, replicas, ...).
        ``init_parameters`` (serve) are the options of the function's init function. ``wait``: return once the
        run ended (a serve run: once it serves). ``uuid`` is the run's id. ``parameter`` is another spelling of
        ``parameters`` (the one of DigitalHub's python runtime documentation).
        ``schedule`` (a job on Kubernetes: ``"0 3 * * *"``, ``"@daily"``) makes a run that stays RUNNING and
        executes the task as a new run each time the schedule fires (a CronJob), until it is stopped.
        On the embedded backend every run executes locally. In-process job runs are finished on return; local
        serve runs and sessions are serving (RUNNING) or failed (ERROR) on return; local builds are built (COMPLETED) or
        failed on return. After a build, ``refresh()`` moves this object to the version with the image, and so do
        job and serve runs started from it.
        """
        refuse("function run", profile=profile, extensions=extensions)
        parameters = either("function run", parameters=parameters, parameter=parameter)
        backend = self._backend
        local = bool(local_execution) or backend.settings.backend == "local"
        if schedule is not None and local:
            raise NotImplementedError(
                "schedule: scheduled runs need the kubernetes backend, whose operator runs them as CronJobs; "
                "on this machine, start the job from cron or a systemd timer (dhrun run ...) instead"
            )
        task_spec = validate(TaskSpec, {"function": self.key, "action": action, **task_fields}, "task spec")
        if task_spec.action == Action.BUILD:
            try:
                check_instructions(task_spec.instructions)
            except BuildError as exc:
                raise SpecError("task spec", [("instructions", str(exc))]) from None
        elif self._build is not None:  # a job or serve run after a build: of the version with the image
            task_spec.function = self.refresh().key
        spec = run_spec(
            self.key, task_spec.action, inputs, parameters, outputs, init_parameters, local, isolation, schedule
        )
        id_ = run_id(uuid)
        backend.launcher(Action(task_spec.action).value, local)  # all checked before anything is stored
        if not local:
            task_spec.function = spec.function = backend.publish_code(self).key
        task = Task(
            backend.store.create(
                TaskModel(
                    project=self.project,
                    name=f"{self.name}-{task_spec.action}",
                    kind=task_kind(task_spec.action),
                    spec=task_spec,
                )
            ),
            backend,
        )
        run = task.launch(spec, id_, labels, wait, log_info)
        if task_spec.action == Action.BUILD:
            self._build = run.key
        return run
