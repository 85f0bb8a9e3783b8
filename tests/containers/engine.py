"""podman for the tests: its configuration, a command runner, a cache lock and the Docker-compatible API service.

podman reads ``containers.conf`` and ``storage.conf`` beside this module (through CONTAINERS_CONF and
CONTAINERS_STORAGE_CONF, set only for the commands started here); images live under :data:`CACHE`, outside the
repository, so they persist between test sessions and CI steps. Needs root and ``.ci/system-packages``.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from tests.waiting import wait_for

if TYPE_CHECKING:  # imported when a service is started: the base image needs no third-party package
    import docker

CONFIG = Path(__file__).resolve().parent
ROOT = CONFIG.parents[1]
"""The repository: the build context of images/."""
CACHE = Path.home() / ".cache" / "digitalhub-tests"
"""Per-user cache of the tests' images (podman storage, as in storage.conf) and wheels."""


class PodmanError(RuntimeError):
    """A podman command failed or podman cannot be used here; the message says what to do."""


def environment() -> dict[str, str]:
    """The process environment with podman pointed at the tests' configuration."""
    return {
        **os.environ,
        "CONTAINERS_CONF": str(CONFIG / "containers.conf"),
        "CONTAINERS_STORAGE_CONF": str(CONFIG / "storage.conf"),
    }


def check_podman() -> None:
    """Raise PodmanError unless podman can run here (installed, and we are root as these machines need)."""
    if shutil.which("podman") is None:
        raise PodmanError("podman is not installed: run `sudo .ci/system-packages` (or deselect: -m 'not container')")
    if os.geteuid() != 0:
        raise PodmanError("the container tests run podman as root: run them as root (or deselect: -m 'not container')")


def podman(*args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``podman ARGS`` with the tests' configuration; PodmanError with its output when it fails and ``check``."""
    result = subprocess.run(
        ["podman", *args], env=environment(), capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        output = (result.stdout + result.stderr).strip()[-4000:]
        raise PodmanError(f"podman {' '.join(args)} exited {result.returncode}:\n{output}")
    return result


def image_exists(name: str) -> bool:
    """Whether the tests' storage holds an image called ``name``."""
    return podman("image", "exists", name, check=False).returncode == 0


@contextmanager
def cache_lock(name: str) -> Iterator[None]:
    """Hold an exclusive lock on ``CACHE/name.lock``, so concurrent sessions prepare a cached thing once."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


class PodmanService:
    """``podman system service`` on a unix socket in ``folder``, and a ``docker`` SDK client connected to it."""

    def __init__(self, folder: Path, start_timeout: float = 60):
        self.socket = folder / "podman.sock"
        self.log = folder / "podman-service.log"
        self.start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._client: docker.DockerClient | None = None

    def __enter__(self) -> docker.DockerClient:
        check_podman()
        with open(self.log, "wb") as log:
            self._process = subprocess.Popen(
                ["podman", "system", "service", "--time=0", f"unix://{self.socket}"],
                env=environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            self._client = wait_for(self._connect, self.start_timeout, "podman system service to answer")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self._client

    def _connect(self) -> docker.DockerClient:
        import docker

        assert self._process is not None
        if self._process.poll() is not None:
            raise AssertionError(f"podman system service exited {self._process.returncode}: {self._log_tail()}")
        # "auto" asks the service for its API version: this fails until the service answers.
        return docker.DockerClient(base_url=f"unix://{self.socket}", version="auto", timeout=600)

    @property
    def docker_host(self) -> str:
        """The service's address as DOCKER_HOST (``docker.from_env()``) takes it."""
        return f"unix://{self.socket}"

    @property
    def client(self) -> docker.DockerClient:
        """The ``docker`` SDK client on the running service."""
        assert self._client is not None, "the service is not started"
        return self._client

    def _log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._client is not None:
            self._client.close()
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
