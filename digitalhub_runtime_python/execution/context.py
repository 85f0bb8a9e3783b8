"""The ``context`` argument handed to handlers: the run, its project, a logger, and metrics logging."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from digitalhub_runtime_python.entities.project import Project
from digitalhub_runtime_python.entities.run import Run
from digitalhub_runtime_python.models.metrics import MetricValue
from digitalhub_runtime_python.stderr_logger import stderr_logger


def _handler_logger() -> logging.Logger:
    """The one logger handlers write to, printing ``time level [run] message`` to the captured stderr."""
    return stderr_logger("digitalhub.run", "%(asctime)s %(levelname)s [%(run)s] %(message)s")


@dataclass
class Context:
    """What a handler may ask about the run it executes in."""

    project: Project
    run: Run
    """The run being executed, as the SDK object (also handed to handlers as their ``run`` argument)."""
    parameters: dict[str, Any] = field(default_factory=dict)
    logger: logging.LoggerAdapter = field(init=False)

    def __post_init__(self) -> None:
        self.logger = logging.LoggerAdapter(_handler_logger(), {"run": self.run_id})

    @property
    def run_key(self) -> str:
        return self.run.key

    @property
    def run_id(self) -> str:
        return self.run.id

    def log_metric(self, key: str, value: MetricValue, overwrite: bool = False, single_value: bool = False) -> None:
        """Log a metric of the run being executed (see ``Run.log_metric``)."""
        self.run.log_metric(key, value, overwrite, single_value)

    def log_metrics(self, metrics: dict[str, MetricValue], overwrite: bool = False) -> None:
        """Log metrics of the run being executed (see ``Run.log_metrics``)."""
        self.run.log_metrics(metrics, overwrite)
