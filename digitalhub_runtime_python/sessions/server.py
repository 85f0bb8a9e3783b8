"""uvicorn for a session: tells the launcher once it listens (``ready <port>`` on the notify pipe), and stops when
the session is destroyed or idle, saying why."""

from __future__ import annotations

import uvicorn

from digitalhub_runtime_python.contract import notify_ready


class SessionServer(uvicorn.Server):
    """A uvicorn server that writes its port to ``notify_fd`` once started and can be ended with a reason."""

    def __init__(self, config: uvicorn.Config, notify_fd: int | None = None):
        super().__init__(config)
        self.notify_fd = notify_fd
        self.reason: str | None = None  # why the session ended, when it ended by itself

    def end(self, reason: str) -> None:
        """Stop serving (in-flight requests are answered first); ``reason`` goes into the run's record."""
        if self.reason is None:
            self.reason = reason
        self.should_exit = True

    async def startup(self, sockets: list | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.notify_fd is not None:
            fd, self.notify_fd = self.notify_fd, None
            notify_ready(fd, self.servers[0].sockets[0].getsockname()[1] if self.servers else self.config.port)
