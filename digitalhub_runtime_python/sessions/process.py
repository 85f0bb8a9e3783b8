"""An ipykernel process: started from a connection file written here, watched, interrupted and killed by signal.

The kernel listens on IPC sockets in a private folder (no TCP port: only this user can connect, and the messages
are signed with the connection file's key). Standard library only, so the session entrypoint can start the kernel
before it imports the rest of the runtime: the kernel boots meanwhile. jupyter_client then drives it
(sessions/kernel.py).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

KERNEL_OPTIONS = (
    "--HistoryManager.enabled=False",  # no SQLite history file written on every execution
    "--InteractiveShell.colors=nocolor",  # tracebacks as plain text
    # Latency of short executions: no flush of streams nothing was written to, no pause before each reply (the
    # driver waits for the idle status, which follows all output, rather than hoping output beats the reply).
    "--IPKernelApp.outstream_class=digitalhub_runtime_python.sessions.kernel_streams.LazyFlushStream",
    "--IPythonKernel._execute_sleep=0",
)
CHANNELS = ("shell", "iopub", "stdin", "control", "hb")
SESSION_VARIABLES = "DIGITALHUB_SESSION_"
"""``contract.ENV_SESSION_PREFIX``, spelled here to stay standard library only: the session server's own variables
(its token), never in a kernel's environment, not even the one it started with (``/proc/<pid>/environ``)."""


class KernelProcess:
    """``python -m ipykernel_launcher`` in its own process group, with ``env``; its folder holds its sockets."""

    def __init__(self, python: str, env: Mapping[str, str]):
        self.python = python
        self.started = time.monotonic()
        self.folder = Path(tempfile.mkdtemp(prefix="dh-kernel-"))  # short: IPC socket paths have a length limit
        self.connection: dict[str, Any] = {
            "transport": "ipc",
            "ip": str(self.folder / "kernel"),
            **{f"{channel}_port": number for number, channel in enumerate(CHANNELS, start=1)},
            "key": secrets.token_hex(32),
            "signature_scheme": "hmac-sha256",
            "kernel_name": "python3",
        }
        connection_file = self.folder / "kernel.json"
        fd = os.open(connection_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            json.dump(self.connection, file)
        self.process = subprocess.Popen(
            [python, "-m", "ipykernel_launcher", "-f", str(connection_file), *KERNEL_OPTIONS],
            env={
                "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # the kernel's debugger: no warning on every start
                **{name: value for name, value in env.items() if not name.startswith(SESSION_VARIABLES)},
                "JPY_PARENT_PID": str(os.getpid()),  # the kernel exits when this process dies
            },
            cwd=self.folder,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # an interrupt reaches what the code started too
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def poll(self) -> int | None:
        """The exit code (negative: the signal) once it exited, else None."""
        return self.process.poll()

    def interrupt(self) -> None:
        """SIGINT to the kernel's process group: the running code raises KeyboardInterrupt."""
        self._signal(signal.SIGINT)

    def kill(self) -> None:
        """SIGKILL the process group, reap the kernel and remove its folder."""
        self._signal(signal.SIGKILL)
        self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _signal(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass
