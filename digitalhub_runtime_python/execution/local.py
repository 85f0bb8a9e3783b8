"""Launch job runs on this machine: in the calling process, or in a child running the pod's entrypoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..entities import Client, Project, Run
from ..models import IllegalTransition, State, is_final
from ..models import Project as ProjectModel
from ..models import Run as RunModel
from .job import execute_run

ENTRYPOINT = "digitalhub_runtime_python.runner"


def runner_command(run_key: str, python: str = sys.executable) -> list[str]:
    """The command a pod (``python="python"``) or a child process runs to execute ``run_key``."""
    return [python, "-m", ENTRYPOINT, "--run", run_key]


@contextmanager
def patched_environ(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of the block, then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def terminate(pid: int, process: subprocess.Popen | None, grace: float) -> None:
    """SIGTERM the process group, then SIGKILL it if it has not exited after ``grace`` seconds."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if process is not None:
        try:
            process.wait(grace)
            return
        except subprocess.TimeoutExpired:
            pass
    else:  # started by another process: it cannot be waited for, only watched
        deadline, delay = time.monotonic() + grace, 0.01
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(delay)
            delay = min(delay * 2, 0.25)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    if process is not None:
        process.wait()  # reap it, so it is gone when stop() returns


def stop_process(client: Client, run: Run, process: subprocess.Popen | None, grace: float) -> bool:
    """Mark the run STOPPED and terminate its process; False (nothing done) if the run had already finished."""
    try:
        client.store.transition(run.key, State.STOPPED, "stopped by user")
    except IllegalTransition:
        return False
    if run.status.pid:
        terminate(run.status.pid, process, grace)
    return True


class LocalJobLauncher:
    """Runs jobs here. In-process runs finish before ``launch`` returns; subprocess runs go on in the background."""

    def __init__(self, client: Client, stop_grace: float = 10.0):
        self.client = client
        self.stop_grace = stop_grace
        self._processes: dict[str, subprocess.Popen] = {}

    def _envs(self, run: Run) -> dict[str, str]:
        task = self.client.store.get_key(run.spec.task)
        return {env.name: env.value for env in task.spec.envs}

    def launch(self, run: Run) -> None:
        envs = self._envs(run)
        if run.spec.isolation == "subprocess":
            self._spawn(run, envs)
            return
        project = Project(self.client.store.get(ProjectModel, run.project, run.project), self.client)
        with patched_environ(envs):
            execute_run(project, run.key)

    def _spawn(self, run: Run, envs: dict[str, str]) -> None:
        log_dir = self.client.settings.home / "processes"
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / f"{run.id}.log"
        env = {**os.environ, **envs, **self.client.settings.environ()}
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                runner_command(run.key), env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._processes[run.key] = process
        self.client.store.update(run.key, lambda entity: _with_pid(entity, process.pid))
        threading.Thread(target=self._reap, args=(run.key, process, log_path), daemon=True).start()

    def _reap(self, run_key: str, process: subprocess.Popen, log_path: Path) -> None:
        """If the child died without finishing its run (killed, crashed), put the run in ERROR."""
        code = process.wait()
        self._processes.pop(run_key, None)
        if is_final(self.client.store.get_key(run_key).status.state):
            return
        tail = log_path.read_text(errors="replace")[-2000:]
        try:
            self.client.store.transition(
                run_key, State.ERROR, f"runner process exited with code {code} before finishing: {tail}"
            )
        except IllegalTransition:
            pass

    def stop(self, run: Run) -> None:
        stop_process(self.client, run, self._processes.get(run.key), self.stop_grace)


def _with_pid(run: RunModel, pid: int) -> RunModel:
    run.status.pid = pid
    return run
