"""How a function image is built, from ``DIGITALHUB_BUILD_*`` variables (a shell locally, the operator in a pod)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from digitalhub_runtime_python.contract import RUNTIME_IMAGE
from digitalhub_runtime_python.extras import DISTRIBUTION, EXTRAS

PREFIX = "DIGITALHUB_BUILD_"
CodeMode = Literal["copy", "fetch"]
DEFAULT_EXTRAS = ("data", "s3", "kubernetes", "serve")
"""The runtime's extras an image gets: those of the runtime images, so a function image runs what they run."""


class BuildSettingsError(ValueError):
    """A ``DIGITALHUB_BUILD_*`` variable with a value builds cannot use; the message names it and the fix."""


@dataclass(frozen=True)
class BuildSettings:
    """What a build takes from its environment rather than from the function."""

    base_image: str = RUNTIME_IMAGE
    """FROM of functions without ``base_image``; ``{python}`` becomes their Python version, e.g. 3.11."""
    registry: str = "localhost"
    """Where images go: ``<registry>/<project>-<function>:<function id>`` (a local engine keeps them)."""
    image: str | None = None
    """The reference to build as, instead of the one made from ``registry`` (the operator sets it)."""
    code: CodeMode = "copy"
    """``copy``: the function's code goes into the image; ``fetch``: runs fetch it at start, as without an image."""
    runtime_extras: tuple[str, ...] = DEFAULT_EXTRAS
    runtime: str | None = None
    """The runtime's requirement, instead of ``digitalhub-runtime-python[<extras>]==<this version>``."""
    network: str | None = None
    """Local engine: the network of build steps (e.g. ``host``); the engine's default when unset."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> BuildSettings:
        """The settings ``environ`` gives; BuildSettingsError naming the variable when a value is not usable."""
        raw = environ.get(PREFIX + "CODE") or "copy"
        if raw not in ("copy", "fetch"):
            raise BuildSettingsError(f"{PREFIX}CODE={raw!r}: use copy (into the image) or fetch (at run start)")
        code: CodeMode = "fetch" if raw == "fetch" else "copy"
        extras = cls.runtime_extras
        if PREFIX + "RUNTIME_EXTRAS" in environ:
            extras = tuple(part.strip() for part in environ[PREFIX + "RUNTIME_EXTRAS"].split(",") if part.strip())
            unknown = sorted(set(extras) - set(EXTRAS))
            if unknown:
                raise BuildSettingsError(
                    f"{PREFIX}RUNTIME_EXTRAS: unknown extra {', '.join(unknown)}: use some of {', '.join(EXTRAS)}"
                )
        return cls(
            base_image=environ.get(PREFIX + "BASE_IMAGE") or cls.base_image,
            registry=environ.get(PREFIX + "REGISTRY") or cls.registry,
            image=environ.get(PREFIX + "IMAGE") or None,
            code=code,
            runtime_extras=extras,
            runtime=environ.get(PREFIX + "RUNTIME") or None,
            network=environ.get(PREFIX + "NETWORK") or None,
        )

    def runtime_requirement(self, version: str) -> str:
        """The runtime as the image installs it: this version, with ``runtime_extras``."""
        if self.runtime:
            return self.runtime
        extras = f"[{','.join(self.runtime_extras)}]" if self.runtime_extras else ""
        return f"{DISTRIBUTION}{extras}=={version}"

    def base_for(self, python: str) -> str:
        """The default base image for a Python version such as ``3.11``."""
        return self.base_image.replace("{python}", python)
