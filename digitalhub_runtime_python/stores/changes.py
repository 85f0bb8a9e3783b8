"""A store's change feed: what was written, in order, for views that follow the store live (the web console)."""

from __future__ import annotations

import abc
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from digitalhub_runtime_python.models.keys import InvalidKey, ParsedKey, parse_key

Operation = Literal["created", "updated", "deleted", "logs", "reset"]


@dataclass(frozen=True)
class Change:
    """One write: an entity ``created``, ``updated`` or ``deleted``, or console output added to a run (``logs``).

    ``reset`` (with an empty key) says changes were missed (the feed fell behind, a watch expired): a follower
    reloads what it shows.
    """

    op: Operation
    key: str = ""

    def _parsed(self) -> ParsedKey | None:
        try:
            return parse_key(self.key)
        except InvalidKey:
            return None

    @property
    def project(self) -> str:
        """The project of the entity (empty for a reset or an unreadable key)."""
        parsed = self._parsed()
        return parsed.project if parsed else ""

    @property
    def entity_type(self) -> str:
        """``run``, ``function``, ``project``... (empty for a reset or an unreadable key)."""
        parsed = self._parsed()
        return parsed.entity_type if parsed else ""


RESET = Change("reset")


class ChangeFeed(abc.ABC):
    """Follows one store's writes from the moment ``follow`` is called."""

    @abc.abstractmethod
    def follow(self, stop: threading.Event) -> Iterator[list[Change]]:
        """Yield batches of changes, oldest first, until ``stop`` is set; an empty batch at least every few
        seconds, so the caller can notice ``stop``. Blocking: run it in a thread of its own."""
