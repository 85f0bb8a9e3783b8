"""uvicorn, taught to drain: on SIGTERM readiness fails at once, the listener closes after ``drain_delay``,
in-flight requests get ``drain_timeout`` to finish, and new requests are refused meanwhile."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import FrameType

import uvicorn

from digitalhub_runtime_python.contract import notify_ready
from digitalhub_runtime_python.serving.drain import Gate


class DrainingServer(uvicorn.Server):
    """A uvicorn server that drains on SIGTERM/SIGINT and, once it is ready, tells the launcher (``notify_fd``) or
    calls ``on_ready(port)`` (in a worker thread)."""

    def __init__(
        self,
        config: uvicorn.Config,
        gate: Gate,
        *,
        drain_delay: float = 0.0,
        notify_fd: int | None = None,
        on_ready: Callable[[int], None] | None = None,
    ):
        super().__init__(config)
        self.gate = gate
        self.drain_delay, self.notify_fd, self.on_ready = drain_delay, notify_fd, on_ready
        self._exit_at: float | None = None
        self.failed = False
        self._notifier: asyncio.Task | None = None  # held so the task is not garbage-collected while it waits

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.gate.draining or not self.drain_delay:
            self.gate.drain()
            super().handle_exit(sig, frame)
            return
        self.gate.drain()  # /readyz fails now; the listener stays open while load balancers catch up
        self._captured_signals.append(sig)
        self._exit_at = time.monotonic() + self.drain_delay

    def fail(self) -> None:
        """Stop serving because the service cannot work (its init failed); the process then exits 1."""
        self.failed = True
        self.should_exit = True

    async def on_tick(self, counter: int) -> bool:
        if self._exit_at is not None and time.monotonic() >= self._exit_at:
            self.should_exit = True
        return await super().on_tick(counter)

    async def startup(self, sockets: list | None = None) -> None:
        await super().startup(sockets)
        if self.started and (self.notify_fd is not None or self.on_ready is not None):
            self._notifier = asyncio.get_running_loop().create_task(self._notify_when_ready())

    async def _notify_when_ready(self) -> None:
        """Once the app is ready, hand the bound port to ``on_ready``, and write it to ``notify_fd`` and close it."""
        await self.gate.ready.wait()
        port = self.servers[0].sockets[0].getsockname()[1] if self.servers else self.config.port
        if self.on_ready is not None:
            await asyncio.to_thread(self.on_ready, port)
        if self.notify_fd is None:
            return
        fd, self.notify_fd = self.notify_fd, None
        notify_ready(fd, port)
