"""Loggers that print to whatever sys.stderr is when they write, so a run's captured output holds their lines."""

from __future__ import annotations

import logging
import sys
from typing import Any


class _CurrentStderr(logging.StreamHandler):
    """Writes to sys.stderr as it is at each record, not as it was when the handler was made."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def stderr_logger(name: str, line_format: str) -> logging.Logger:
    """Logger ``name`` at INFO printing ``line_format`` lines to stderr, unless the application gave it handlers."""
    logger = logging.getLogger(name)
    if not logger.handlers:
        handler = _CurrentStderr()
        handler.setFormatter(logging.Formatter(line_format))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger
