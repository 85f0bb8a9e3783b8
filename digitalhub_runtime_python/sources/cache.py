"""Content-addressed cache of fetched code trees, written atomically.

Layout under ``cache_dir``: ``trees/<name>`` holds one fetched tree (named by a digest of what it was
built from), ``index/<key>.json`` remembers how a moving source (an HTTP URL, an S3 object) resolved last
time, and ``.staging/`` holds downloads and half-built trees until they are renamed into place.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

STAGING = ".staging"
STALE_SECONDS = 24 * 3600


def digest(*parts: str) -> str:
    """A cache name for a resolved source: sha256 of its identifying parts."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def file_digest(path: Path) -> str:
    """sha256 of a file's content."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def cached_tree(cache_dir: Path, name: str) -> Path | None:
    """The tree stored under ``name``, if any."""
    tree = cache_dir / "trees" / name
    return tree if tree.is_dir() else None


@contextmanager
def staging(cache_dir: Path) -> Iterator[Path]:
    """A private scratch folder on the cache's filesystem, removed on exit."""
    root = cache_dir / STAGING
    root.mkdir(parents=True, exist_ok=True)
    _sweep(root)
    scratch = Path(tempfile.mkdtemp(dir=root))
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _sweep(root: Path) -> None:
    """Remove scratch folders left behind by processes that died mid-fetch (untouched for a day)."""
    cutoff = time.time() - STALE_SECONDS
    for entry in root.iterdir():
        try:
            if entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:  # removed meanwhile by another process
            pass


def store_tree(cache_dir: Path, name: str, build: Callable[[Path], None]) -> Path:
    """Return tree ``name``, building it first if missing.

    ``build(folder)`` fills a fresh folder in the staging area; the folder is then renamed into place in
    one step, so readers never see a partial tree and concurrent builders of the same tree are safe: the
    first rename wins and the others drop their copy.
    """
    tree = cache_dir / "trees" / name
    if tree.is_dir():
        return tree
    tree.parent.mkdir(parents=True, exist_ok=True)
    with staging(cache_dir) as scratch:
        built = scratch / "tree"
        built.mkdir()
        build(built)
        try:
            os.rename(built, tree)
        except OSError:
            if not tree.is_dir():
                raise
    return tree


def read_index(cache_dir: Path, key: str) -> dict[str, str]:
    """What a moving source resolved to last time (empty if never fetched)."""
    try:
        entry = json.loads((cache_dir / "index" / f"{key}.json").read_text())
    except (OSError, ValueError):
        return {}
    return entry if isinstance(entry, dict) else {}


def write_index(cache_dir: Path, key: str, entry: dict[str, str]) -> None:
    """Remember how a moving source resolved (atomic replace; last writer wins)."""
    folder = cache_dir / "index"
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(entry, f)
    os.replace(tmp, folder / f"{key}.json")
