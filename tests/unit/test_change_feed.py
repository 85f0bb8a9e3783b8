"""The embedded store's change feed: every write appears once, in order, written in the write's own transaction;
a batch of console output is one change; a follower that fell past what the table keeps gets a reset."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from digitalhub_runtime_python.models.base import now
from digitalhub_runtime_python.models.project import Project
from digitalhub_runtime_python.models.run import Run, RunSpec
from digitalhub_runtime_python.stores import local_changes
from digitalhub_runtime_python.stores.base import LogRecord
from digitalhub_runtime_python.stores.changes import RESET, Change
from digitalhub_runtime_python.stores.local import LocalStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    store = LocalStore(tmp_path)
    yield store
    store.close()


def a_run(name: str = "r1") -> Run:
    spec = RunSpec(task="store://p/task/python+job/t:1", function="store://p/function/python/f:1", action="job")
    return Run(project="p", name=name, id=name, spec=spec)


class Follower:
    """Follows a feed in a thread; ``until(n)`` returns the first ``n`` changes once they arrived."""

    def __init__(self, feed):
        self.changes: list[Change] = []
        self.stop = threading.Event()
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(feed,), daemon=True)
        self.thread.start()
        assert self.started.wait(10)

    def _run(self, feed) -> None:
        for batch in feed.follow(self.stop):
            self.started.set()
            self.changes += batch

    def until(self, count: int) -> list[Change]:
        from tests.waiting import wait_for

        wait_for(lambda: len(self.changes) >= count, timeout=10, what=f"{count} changes")
        return self.changes[:count]

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)


def test_writes_appear_in_order_from_the_moment_following_began(store: LocalStore) -> None:
    store.create(Project(name="p"))  # before following: not reported
    follower = Follower(store.changes())
    run = store.create(a_run())
    store.update(run.key, lambda entity: entity)
    store.append_logs(run.key, [LogRecord(now(), "stdout", "a\n"), LogRecord(now(), "stderr", "b\n")])
    store.append_logs(run.key, [LogRecord(now(), "stdout", "c\n")])  # right after: still one change
    store.delete(run.key)
    try:
        assert follower.until(4) == [
            Change("created", run.key),
            Change("updated", run.key),
            Change("logs", run.key),
            Change("deleted", run.key),
        ]
        assert (follower.changes[0].project, follower.changes[0].entity_type) == ("p", "run")
    finally:
        follower.close()
    assert len(follower.changes) == 4


def test_a_write_that_rolls_back_reports_nothing(store: LocalStore) -> None:
    run = store.create(a_run())
    follower = Follower(store.changes())

    def fail(entity):
        raise ValueError("no")

    with pytest.raises(ValueError):
        store.update(run.key, fail)
    store.update(run.key, lambda entity: entity)
    try:
        assert follower.until(1) == [Change("updated", run.key)]
    finally:
        follower.close()
    assert len(follower.changes) == 1


def test_a_follower_past_what_the_table_keeps_gets_a_reset(store: LocalStore) -> None:
    run = store.create(a_run())
    feed = local_changes.SqliteChangeFeed(store.path, batch=2)
    stop = threading.Event()
    batches = feed.follow(stop)
    assert next(batches) == []  # following from here
    db = store._connection()  # keep 3 changes instead of thousands
    db.executescript(
        "DROP TRIGGER changes_kept; CREATE TRIGGER changes_kept AFTER INSERT ON changes BEGIN "
        "DELETE FROM changes WHERE seq <= NEW.seq - 3; END;"
    )
    for _ in range(6):
        store.update(run.key, lambda entity: entity)
    assert next(batches) == [RESET, Change("updated", run.key), Change("updated", run.key)]
    assert next(batches) == [Change("updated", run.key)]
    stop.set()


def test_the_table_keeps_a_bounded_number_of_changes(store: LocalStore) -> None:
    run = store.create(a_run())
    db = store._connection()
    kept = local_changes.KEPT
    db.execute("UPDATE sqlite_sequence SET seq = seq + ? WHERE name = 'changes'", (kept,))
    store.update(run.key, lambda entity: entity)
    assert db.execute("SELECT COUNT(*) FROM changes").fetchone() == (1,)


def test_log_pages_follow_the_cursor(store: LocalStore) -> None:
    run = store.create(a_run())
    store.append_logs(run.key, [LogRecord(now(), "stdout", f"{i}\n") for i in range(5)])
    first, cursor = store.read_logs_after(run.key, 0, 2)
    second, cursor = store.read_logs_after(run.key, cursor, 2)
    third, cursor = store.read_logs_after(run.key, cursor, 2)
    assert [r.text for r in first + second + third] == [f"{i}\n" for i in range(5)]
    assert store.read_logs_after(run.key, cursor, 2) == ([], cursor)
