"""Launch job runs on this machine: in the calling process, or in a child running the pod's entrypoint."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from digitalhub_runtime_python.contract import ENV_RUN_LOG, command
from digitalhub_runtime_python.entities.backend import Backend
from digitalhub_runtime_python.entities.project import Project
from digitalhub_runtime_python.entities.run import Run
from digitalhub_runtime_python.execution.job import execute_run
from digitalhub_runtime_python.launchers import forks, supervision
from digitalhub_runtime_python.launchers.environments import run_python
from digitalhub_runtime_python.launchers.processes import Child, identify, log_path, patched_environ
from digitalhub_runtime_python.models.project import Project as ProjectModel
from digitalhub_runtime_python.models.run import ProcessInfo
from digitalhub_runtime_python.models.run import Run as RunModel
from digitalhub_runtime_python.models.states import is_final
from digitalhub_runtime_python.models.task import Action, Task


class LocalJobLauncher:
    """Runs jobs here. In-process runs finish before ``launch`` returns; subprocess runs go on in the background.

    Subprocess runs are forked from a fork server with the runtime imported (``fork=True``, where processes can
    fork), else started as ``python -m digitalhub_runtime_python.runner --run KEY``; each run is its own process.
    A run whose function needs an environment starts with that environment's Python (``launchers/environments.py``).
    """

    def __init__(self, backend: Backend, stop_grace: float = 10.0, fork: bool = True):
        self.backend = backend
        self.stop_grace = stop_grace
        self.fork = fork and forks.supported()

    def _envs(self, run: Run) -> dict[str, str]:
        task = self.backend.store.get_as(Task, run.spec.task)
        return {env.name: env.value for env in task.spec.envs}

    def launch(self, run: Run) -> None:
        envs = self._envs(run)
        if run.spec.isolation == "subprocess":
            self._spawn(run, envs)
            return
        store = self.backend.store
        project = Project(store.get(ProjectModel, run.project, run.project), self.backend)
        with patched_environ(envs):
            execute_run(project, run.key)

    def _spawn(self, run: Run, envs: dict[str, str]) -> None:
        log = log_path(self.backend, run.id)
        env = {**os.environ, **envs, **self.backend.settings.environ(), ENV_RUN_LOG: str(log)}
        process: Child
        python = run_python(self.backend, run, env)
        if self.fork and python is None:
            process = forks.fork_server().fork(run.key, env, log)
            started: float | None = process.started
        else:
            with open(log, "wb") as out:
                process = subprocess.Popen(
                    command(Action.JOB, run.key, python or sys.executable),
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            started = None
        supervision.watch(run.key, process)
        identity = identify(process.pid, started)
        self.backend.store.update_run(run.key, lambda entity: _with_process(entity, identity))
        threading.Thread(target=self._reap, args=(run.key, process), daemon=True).start()

    def _reap(self, run_key: str, process: Child) -> None:
        """If the child died without finishing its run (killed, crashed), put the run in ERROR."""
        code = process.wait()
        if not is_final(self.backend.store.get_run(run_key).status.state):
            supervision.end_unreported(self.backend, run_key, code)
        supervision.forget(run_key)

    def stop(self, run: Run) -> None:
        if run.spec.isolation != "subprocess":
            where = run.status.process.pid if run.status.process else "unknown"
            raise RuntimeError(
                f"run {run.id} executes in-process (in process {where}): a thread cannot be stopped from outside, so "
                "it runs on; wait for it or interrupt that process (Ctrl-C), and start runs you may need to stop "
                "with isolation='subprocess' (dhrun run --subprocess)"
            )
        supervision.stop_process(self.backend, run.entity, self.stop_grace)

    def resume(self, run: Run) -> None:
        raise NotImplementedError(f"run {run.id} is a job: jobs cannot be resumed, start a new run instead")


def _with_process(run: RunModel, process: ProcessInfo) -> RunModel:
    run.status.process = process
    return run
