"""A function as an object: run it as a job, a service or an image build."""

from __future__ import annotations

from typing import Any

from digitalhub_runtime_python.entities.base import EntityObject
from digitalhub_runtime_python.entities.compat import either, refuse
from digitalhub_runtime_python.entities.run import Run
from digitalhub_runtime_python.entities.task import Task, run_id, run_spec
from digitalhub_runtime_python.models.errors import validate
from digitalhub_runtime_python.models.function import Function as FunctionModel
from digitalhub_runtime_python.models.task import Action, TaskSpec, task_kind
from digitalhub_runtime_python.models.task import Task as TaskModel


class Function(EntityObject[FunctionModel]):
    """A versioned python function."""

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
        serve runs and sessions are serving (RUNNING) or failed (ERROR) on return.
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
        return task.launch(spec, id_, labels, wait, log_info)
