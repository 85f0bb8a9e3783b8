"""The environments folder: each environment built once per key, under a lock, and reused; listed and pruned.

Layout of ``$DIGITALHUB_ENVS`` (default ``$DIGITALHUB_HOME/envs``)::

    <key>/                 a finished environment: a virtualenv with its record (digitalhub-env.json) at the root
    .aliases/<alias>       the key a spec as written maps to, so a warm start needs no requirement parsing
    .locks/<key>.build     held while <key> is built (or removed)
    .locks/<key>.use       held shared by every process running in <key>: prune leaves it alone
    .build-<key>-<token>/  a build under way, or what a crashed one left (removed by the next build, or by prune)
    .uv-cache/             uv's cache (unless UV_CACHE_DIR says otherwise): on the same filesystem, so installs
                           hard-link from it

A build happens in a ``.build-*`` folder that is renamed to ``<key>`` once complete: an environment folder either
is whole or does not exist.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from digitalhub_runtime_python.environments.base import RECORD
from digitalhub_runtime_python.environments.builds import build, python_of
from digitalhub_runtime_python.environments.locks import exclusive, hold_shared
from digitalhub_runtime_python.environments.specs import EnvironmentSpec
from digitalhub_runtime_python.environments.uv import UvError

ENV_ENVIRONMENTS = "DIGITALHUB_ENVS"


class EnvironmentBuildError(RuntimeError):
    """uv could not make an environment; the message ends with uv's own explanation."""


def environments_root(home: Path, environ: Mapping[str, str]) -> Path:
    """Where environments live: ``$DIGITALHUB_ENVS`` (e.g. on a cache volume), else ``<home>/envs``."""
    configured = environ.get(ENV_ENVIRONMENTS)
    return Path(configured).expanduser() if configured else home / "envs"


@dataclass(frozen=True)
class Environment:
    """A finished environment."""

    key: str
    path: Path

    @property
    def python(self) -> Path:
        return python_of(self.path)

    def record(self) -> dict[str, Any]:
        """What the environment was made from, and when."""
        data: dict[str, Any] = json.loads((self.path / RECORD).read_text())
        return data

    def last_used(self) -> datetime:
        return datetime.fromtimestamp((self.path / RECORD).stat().st_mtime, UTC)

    def use(self) -> None:
        """Mark it used now, and keep it from being pruned while this process (or what it execs into) runs."""
        try:
            os.utime(self.path / RECORD)
            hold_shared(_lock(self.path.parent, self.key, "use"))
        except OSError:
            pass  # a read-only cache still works (and nothing can prune it)


def _lock(root: Path, key: str, purpose: str) -> Path:
    """The lock file of ``key`` for ``purpose``: ``build`` (one builder at a time) or ``use`` (runs in it)."""
    return root / ".locks" / f"{key}.{purpose}"


def _existing(root: Path, key: str) -> Environment | None:
    path = root / key
    return Environment(key, path) if (path / RECORD).is_file() else None


def _write_alias(root: Path, alias: str, key: str) -> None:
    folder = root / ".aliases"
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{alias}.{secrets.token_hex(4)}"
    partial.write_text(key)
    os.replace(partial, folder / alias)


def find_environment(root: Path, spec: EnvironmentSpec) -> Environment | None:
    """The finished environment of ``spec`` if it was built with this very spec before (cheap: parses nothing)."""
    try:
        key = (root / ".aliases" / spec.alias).read_text().strip()
    except OSError:
        return None
    return _existing(root, key)


def ensure_environment(
    root: Path, spec: EnvironmentSpec, environ: Mapping[str, str]
) -> tuple[Environment, dict[str, Any] | None]:
    """The environment of ``spec``, built now if there is none; the build's record when this call built it.

    Concurrent calls for one key build it once: the others wait for the lock and reuse the result. Raises
    RequirementError for a requirement that does not parse, EnvironmentBuildError when uv fails.
    """
    found = find_environment(root, spec)
    if found is not None:
        return found, None
    key = spec.key()
    found, record = _existing(root, key), None
    if found is None:
        with exclusive(_lock(root, key, "build")):
            found = _existing(root, key)
            if found is not None:  # built meanwhile by the holder of the lock
                return found, None
            record = _build(root, spec, key, environ)
            found = Environment(key, root / key)
    _write_alias(root, spec.alias, key)
    return found, record


def _build(root: Path, spec: EnvironmentSpec, key: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """Build ``key`` in a fresh folder and rename it into place (the build lock is held)."""
    for stale in root.glob(f".build-{key}-*"):  # left by a build that died
        shutil.rmtree(stale, ignore_errors=True)
    if (root / key).exists():  # not made by a build (which renames whole environments): not to be trusted
        _remove(root, root / key)
    partial = root / f".build-{key}-{secrets.token_hex(4)}"
    try:
        record = build(partial, spec, key, environ, root / ".uv-cache")
        os.rename(partial, root / key)
    except UvError as exc:
        raise EnvironmentBuildError(f"uv could not install the function's requirements:\n{exc}") from None
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return record


@dataclass(frozen=True)
class EnvironmentEntry:
    """One environment as ``dhrun env list`` shows it."""

    key: str
    path: Path
    python: str
    requirements: list[str]
    created: datetime
    last_used: datetime
    size: int

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "path": str(self.path),
            "python": self.python,
            "requirements": self.requirements,
            "created": self.created.isoformat(),
            "last_used": self.last_used.isoformat(),
            "size": self.size,
        }


def _size(path: Path) -> int:
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


def list_environments(root: Path) -> list[EnvironmentEntry]:
    """The finished environments, most recently used first."""
    entries = []
    for path in sorted(root.iterdir()) if root.is_dir() else []:
        environment = _existing(root, path.name) if not path.name.startswith(".") else None
        if environment is None:
            continue
        try:
            record = environment.record()
            entries.append(
                EnvironmentEntry(
                    key=environment.key,
                    path=path,
                    python=str(record["python_version"]),
                    requirements=[str(line) for line in record.get("requirements", [])],
                    created=datetime.fromisoformat(str(record["created"])),
                    last_used=environment.last_used(),
                    size=_size(path),
                )
            )
        except (OSError, ValueError, KeyError):
            continue
    return sorted(entries, key=lambda entry: entry.last_used, reverse=True)


def _remove(root: Path, path: Path) -> None:
    trash = root / f".trash-{path.name}-{secrets.token_hex(4)}"
    os.rename(path, trash)  # gone at once for readers; the deletion takes its time
    shutil.rmtree(trash, ignore_errors=True)


def prune_environments(
    root: Path, unused_for: timedelta | None = timedelta(days=7), dry_run: bool = False
) -> list[EnvironmentEntry]:
    """Remove environments not used for ``unused_for`` (None: every one) and what crashed builds left.

    An environment that a running run uses, or that is being built, is kept. Returns what was (or, with
    ``dry_run``, would be) removed.
    """
    cutoff = None if unused_for is None else datetime.now(UTC) - unused_for
    removed = []
    for entry in list_environments(root):
        if cutoff is not None and entry.last_used > cutoff:
            continue
        with exclusive(_lock(root, entry.key, "build"), wait=False) as idle:
            with exclusive(_lock(root, entry.key, "use"), wait=False) as unused:
                if not (idle and unused):
                    continue
                if not dry_run:
                    _remove(root, entry.path)
        removed.append(entry)
    if not dry_run:
        _clean_leftovers(root, {entry.key for entry in removed})
    return removed


def _clean_leftovers(root: Path, removed: set[str]) -> None:
    """Builds that died, trash that was not deleted, aliases of removed environments."""
    for path in root.glob(".trash-*"):
        shutil.rmtree(path, ignore_errors=True)
    for path in root.glob(".build-*"):
        with exclusive(_lock(root, path.name.split("-")[1], "build"), wait=False) as free:
            if free:
                shutil.rmtree(path, ignore_errors=True)
    for alias in root.glob(".aliases/*"):
        try:
            key = alias.read_text().strip()
            if key in removed or not (root / key).is_dir():
                alias.unlink()
        except OSError:
            pass
