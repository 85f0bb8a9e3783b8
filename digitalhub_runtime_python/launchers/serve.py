"""Serve runs on this machine: the serving entrypoint in a child process, ready once it says so.

The child is told a pipe (DIGITALHUB_SERVE_NOTIFY_FD) and writes ``ready <port>`` there once its init function
has succeeded and it listens; if it exits first, its log says why and the run ends in ERROR. It binds port 0
(a free port, chosen without races) unless the task's envs set PORT or DIGITALHUB_SERVE_PORT. A function with
requirements starts with its environment's Python; the first run builds the environment, within ``start_timeout``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from digitalhub_runtime_python.contract import (
    ENV_PORT,
    ENV_SERVE_HOST,
    ENV_SERVE_JOB_STORE,
    ENV_SERVE_NOTIFY_FD,
    ENV_SERVE_PORT,
    ENV_SERVE_TLS_CERT,
    command,
)
from digitalhub_runtime_python.entities.backend import Backend
from digitalhub_runtime_python.entities.run import Run
from digitalhub_runtime_python.launchers.environments import run_python
from digitalhub_runtime_python.launchers.processes import log_path, read_line, stop_process, tail, terminate
from digitalhub_runtime_python.models.run import Run as RunModel
from digitalhub_runtime_python.models.run import ServiceInfo
from digitalhub_runtime_python.models.states import IllegalTransition, State
from digitalhub_runtime_python.models.task import Action, Task

LOCAL_HOST = "127.0.0.1"


class LocalServeLauncher:
    """Starts, stops and resumes local serve runs; ``launch`` and ``resume`` return once the server is ready."""

    def __init__(self, backend: Backend, start_timeout: float = 120.0, stop_grace: float = 35.0):
        self.backend = backend
        self.start_timeout, self.stop_grace = start_timeout, stop_grace
        self._processes: dict[str, subprocess.Popen] = {}

    def launch(self, run: Run) -> None:
        self._start(run)

    def resume(self, run: Run) -> None:
        self._start(run)

    def _start(self, run: Run) -> None:
        store = self.backend.store
        task = store.get_as(Task, run.spec.task)
        envs = {env.name: env.value for env in task.spec.envs}
        if task.spec.job_store is not None:  # its password comes from this process's environment: no Secrets here
            envs[ENV_SERVE_JOB_STORE] = task.spec.job_store.url
        port = envs.get(ENV_SERVE_PORT) or envs.get(ENV_PORT) or "0"
        scheme = "https" if envs.get(ENV_SERVE_TLS_CERT) else "http"
        log = log_path(self.backend, run.id)
        read_fd, write_fd = os.pipe()
        env = {
            **os.environ,
            **envs,
            **self.backend.settings.environ(),
            ENV_SERVE_HOST: LOCAL_HOST,
            ENV_SERVE_PORT: port,
            ENV_SERVE_NOTIFY_FD: str(write_fd),
        }
        try:
            try:
                with open(log, "ab") as out:
                    process = subprocess.Popen(
                        command(Action.SERVE, run.key, run_python(self.backend, run, env) or sys.executable),
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                        pass_fds=(write_fd,),
                    )
            finally:
                os.close(write_fd)  # only the child holds it now: end of file on the pipe means the child is gone
            self._processes[run.key] = process
            try:
                store.transition(run.key, State.READY, f"server process {process.pid} starting", pid=process.pid)
                line = read_line(read_fd, self.start_timeout)
            except BaseException:
                terminate(process.pid, process, 5.0)
                raise
        finally:
            os.close(read_fd)
        if line is None or not line.startswith("ready "):
            terminate(process.pid, process, 5.0)  # the pipe's end of file: it has exited, or is about to
            why = f"was not ready within {self.start_timeout:g} s" if line is None else "exited"
            self._fail(run.key, f"server process {why} (code {process.returncode}): {tail(log)}")
            return
        url = f"{scheme}://{LOCAL_HOST}:{line.split()[1]}"
        try:
            store.transition(
                run.key,
                State.RUNNING,
                f"serving at {url}",
                service=ServiceInfo(url=url, replicas=1, available_replicas=1),
            )
        except IllegalTransition:  # stopped meanwhile
            terminate(process.pid, process, self.stop_grace)
            return
        threading.Thread(target=self._reap, args=(run, process), daemon=True).start()

    def _fail(self, run_key: str, message: str) -> None:
        try:
            self.backend.store.transition(run_key, State.ERROR, message, pid=None)
        except IllegalTransition:
            pass

    def _reap(self, run: Run, process: subprocess.Popen) -> None:
        """A server that exits while serving: STOPPED after a clean shutdown (SIGTERM from elsewhere), else ERROR."""
        code = process.wait()
        self._processes.pop(run.key, None)
        if self.backend.store.get_run(run.key).status.state != State.RUNNING:
            return
        if code == 0:
            try:
                self.backend.store.transition(run.key, State.STOPPED, "server process shut down", pid=None)
            except IllegalTransition:
                pass
        else:
            self._fail(run.key, f"server process exited with code {code}: {tail(log_path(self.backend, run.id))}")

    def stop(self, run: Run) -> None:
        """SIGTERM the server (it drains in-flight requests), SIGKILL after ``stop_grace`` seconds; run STOPPED."""
        if stop_process(self.backend, run, self._processes.get(run.key), self.stop_grace):
            self._processes.pop(run.key, None)
            self.backend.store.update_run(run.key, _stopped_service)


def _stopped_service(run: RunModel) -> RunModel:
    run.status.pid = None
    if run.status.service is not None:
        run.status.service.available_replicas = 0
    return run
