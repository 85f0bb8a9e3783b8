"""File locks on an environment (POSIX ``flock``): exclusive while it is built or removed, shared while in use.

The kernel releases a lock when its holder dies, so a crashed build never blocks the next one. A shared hold is
inherited across ``exec``: a run keeps its environment from being pruned until its process ends.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _open(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)


@contextmanager
def exclusive(path: Path, wait: bool = True) -> Iterator[bool]:
    """Hold ``path``'s lock alone for the block; yields False (held by someone else) when ``wait`` is False."""
    import fcntl  # POSIX only: imported where environments are built, so other runs start anywhere

    fd = _open(path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # releases the lock


def hold_shared(path: Path) -> None:
    """Hold ``path``'s lock shared until this process (and any process it ``exec``s into) ends."""
    import fcntl

    fd = _open(path)
    fcntl.flock(fd, fcntl.LOCK_SH)
    os.set_inheritable(fd, True)
