"""A function as an object: run it as a job, a service or an image build."""

from __future__ import annotations

from typing import Any

from digitalhub_runtime_python.entities.base import EntityObject
from digitalhub_runtime_python.entities.run import Run
from digitalhub_runtime_python.models.base import new_id
from digitalhub_runtime_python.models.errors import validate
from digitalhub_runtime_python.models.function import Function as FunctionModel
from digitalhub_runtime_python.models.run import Run as RunModel
from digitalhub_runtime_python.models.run import RunSpec
from digitalhub_runtime_python.models.task import Action, Task, TaskSpec, task_kind


class Function(EntityObject[FunctionModel]):
    """A versioned python function."""

    def run(
        self,
        action: str = "job",
        *,
        inputs: dict[str, str] | None = None,
        parameters: dict[str, Any] | None = None,
        outputs: dict[str, str] | None = None,
        init_parameters: dict[str, Any] | None = None,
        local_execution: bool | None = None,
        isolation: str = "inprocess",
        schedule: str | None = None,
        **task_fields: Any,
    ) -> Run:
        """Create a task and a run for ``action`` and launch it.

        ``task_fields`` are the task's knobs (resources, envs, secrets, volumes, replicas, ...).
        ``init_parameters`` (serve) are the options of the function's init function.
        ``schedule`` (a job on Kubernetes: ``"0 3 * * *"``, ``"@daily"``) makes a run that stays RUNNING and
        executes the task as a new run each time the schedule fires (a CronJob), until it is stopped.
        On the embedded backend every run executes locally. In-process job runs are finished on return; local
        serve runs are serving (RUNNING) or failed (ERROR) on return.
        """
        backend = self._backend
        local = bool(local_execution) or backend.settings.backend == "local"
        if schedule is not None and local:
            raise NotImplementedError(
                "schedule: scheduled runs need the kubernetes backend, whose operator runs them as CronJobs; "
                "on this machine, start the job from cron or a systemd timer (dhrun run ...) instead"
            )
        task_spec = validate(TaskSpec, {"function": self.key, "action": action, **task_fields}, "task spec")
        run_spec = validate(
            RunSpec,
            {
                "task": "",
                "function": self.key,
                "action": task_spec.action,
                "inputs": inputs or {},
                "parameters": parameters or {},
                "outputs": outputs or {},
                "init_parameters": init_parameters or {},
                "local_execution": local,
                "isolation": isolation,
                "schedule": schedule,
            },
            "run spec",
        )
        launcher = backend.launcher(Action(task_spec.action).value, local)
        if not local:
            task_spec.function = run_spec.function = backend.publish_code(self).key
        task = backend.store.create(
            Task(
                project=self.project,
                name=f"{self.name}-{task_spec.action}",
                kind=task_kind(task_spec.action),
                spec=task_spec,
            )
        )
        run_spec.task = task.key
        run_id = new_id()
        run = Run(backend.store.create(RunModel(project=self.project, name=run_id, id=run_id, spec=run_spec)), backend)
        launcher.launch(run)
        return run.refresh()
