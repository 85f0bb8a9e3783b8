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
ENV_LOG_LIMIT = "DIGITALHUB_LOG_LIMIT"
DEFAULT_LOG_LIMIT = 10 * 1024 * 1024
LOCAL_HOME = ".digitalhub"


def locate_home() -> tuple[Path, str]:
    """The embedded store's folder and why: ``$DIGITALHUB_HOME``; else ``./.digitalhub`` if this folder has one;
    else the per-user ``$XDG_DATA_HOME/digitalhub`` (``~/.local/share/digitalhub``), so every folder sees the same
    runs."""
    if os.environ.get(ENV_HOME):
        return Path(os.environ[ENV_HOME]), ENV_HOME
    if Path(LOCAL_HOME).is_dir():
        return Path(LOCAL_HOME), f"{LOCAL_HOME} in the current folder"
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "digitalhub", "per-user default"


@dataclass(frozen=True)
class Settings:
    """Where entities live. ``DIGITALHUB_BACKEND`` picks the store, ``locate_home`` the local folder."""

    backend: Backend = "local"
    home: Path = field(default_factory=lambda: locate_home()[0])
    namespace: str | None = None
    log_limit: int = DEFAULT_LOG_LIMIT
    """Bytes of console output kept per run: beyond it, the start and the end are kept and the middle dropped."""

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        backend = overrides.pop("backend", None) or os.environ.get(ENV_BACKEND, "local")
        if backend not in BACKENDS:
            raise ValueError(f"{ENV_BACKEND}={backend!r} is not a backend: use 'local' or 'kubernetes'")
        home = overrides.pop("home", None) or locate_home()[0]
        namespace = overrides.pop("namespace", None) or os.environ.get(ENV_NAMESPACE)
        log_limit = overrides.pop("log_limit", None) or _log_limit(os.environ.get(ENV_LOG_LIMIT))
        if overrides:
            raise TypeError(f"unknown settings: {', '.join(overrides)}")
        return cls(
            backend=backend,
            home=Path(str(home)).expanduser().resolve(),
            namespace=str(namespace) if namespace else None,
            log_limit=int(str(log_limit)),
        )

    def environ(self) -> dict[str, str]:
        """The variables that recreate these settings in a child process."""
        env = {ENV_BACKEND: self.backend, ENV_HOME: str(self.home)}
        if self.namespace:
            env[ENV_NAMESPACE] = self.namespace
        if self.log_limit != DEFAULT_LOG_LIMIT:
            env[ENV_LOG_LIMIT] = str(self.log_limit)
        return env


def _log_limit(raw: str | None) -> int:
    """``DIGITALHUB_LOG_LIMIT``: a number of bytes, at least 1024 (default 10 MB)."""
    if not raw:
        return DEFAULT_LOG_LIMIT
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1024:
        raise ValueError(f"{ENV_LOG_LIMIT}={raw!r}: give bytes, at least 1024 (default {DEFAULT_LOG_LIMIT})")
    return value
