"""Sessions on this machine: the session entrypoint in a child process, ready once its kernel answers.

Started like a local server (launchers/serve.py: a notify pipe, port 0 on loopback), with a fresh token in its
environment. Once it is ready the launcher writes the session's URL, token and pid to ``access.json`` in the
session's folder (readable by this user only), where the SDK of any process of this user finds them; the token is
never stored in the run. The session ends by itself (destroyed, or idle past the task's ``idle_timeout``) and records
the run STOPPED; ``stop`` ends it from outside.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess

from digitalhub_runtime_python.contract import (
    ENV_SESSION_HOST,
    ENV_SESSION_NOTIFY_FD,
    ENV_SESSION_PORT,
    ENV_SESSION_TOKEN,
)
from digitalhub_runtime_python.entities.backend import ACCESS_FILE
from digitalhub_runtime_python.entities.run import Run
from digitalhub_runtime_python.launchers.serve import LOCAL_HOST, LocalServeLauncher
from digitalhub_runtime_python.models.run import ServiceInfo
from digitalhub_runtime_python.models.states import State
from digitalhub_runtime_python.models.task import Action, Task


class LocalSessionLauncher(LocalServeLauncher):
    """Starts and stops local sessions; ``launch`` returns once the session answers (RUNNING) or failed (ERROR)."""

    action = Action.SESSION
    notify_variable = ENV_SESSION_NOTIFY_FD

    def resume(self, run: Run) -> None:
        raise NotImplementedError(f"session {run.id} has ended and its kernel with it: start a new session")

    def _environment(self, run: Run, task: Task) -> dict[str, str]:
        envs = {env.name: env.value for env in task.spec.envs}
        token = secrets.token_urlsafe(32)
        return {**envs, ENV_SESSION_HOST: LOCAL_HOST, ENV_SESSION_PORT: "0", ENV_SESSION_TOKEN: token}

    def _url(self, envs: dict[str, str], port: str) -> str:
        return f"http://{LOCAL_HOST}:{port}"

    def _serving(self, run: Run, url: str, process: subprocess.Popen, envs: dict[str, str]) -> None:
        """Write the access file, then record the run RUNNING: whoever sees it running can reach it."""
        folder = self.backend.session_folder(run.id)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        access = {"url": url, "token": envs[ENV_SESSION_TOKEN], "pid": process.pid}
        fd = os.open(folder / ACCESS_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            json.dump(access, file)
        self.backend.store.transition(
            run.key, State.RUNNING, f"session at {url}", service=ServiceInfo(url=url, replicas=1, available_replicas=1)
        )
