"""A real ``redis-server`` (Debian's package) on a free loopback port, persisting to a temporary folder.

Append-only file with ``appendfsync always``, so a stop and start loses nothing that was acknowledged; the
password comes from the test, the way a Secret would give it to a pod.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

PASSWORD = "t3st-redis-passw0rd"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """``start()``/``stop()`` (also across a restart, on the same port and data); ``url`` carries no password."""

    def __init__(self, folder: Path, password: str = PASSWORD):
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run .ci/system-packages (Debian package redis-server)")
        self.binary, self.folder, self.password = binary, folder, password
        folder.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        """Start (or restart) the server and wait until it answers PING."""
        config = self.folder / "redis.conf"
        config.write_text(
            "\n".join(
                [
                    "bind 127.0.0.1",
                    f"port {self.port}",
                    f"dir {self.folder}",
                    "daemonize no",
                    'save ""',
                    "appendonly yes",
                    "appendfsync always",
                    f"requirepass {self.password}",
                    f"logfile {self.folder / 'redis.log'}",
                ]
            )
            + "\n"
        )
        self.process = subprocess.Popen([self.binary, str(config)], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (self.folder / "redis.log").read_text(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}:\n{log}")
            time.sleep(0.02)

    def answers(self) -> bool:
        """True when the server answers an authenticated PING."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(f"AUTH {self.password}\r\nPING\r\n".encode())
                reply = b""
                while reply.count(b"\r\n") < 2:
                    chunk = sock.recv(256)
                    if not chunk:
                        return False
                    reply += chunk
                return reply.endswith(b"+PONG\r\n")
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM (redis-server flushes its append-only file) and wait."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
