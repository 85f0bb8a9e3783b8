"""Progress of long file transfers: a rich bar where a person watches, a log line per 10% elsewhere."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.filesize import decimal

from digitalhub_runtime_python.stderr_logger import stderr_logger

THRESHOLD_BYTES = 50 * 1024 * 1024
"""Transfers smaller than this show no progress at all."""

Advance = Callable[[int], None]
"""Told the number of bytes moved since its last call (the signature of boto3's ``Callback``); thread-safe."""


def _transfer_logger() -> logging.Logger:
    """Where progress lines go: ``time level message`` on stderr, unless the application configured it."""
    return stderr_logger("digitalhub.transfers", "%(asctime)s %(levelname)s %(message)s")


class TenthsLog:
    """Logs one line for each 10% of its total a transfer passes, the last at 100%."""

    def __init__(self, label: str, total: int):
        self.label, self.total = label, total
        self.done = 0
        self._logged_tenth = 0
        self._lock = threading.Lock()

    def __call__(self, amount: int) -> None:
        with self._lock:
            self.done += amount
            tenth = min(10, self.done * 10 // self.total)
            for passed in range(self._logged_tenth + 1, tenth + 1):
                _transfer_logger().info(
                    "%s: %d%% (%s of %s)", self.label, passed * 10, decimal(self.done), decimal(self.total)
                )
            self._logged_tenth = max(self._logged_tenth, tenth)


def _ignore(_amount: int) -> None:
    pass


def _interactive_console() -> Any:
    """A rich console on stderr if a person is watching it (a terminal or a notebook), else None."""
    from rich.console import Console

    console = Console(stderr=True)
    return console if console.is_interactive or console.is_jupyter else None


@contextmanager
def transfer_progress(label: str, total: int) -> Iterator[Advance]:
    """Report a transfer of ``total`` bytes through the ``Advance`` callable this yields.

    Below ``THRESHOLD_BYTES``: nothing. On a terminal or in a notebook: a rich bar on stderr with bytes, rate and
    time left. Otherwise (pods, pipes, captured runs): a log line at every 10%, so logs stay readable.
    """
    if total < THRESHOLD_BYTES:
        yield _ignore
        return
    console = _interactive_console()
    if console is None:
        yield TenthsLog(label, total)
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(label, total=total)
        yield lambda amount: bar.advance(task, amount)
