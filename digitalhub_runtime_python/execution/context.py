"""The ``context`` argument handed to handlers: the run, its project and a logger."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from digitalhub_runtime_python.entities.project import Project
from digitalhub_runtime_python.stderr_logger import stderr_logger


def _handler_logger() -> logging.Logger:
    """The one logger handlers write to, printing ``time level [run] message`` to the captured stderr."""
    return stderr_logger("digitalhub.run", "%(asctime)s %(levelname)s [%(run)s] %(message)s")


@dataclass
class Context:
    """What a handler may ask about the run it executes in."""

    project: Project
    run_key: str
    run_id: str
    parameters: dict[str, Any] = field(default_factory=dict)
    logger: logging.LoggerAdapter = field(init=False)

    def __post_init__(self) -> None:
        self.logger = logging.LoggerAdapter(_handler_logger(), {"run": self.run_id})
