"""Configuration read from the environment, with defaults that need no setup."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Backend = Literal["local", "kubernetes"]
BACKENDS: tuple[Backend, ...] = ("local", "kubernetes")

ENV_BACKEND = "DIGITALHUB_BACKEND"
ENV_HOME = "DIGITALHUB_HOME"
ENV_NAMESPACE = "DIGITALHUB_NAMESPACE"


@dataclass(frozen=True)
class Settings:
    """Where entities live. ``DIGITALHUB_BACKEND`` picks the store, ``DIGITALHUB_HOME`` the local folder."""

    backend: Backend = "local"
    home: Path = field(default_factory=lambda: Path(".digitalhub"))
    namespace: str | None = None

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        backend = overrides.pop("backend", None) or os.environ.get(ENV_BACKEND, "local")
        if backend not in BACKENDS:
            raise ValueError(f"{ENV_BACKEND}={backend!r} is not a backend: use 'local' or 'kubernetes'")
        home = overrides.pop("home", None) or os.environ.get(ENV_HOME, ".digitalhub")
        namespace = overrides.pop("namespace", None) or os.environ.get(ENV_NAMESPACE)
        if overrides:
            raise TypeError(f"unknown settings: {', '.join(overrides)}")
        return cls(
            backend=backend,
            home=Path(str(home)).expanduser().resolve(),
            namespace=str(namespace) if namespace else None,
        )

    def environ(self) -> dict[str, str]:
        """The variables that recreate these settings in a child process."""
        env = {ENV_BACKEND: self.backend, ENV_HOME: str(self.home)}
        if self.namespace:
            env[ENV_NAMESPACE] = self.namespace
        return env
