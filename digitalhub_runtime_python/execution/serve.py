"""Serve runs on this machine: the serving entrypoint in a child process, ready once it says so.

The child is told a pipe (DIGITALHUB_SERVE_NOTIFY_FD) and writes ``ready <port>`` there once its init function
has succeeded and it listens; if it exits first, its log says why and the run ends in ERROR. It binds port 0
(a free port, chosen without races) unless the task's envs set PORT or DIGITALHUB_SERVE_PORT.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

from ..entities import Client, Run
from ..models import IllegalTransition, ServiceInfo, State
from .local import stop_process, terminate

ENTRYPOINT = "digitalhub_runtime_python.serving"
LOCAL_HOST = "127.0.0.1"


def serve_command(run_key: str) -> list[str]:
    """The command a pod or a child process runs to serve ``run_key``."""
    return [sys.executable, "-m", ENTRYPOINT, "--run", run_key]


def read_line(fd: int, timeout: float) -> str | None:
    """The first line written to ``fd``; what came before end of file (often ``""``); None after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    data = b""
    while b"\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            return None
        chunk = os.read(fd, 256)
        if not chunk:
            return data.decode()
        data += chunk
    return data.split(b"\n", 1)[0].decode()


class LocalServeLauncher:
    """Starts, stops and resumes local serve runs; ``launch`` and ``resume`` return once the server is ready."""

    def __init__(self, client: Client, start_timeout: float = 120.0, stop_grace: float = 35.0):
        self.client = client
        self.start_timeout, self.stop_grace = start_timeout, stop_grace
        self._processes: dict[str, subprocess.Popen] = {}

    def launch(self, run: Run) -> None:
        self._start(run)

    def resume(self, run: Run) -> None:
        self._start(run)

    def _start(self, run: Run) -> None:
        store = self.client.store
        task = store.get_key(run.spec.task)
        envs = {env.name: env.value for env in task.spec.envs}
        port = envs.get("DIGITALHUB_SERVE_PORT") or envs.get("PORT") or "0"
        scheme = "https" if envs.get("DIGITALHUB_SERVE_TLS_CERT") else "http"
        log_dir = self.client.settings.home / "processes"
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / f"{run.id}.log"
        read_fd, write_fd = os.pipe()
        env = {
            **os.environ,
            **envs,
            **self.client.settings.environ(),
            "DIGITALHUB_SERVE_HOST": LOCAL_HOST,
            "DIGITALHUB_SERVE_PORT": port,
            "DIGITALHUB_SERVE_NOTIFY_FD": str(write_fd),
        }
        try:
            try:
                with open(log_path, "ab") as log:
                    process = subprocess.Popen(
                        serve_command(run.key),
                        env=env,
                        stdout=log,
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
            self._fail(run.key, f"server process {why} (code {process.returncode}): {_tail(log_path)}")
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
        threading.Thread(target=self._reap, args=(run.key, process, log_path), daemon=True).start()

    def _fail(self, run_key: str, message: str) -> None:
        try:
            self.client.store.transition(run_key, State.ERROR, message, pid=None)
        except IllegalTransition:
            pass

    def _reap(self, run_key: str, process: subprocess.Popen, log_path: Path) -> None:
        """A server that exits while serving: STOPPED after a clean shutdown (SIGTERM from elsewhere), else ERROR."""
        code = process.wait()
        self._processes.pop(run_key, None)
        if self.client.store.get_key(run_key).status.state != State.RUNNING:
            return
        if code == 0:
            try:
                self.client.store.transition(run_key, State.STOPPED, "server process shut down", pid=None)
            except IllegalTransition:
                pass
        else:
            self._fail(run_key, f"server process exited with code {code}: {_tail(log_path)}")

    def stop(self, run: Run) -> None:
        """SIGTERM the server (it drains in-flight requests), SIGKILL after ``stop_grace`` seconds; run STOPPED."""
        if stop_process(self.client, run, self._processes.get(run.key), self.stop_grace):
            self._processes.pop(run.key, None)
            self.client.store.update(run.key, _stopped_service)


def _stopped_service(run: Run) -> Run:
    run.status.pid = None
    if run.status.service is not None:
        run.status.service.available_replicas = 0
    return run


def _tail(log_path: Path, size: int = 2000) -> str:
    return log_path.read_text(errors="replace")[-size:].strip() or "(no output)"
