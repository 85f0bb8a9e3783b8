"""One follower of the store's change feed per console, fanning each batch out to the open pages' event streams."""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from digitalhub_runtime_python.stores.changes import RESET, Change, ChangeFeed

logger = logging.getLogger(__name__)

# Batches a slow page may fall behind by; past that it gets a reset and reloads what it shows.
BACKLOG = 100


class ChangeHub:
    """Follows ``open_feed()`` in a thread from ``start`` to ``close``; ``subscribe`` gives each page a queue.

    ``cursor`` names the batches published so far (this hub's own, a console restart starts new ones): a page
    rendered at cursor C subscribes ``since=C`` and first gets the batches it missed in between (kept for the last
    ``BACKLOG`` batches), so it needs no fresh render.
    """

    def __init__(self, open_feed: Callable[[], ChangeFeed], retry: float = 1.0):
        self._open_feed, self._retry = open_feed, retry
        self._subscribers: set[asyncio.Queue[list[Change]]] = set()
        self._recent: deque[list[Change]] = deque(maxlen=BACKLOG)
        self._position = 0
        self._epoch = secrets.token_hex(4)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.live = False  # True once the feed follows the store

    def start(self) -> None:
        """Start following, from the running event loop."""
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._follow, daemon=True, name="console-changes")
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    @property
    def cursor(self) -> str:
        """Where the published batches are now, for a page to subscribe from."""
        return f"{self._epoch}-{self._position}"

    def _missed(self, since: str | None) -> int:
        """How many batches were published after cursor ``since``; more than are kept when it is not this hub's."""
        epoch, _, position = (since or "").partition("-")
        if epoch != self._epoch or not position.isdigit() or int(position) > self._position:
            return self._position + 1
        return self._position - int(position)

    @asynccontextmanager
    async def subscribe(self, since: str | None = None) -> AsyncIterator[asyncio.Queue[list[Change]]]:
        """A queue receiving every batch of changes while the context is open, starting with those published
        after cursor ``since`` (a reset when they are no longer kept, or when ``since`` is not given)."""
        queue: asyncio.Queue[list[Change]] = asyncio.Queue(BACKLOG)
        missed = self._missed(since)
        if missed > len(self._recent):
            queue.put_nowait([RESET])
        elif missed > 0:
            for batch in list(self._recent)[-missed:]:
                queue.put_nowait(batch)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    def _follow(self) -> None:
        while not self._stop.is_set():
            try:
                feed = self._open_feed()
            except NotImplementedError as exc:
                logger.warning("no live updates: %s", exc)
                return
            try:
                for batch in feed.follow(self._stop):
                    self.live = True
                    if batch:
                        self._publish_soon(batch)
            except Exception:
                logger.exception("following the store's changes failed; following again")
                self.live = False
                self._publish_soon([RESET])
                self._stop.wait(self._retry)

    def _publish_soon(self, batch: list[Change]) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._publish, batch)

    def _publish(self, batch: list[Change]) -> None:
        self._position += 1
        self._recent.append(batch)
        for queue in self._subscribers:
            if queue.full():  # the page fell behind: drop what it has not read, tell it to reload
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait([RESET])
            else:
                queue.put_nowait(batch)
