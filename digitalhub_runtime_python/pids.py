"""Whether a process id names a process that is still there (a zombie counts until it is reaped)."""

from __future__ import annotations

import os


def alive(pid: int) -> bool:
    """True while ``pid`` exists, whoever owns it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
