"""A job as every store keeps it: what to run, where it stands, and how it ended."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class JobStatus(str, Enum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    CANCELLED = "CANCELLED"


FINISHED = frozenset({JobStatus.SUCCESS, JobStatus.FAILURE, JobStatus.CANCELLED})

# Request headers a job does not keep: credentials must not reach a stored record.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


@dataclass(frozen=True)
class JobRequest:
    """What to run: the handler (``command`` None) or a command, its JSON ``args`` or the ``url`` to read them
    from, the submission's headers (credentials left out), and whether the result is stored pickled."""

    command: str | None
    args: Any
    headers: dict[str, str] = field(default_factory=dict)
    url: str | None = None
    return_pickled: bool = False

    @classmethod
    def of(
        cls,
        command: str | None,
        args: Any,
        headers: dict[str, str],
        url: str | None = None,
        return_pickled: bool = False,
    ) -> JobRequest:
        kept = {k: v for k, v in headers.items() if k.lower() not in CREDENTIAL_HEADERS}
        return cls(command, args, kept, url, return_pickled)

    def document(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "args": self.args,
            "headers": self.headers,
            "url": self.url,
            "return_pickled": self.return_pickled,
        }

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> JobRequest:
        """The request a ``document()`` describes (records stored before ``url`` existed load too)."""
        return cls(
            document["command"],
            document["args"],
            document["headers"],
            document.get("url"),
            bool(document.get("return_pickled", False)),
        )


@dataclass(frozen=True)
class Outcome:
    """How a run of a job ended: SUCCESS with ``result`` (or ``result_url`` for a large one), or FAILURE with an
    error body ``{id, code, details}``."""

    status: JobStatus
    result: Any = None
    result_url: str | None = None
    error: dict[str, Any] | None = None


@dataclass
class Job:
    """A job's record. ``attempts`` counts the times a worker started it (more than one after a worker died);
    ``worker`` names the server process that started it last, where several share the jobs."""

    id: str
    request: JobRequest
    status: JobStatus = JobStatus.PENDING
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    attempts: int = 0
    result: Any = None
    result_url: str | None = None
    error: dict[str, Any] | None = None
    worker: str | None = None

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    def view(self, with_result: bool = False) -> dict[str, Any]:
        """The job as the HTTP API shows it: id, status, times, attempts, the error if it failed and, on request,
        the result (or ``result_url`` where a large result was stored)."""
        body: dict[str, Any] = {
            "id": self.id,
            "status": self.status.value,
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
            "attempts": self.attempts,
        }
        if self.worker is not None:
            body["worker"] = self.worker
        if self.error is not None:
            body["error"] = self.error
        if with_result and self.status == JobStatus.SUCCESS:
            if self.result_url is not None:
                body["result_url"] = self.result_url
            else:
                body["result"] = self.result
        return body


@dataclass(frozen=True)
class Delivery:
    """A job a worker claimed, with the store's handle on that claim (``receipt``) to renew, complete or release it."""

    job: Job
    receipt: str
