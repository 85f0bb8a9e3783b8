"""One execution in a session (a ``runId``): its console, whether it finished or waits for input, and its result.

The result a client gets is ``{"runId", "status", "exitCode", "console", "options"}``: ``status`` is
``finished`` (``exitCode`` 0, or non-zero when the code raised, a batch command failed or the kernel died),
``continued`` (more output will come: ask again with mode ``continued``) or ``waiting-input`` (``options`` holds
the ``prompt`` and ``is_password``: answer with mode ``input``). ``console`` holds the records produced since the
previous result of the same execution.
"""

from __future__ import annotations

import asyncio
import uuid
from enum import Enum
from typing import Any

from digitalhub_runtime_python.sessions.records import Console


class Status(str, Enum):
    FINISHED = "finished"
    CONTINUED = "continued"
    WAITING_INPUT = "waiting-input"


class Execution:
    """The state of one execution, changed by the kernel's messages or a batch's processes, read by requests."""

    def __init__(self, run_id: str | None = None):
        self.run_id = run_id or uuid.uuid4().hex
        self.console = Console()
        self.exit_code: int | None = None  # set once it finished
        self.options: dict[str, Any] = {}
        self.prompt: dict[str, Any] | None = None
        self._settled = asyncio.Event()  # set while finished or waiting for input

    def output(self, kind: str, data: str) -> None:
        self.console.add(kind, data)

    def ask(self, prompt: str, password: bool) -> None:
        """The code asked for a line of input (``password``: with getpass)."""
        self.prompt = {"prompt": prompt, "is_password": password}
        self._settled.set()

    def answered(self) -> None:
        self.prompt = None
        if not self.finished:
            self._settled.clear()

    def finish(self, exit_code: int, **options: Any) -> None:
        """Record the end; ``options`` say more about it (``error`` of the code, ``kernel`` restarted)."""
        if self.finished:
            return
        self.exit_code, self.prompt = exit_code, None
        self.options.update(options)
        self._settled.set()

    @property
    def finished(self) -> bool:
        return self.exit_code is not None

    @property
    def waiting(self) -> bool:
        return self.prompt is not None

    async def settle(self, wait: float) -> None:
        """Return once finished or waiting for input, or after ``wait`` seconds."""
        if self._settled.is_set():
            return
        try:
            await asyncio.wait_for(self._settled.wait(), wait)
        except TimeoutError:
            pass

    def result(self) -> dict[str, Any]:
        """What the client gets now; the console's records are handed over once."""
        if self.finished:
            status, options = Status.FINISHED, dict(self.options)
        elif self.prompt is not None:
            status, options = Status.WAITING_INPUT, dict(self.prompt)
        else:
            status, options = Status.CONTINUED, {}
        return {
            "runId": self.run_id,
            "status": status.value,
            "exitCode": self.exit_code,
            "console": self.console.take(),
            "options": options,
        }
