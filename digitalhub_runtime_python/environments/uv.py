"""Running uv: the binary of the ``uv`` PyPI package this runtime depends on, never a system-wide one.

Every call turns Python downloads off (``UV_PYTHON_DOWNLOADS=never``), ignores uv configuration files (index
settings come from the environment only, so they are part of the environment's key) and keeps colours and
progress bars out of the output that error messages quote.
"""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from digitalhub_runtime_python.environments.keys import redact

TAIL_LINES = 25


class UvError(RuntimeError):
    """uv failed; the message is the end of its own explanation, credentials removed."""


@functools.cache
def uv_binary() -> str:
    """The uv executable installed with the ``uv`` package (``uv.find_uv_bin()``)."""
    from uv import find_uv_bin

    return os.fsdecode(find_uv_bin())


def uv_environ(environ: Mapping[str, str], cache: Path | None) -> dict[str, str]:
    """``environ`` (index settings and credentials included) as uv is run with: no downloads of Python, no colours."""
    env = {**environ, "UV_PYTHON_DOWNLOADS": "never", "NO_COLOR": "1", "UV_NO_PROGRESS": "1"}
    env.pop("VIRTUAL_ENV", None)  # every call names its interpreter
    if cache is not None and not environ.get("UV_CACHE_DIR"):
        env["UV_CACHE_DIR"] = str(cache)
    return env


def tail(output: str, environ: Mapping[str, str], lines: int = TAIL_LINES) -> str:
    """The last ``lines`` lines of uv's output, without credentials."""
    kept = [line.rstrip() for line in output.strip().splitlines() if line.strip()][-lines:]
    return redact("\n".join(kept), environ) or "(no output)"


def run_uv(args: Sequence[str], environ: Mapping[str, str], cache: Path | None = None, cwd: Path | None = None) -> str:
    """Run ``uv ARGS`` and return its standard output; UvError with the tail of its explanation if it fails."""
    done = subprocess.run(
        [uv_binary(), *args],
        env=uv_environ(environ, cache),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise UvError(tail(done.stderr or done.stdout, environ))
    return done.stdout


PYTHON_SEARCH = ("PATH", "HOME", "XDG_DATA_HOME", "UV_PYTHON_INSTALL_DIR")
"""The variables that decide where uv looks for installed interpreters."""


@functools.lru_cache(maxsize=16)
def _find_python(version: str, search: tuple[tuple[str, str], ...]) -> str | None:
    try:
        found = run_uv(["python", "find", "--system", "--no-project", "--no-config", version], dict(search))
    except UvError:  # none found (or a broken shim on PATH): the same for us
        return None
    return found.strip() or None


def find_python(version: str, environ: Mapping[str, str]) -> str | None:
    """An installed interpreter of ``version`` (e.g. ``3.12``), found by uv on PATH or among the Pythons uv
    installed; None when there is none (nothing is downloaded)."""
    return _find_python(version, tuple((name, environ[name]) for name in PYTHON_SEARCH if name in environ))
