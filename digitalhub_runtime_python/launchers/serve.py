"""Serve runs on this machine: the serving entrypoint in a child process, ready once it says so.

The child is told a pipe (DIGITALHUB_SERVE_NOTIFY_FD) and writes ``ready <port>`` there once its init function
has succeeded and it listens, or ``error <cause>`` as soon as it knows it cannot serve (the run then ends in ERROR
with that cause); a child that exits without a word ends the run in ERROR with its last line of output. It binds port 0
(a free port, chosen without races) unless the task's envs set PORT or DIGITALHUB_SERVE_PORT. A function with
requirements starts with its environment's Python; the first run builds the environment, within ``start_timeout``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from digitalhub_runtime_python.contract import (
    ENV_PORT,
    ENV_RUN_LOG,
    ENV_SERVE_HOST,
    ENV_SERVE_JOB_STORE,
    ENV_SERVE_NOTIFY_FD,
    ENV_SERVE_PORT,
    ENV_SERVE_TLS_CERT,
    command,
    ready_port,
)
from digitalhub_runtime_python.entities.backend import Backend
from digitalhub_runtime_python.entities.run import Run
from digitalhub_runtime_python.launchers import supervision
from digitalhub_runtime_python.launchers.environments import run_python
from digitalhub_runtime_python.launchers.processes import identify, last_line, log_path, read_line, terminate
from digitalhub_runtime_python.models.redaction import mask
from digitalhub_runtime_python.models.run import Run as RunModel
from digitalhub_runtime_python.models.run import ServiceInfo
from digitalhub_runtime_python.models.states import IllegalTransition, State
from digitalhub_runtime_python.models.task import Action, Task

LOCAL_HOST = "127.0.0.1"


class LocalServeLauncher:
    """Starts, stops and resumes local serve runs; ``launch`` and ``resume`` return once the server is ready.

    The local session launcher is this one with another entrypoint, environment and end of start.
    """

    action = Action.SERVE
    notify_variable = ENV_SERVE_NOTIFY_FD

    def __init__(self, backend: Backend, start_timeout: float = 120.0, stop_grace: float = 35.0):
        self.backend = backend
        self.start_timeout, self.stop_grace = start_timeout, stop_grace

    def launch(self, run: Run) -> None:
        self._start(run)

    def resume(self, run: Run) -> None:
        self._start(run)

    def _environment(self, run: Run, task: Task) -> dict[str, str]:
        """The server's variables (on top of this process's and the backend's settings)."""
        envs = {env.name: env.value for env in task.spec.envs}
        if task.spec.job_store is not None:  # its password comes from this process's environment: no Secrets here
            envs[ENV_SERVE_JOB_STORE] = task.spec.job_store.url
        port = envs.get(ENV_SERVE_PORT) or envs.get(ENV_PORT) or "0"
        return {**envs, ENV_SERVE_HOST: LOCAL_HOST, ENV_SERVE_PORT: port}

    def _url(self, envs: dict[str, str], port: str) -> str:
        return f"{'https' if envs.get(ENV_SERVE_TLS_CERT) else 'http'}://{LOCAL_HOST}:{port}"

    def _serving(self, run: Run, url: str, process: subprocess.Popen, envs: dict[str, str]) -> None:
        """The server is ready at ``url``: record the run RUNNING (IllegalTransition if it was stopped meanwhile)."""
        self.backend.store.transition(
            run.key, State.RUNNING, f"serving at {url}", service=ServiceInfo(url=url, replicas=1, available_replicas=1)
        )

    def _start(self, run: Run) -> None:
        store = self.backend.store
        task = store.get_as(Task, run.spec.task)
        envs = self._environment(run, task)
        log = log_path(self.backend, run.id)
        read_fd, write_fd = os.pipe()
        env = {
            **os.environ,
            **envs,
            **self.backend.settings.environ(),
            self.notify_variable: str(write_fd),
            ENV_RUN_LOG: str(log),
        }
        try:
            try:
                with open(log, "ab") as out:
                    process = subprocess.Popen(
                        command(self.action, run.key, run_python(self.backend, run, env) or sys.executable),
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                        pass_fds=(write_fd,),
                    )
            finally:
                os.close(write_fd)  # only the child holds it now: end of file on the pipe means the child is gone
            supervision.watch(run.key, process)
            identity = identify(process.pid)
            try:
                store.transition(run.key, State.READY, f"server process {process.pid} starting", process=identity)
                line = read_line(read_fd, self.start_timeout)
            except BaseException:
                terminate(identity, process, 5.0)
                raise
        finally:
            os.close(read_fd)
        port = ready_port(line)
        if port is None:
            terminate(identity, process, 5.0)  # it failed, or exits anyway: end of file on the pipe
            supervision.forget(run.key)
            self._fail(run.key, _start_failure(line, self.start_timeout, process.returncode, log))
            return
        try:
            self._serving(run, self._url(envs, port), process, envs)
        except IllegalTransition:  # stopped meanwhile
            terminate(identity, process, self.stop_grace)
            return
        threading.Thread(target=self._reap, args=(run, process), daemon=True).start()

    def _fail(self, run_key: str, message: str) -> None:
        try:
            self.backend.store.transition(run_key, State.ERROR, mask(message), process=None)
        except IllegalTransition:
            pass

    def _reap(self, run: Run, process: subprocess.Popen) -> None:
        """A server that exits while serving: STOPPED after a clean shutdown (SIGTERM from elsewhere), else ERROR."""
        code = process.wait()
        if self.backend.store.get_run(run.key).status.state == State.RUNNING:
            if code == 0:
                try:
                    self.backend.store.transition(run.key, State.STOPPED, "server process shut down", process=None)
                except IllegalTransition:
                    pass
            else:
                supervision.end_unreported(self.backend, run.key, code)
        supervision.forget(run.key)

    def stop(self, run: Run) -> None:
        """SIGTERM the server (it drains in-flight requests), SIGKILL after ``stop_grace`` seconds; run STOPPED."""
        if supervision.stop_process(self.backend, run.entity, self.stop_grace):
            supervision.forget(run.key)
            self.backend.store.update_run(run.key, _stopped_service)


def _start_failure(line: str | None, timeout: float, code: int | None, log: Path) -> str:
    """Why a server did not start: the cause it reported, else how it ended and its last line of output."""
    if line is None:
        return f"server process was not ready within {timeout:g} s: {last_line(log)}"
    if line.startswith("error "):
        return line.removeprefix("error ")
    return f"server process exited with code {code} before serving: {last_line(log)}"


def _stopped_service(run: RunModel) -> RunModel:
    run.status.process = None
    if run.status.service is not None:
        run.status.service.available_replicas = 0
    return run
