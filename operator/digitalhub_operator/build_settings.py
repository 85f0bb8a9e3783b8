"""How the operator builds function images, from ``DIGITALHUB_OPERATOR_BUILD_*`` variables (chart: ``build``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

PREFIX = "DIGITALHUB_OPERATOR_BUILD_"
EXECUTORS = {
    # Kaniko's maintained fork: upstream GoogleContainerTools/kaniko is archived (June 2025); osscontainertools
    # continues its releases (fixes, dependency and security updates) and publishes images on ghcr.io.
    "kaniko": "ghcr.io/osscontainertools/kaniko:v1.27.6",
    # BuildKit in rootless mode (uid 1000, no privileges; seccomp and AppArmor unconfined for its user namespace).
    "buildkit": "docker.io/moby/buildkit:v0.30.0-rootless",
}
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_REFERENCE = re.compile(r"^[^\s/][^\s]*$")


class BuildSettingsError(ValueError):
    """A build variable with a value the operator cannot use; the message names it and the fix."""


@dataclass(frozen=True)
class BuildSettings:
    """Where build runs push their images and what builds them; every field but ``registry`` has a default."""

    registry: str | None = None
    """Images go to ``<registry>/<project>-<function>:<function id>``, e.g. ``registry.example.com/digitalhub``."""
    builder: str = "kaniko"
    """``kaniko`` (root in its container, no privileges) or ``buildkit`` (rootless)."""
    executor_image: str | None = None
    """The builder's image; None: the maintained default of ``builder`` (see EXECUTORS)."""
    registry_secret: str | None = None
    """A ``kubernetes.io/dockerconfigjson`` Secret the builder pushes (and pulls) with, mounted as a file."""
    cache_repo: str | None = None
    """A repository for the builder's layer cache (e.g. ``registry.example.com/digitalhub/cache``)."""
    code: str = "copy"
    """``copy``: a function's code goes into its image; ``fetch``: its runs fetch it at start."""

    @property
    def image(self) -> str:
        return self.executor_image or EXECUTORS[self.builder]

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> BuildSettings:
        """The settings ``env`` gives; BuildSettingsError naming the variable when a value is not usable."""
        builder = env.get(PREFIX + "BUILDER") or cls.builder
        if builder not in EXECUTORS:
            raise BuildSettingsError(f"{PREFIX}BUILDER={builder!r}: use {' or '.join(EXECUTORS)}")
        code = env.get(PREFIX + "CODE") or cls.code
        if code not in ("copy", "fetch"):
            raise BuildSettingsError(f"{PREFIX}CODE={code!r}: use copy (into the image) or fetch (at run start)")
        secret = env.get(PREFIX + "REGISTRY_SECRET") or None
        if secret is not None and not _NAME.match(secret):
            raise BuildSettingsError(f"{PREFIX}REGISTRY_SECRET={secret!r} is not a Secret name")
        for name in ("REGISTRY", "EXECUTOR_IMAGE", "CACHE_REPO"):
            value = env.get(PREFIX + name)
            if value and not _REFERENCE.match(value):
                raise BuildSettingsError(f"{PREFIX}{name}={value!r}: give an image repository, without spaces")
        return cls(
            registry=(env.get(PREFIX + "REGISTRY") or "").rstrip("/") or None,
            builder=builder,
            executor_image=env.get(PREFIX + "EXECUTOR_IMAGE") or None,
            registry_secret=secret,
            cache_repo=env.get(PREFIX + "CACHE_REPO") or None,
            code=code,
        )
