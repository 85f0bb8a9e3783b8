"""The local builder: a Docker Engine API (Docker, or podman's compatible service) through the ``docker`` SDK.

Where the engine is comes from the usual variables (``DOCKER_HOST``, ``DOCKER_TLS_VERIFY``, ``DOCKER_CERT_PATH``),
e.g. ``DOCKER_HOST=unix:///run/podman/podman.sock`` for ``podman system service``. The image stays in the
engine, tagged with the build's reference.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from digitalhub_runtime_python.builds.context import BuildContext
from digitalhub_runtime_python.builds.results import log_tail
from digitalhub_runtime_python.extras import require

if TYPE_CHECKING:
    import docker

TIMEOUT = 3600.0
"""Seconds the engine may stay silent during a build (a long RUN step) before the build counts as lost."""


class BuildFailed(RuntimeError):
    """The builder could not make the image; the message says why, ending with the builder's last lines."""

    def __init__(self, message: str, log: str = ""):
        super().__init__(message)
        self.log = log


@dataclass(frozen=True)
class BuiltImage:
    """What a builder made: the image's digest (a local engine: its ID) and the builder's output."""

    digest: str
    log: str


class Builder(Protocol):
    """Builds the image a build context describes and tags or pushes it as the context's reference."""

    name: str

    def build(self, context: BuildContext, output: Callable[[str], None]) -> BuiltImage:
        """Build ``context``, passing the builder's output to ``output`` as it comes; BuildFailed otherwise."""
        ...


_STEP = re.compile(r"^step \d+/\d+ ?:", re.IGNORECASE)


def failed_step(log: str, lines: int = 20) -> str:
    """The end of a build's output from the last step it started (the one that failed): its line and output."""
    kept = log_tail(log, 10_000).splitlines()
    starts = [number for number, line in enumerate(kept) if _STEP.match(line)]
    return "\n".join(kept[starts[-1] if starts else 0 :][-lines:])


def _failure(reason: str, log: str) -> BuildFailed:
    tail = failed_step(log)
    return BuildFailed(f"the image build failed: {reason.strip()}" + (f"\n{tail}" if tail else ""), log)


class DockerEngineBuilder:
    """Builds through the Docker Engine API, ``network`` (e.g. ``host``) for build steps when given."""

    name = "docker"

    def __init__(self, network: str | None = None, client: docker.DockerClient | None = None):
        self.network = network
        self._client = client

    def _connect(self) -> docker.DockerClient:
        if self._client is not None:
            return self._client
        require("build")
        import docker

        try:
            return docker.from_env(timeout=int(TIMEOUT))
        except docker.errors.DockerException as exc:
            where = os.environ.get("DOCKER_HOST") or "the default socket"
            raise BuildFailed(
                f"cannot reach a Docker engine at {where} ({exc}): start Docker, or point DOCKER_HOST at one "
                "(podman: podman system service unix:///run/podman/podman.sock)"
            ) from None

    def build(self, context: BuildContext, output: Callable[[str], None]) -> BuiltImage:
        client = self._connect()
        import docker  # installed: the client is there

        log: list[str] = []
        image_id = error = None
        options: dict[str, Any] = {"path": str(context.folder), "tag": context.image, "rm": True, "forcerm": True}
        if self.network:
            options["network_mode"] = self.network
        try:
            for chunk in client.api.build(decode=True, **options):
                text = chunk.get("stream") or chunk.get("status") or ""
                if text:
                    log.append(text)
                    output(text)
                if "error" in chunk:
                    error = str(chunk.get("errorDetail", {}).get("message") or chunk["error"])
                image_id = (chunk.get("aux") or {}).get("ID") or image_id
        except docker.errors.DockerException as exc:  # the connection broke, or the engine refused the request
            raise _failure(str(exc), "".join(log)) from None
        finally:
            if self._client is None:
                client.close()
        text = "".join(log)
        if error is not None:
            raise _failure(error, text)
        if image_id is None:
            raise _failure("the engine reported no image ID", text)
        return BuiltImage(digest=image_id, log=text)
