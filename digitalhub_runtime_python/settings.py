"""Configuration read from the environment, with defaults that need no setup."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Backend = Literal["local", "kubernetes"]


@dataclass(frozen=True)
class Settings:
    """Where entities live. ``DIGITALHUB_BACKEND`` picks the store, ``DIGITALHUB_HOME`` the local folder."""

    backend: Backend = "local"
    home: Path = field(default_factory=lambda: Path(".digitalhub"))
    namespace: str | None = None

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        backend = overrides.pop("backend", None) or os.environ.get("DIGITALHUB_BACKEND", "local")
        if backend not in ("local", "kubernetes"):
            raise ValueError(f"DIGITALHUB_BACKEND={backend!r} is not a backend: use 'local' or 'kubernetes'")
        home = overrides.pop("home", None) or os.environ.get("DIGITALHUB_HOME", ".digitalhub")
        namespace = overrides.pop("namespace", None) or os.environ.get("DIGITALHUB_NAMESPACE")
        if overrides:
            raise TypeError(f"unknown settings: {', '.join(overrides)}")
        return cls(backend=backend, home=Path(home).expanduser().resolve(), namespace=namespace)

    def environ(self) -> dict[str, str]:
        """The variables that recreate these settings in a child process."""
        env = {"DIGITALHUB_BACKEND": self.backend, "DIGITALHUB_HOME": str(self.home)}
        if self.namespace:
            env["DIGITALHUB_NAMESPACE"] = self.namespace
        return env
