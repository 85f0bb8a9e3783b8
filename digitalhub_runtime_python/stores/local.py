"""The embedded store: SQLite in WAL mode under ``$DIGITALHUB_HOME``, safe for concurrent processes."""

from __future__ import annotations

import builtins
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from digitalhub_runtime_python.models.base import Entity, now
from digitalhub_runtime_python.models.keys import parse_key
from digitalhub_runtime_python.models.project import Project
from digitalhub_runtime_python.stores.base import AlreadyExists, E, LogRecord, NotFound, Store, entity_class
from digitalhub_runtime_python.stores.changes import ChangeFeed
from digitalhub_runtime_python.stores.local_changes import CHANGES_SCHEMA, SqliteChangeFeed

SCHEMA = """
CREATE TABLE IF NOT EXISTS entities (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    project TEXT NOT NULL,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    id TEXT NOT NULL,
    document TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS entities_version ON entities (project, type, name, id);
CREATE INDEX IF NOT EXISTS entities_latest ON entities (project, type, name, seq);
CREATE TABLE IF NOT EXISTS logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_key TEXT NOT NULL,
    time TEXT NOT NULL,
    stream TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_run ON logs (run_key, seq);
"""


def _enable_wal(db: sqlite3.Connection, attempts: int = 50) -> None:
    """Switch to WAL. While another process creates the same file, SQLite may answer 'locked' without waiting
    on the busy timeout, so retry for a few seconds."""
    for attempt in range(attempts):
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.01 * (attempt + 1))


class LocalStore(Store):
    """Entities as JSON documents in one SQLite file; one connection per thread."""

    def __init__(self, home: Path):
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.path = self.home / "store.sqlite"
        self._local = threading.local()
        self._connection().executescript(SCHEMA + CHANGES_SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            _enable_wal(db)
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def create(self, entity: E) -> E:
        try:
            with self._transaction() as db:
                db.execute(
                    "INSERT INTO entities (key, project, type, name, id, document) VALUES (?, ?, ?, ?, ?, ?)",
                    (entity.key, entity.project, entity.ENTITY_TYPE, entity.name, entity.id, entity.model_dump_json()),
                )
        except sqlite3.IntegrityError:
            raise AlreadyExists(f"{entity.key} already exists") from None
        return entity

    def get(self, cls: type[E], project: str, name: str, id: str | None = None) -> E:
        db = self._connection()
        if id is None:
            row = db.execute(
                "SELECT document FROM entities WHERE project=? AND type=? AND name=? ORDER BY seq DESC LIMIT 1",
                (project, cls.ENTITY_TYPE, name),
            ).fetchone()
        else:
            row = db.execute(
                "SELECT document FROM entities WHERE project=? AND type=? AND name=? AND id=?",
                (project, cls.ENTITY_TYPE, name, id),
            ).fetchone()
        if row is None:
            version = f":{id}" if id else ""
            raise NotFound(f"no {cls.ENTITY_TYPE} {name}{version} in project {project}")
        return cls.model_validate_json(row[0])

    def list(self, cls: type[E], project: str, *, name: str | None = None, all_versions: bool = False) -> list[E]:
        where, args = "project=? AND type=?", [project, cls.ENTITY_TYPE]
        if name is not None:
            where += " AND name=?"
            args.append(name)
        if not all_versions:
            where += f" AND seq IN (SELECT MAX(seq) FROM entities WHERE {where} GROUP BY name)"
            args *= 2
        rows = self._connection().execute(f"SELECT document FROM entities WHERE {where} ORDER BY seq DESC", args)
        return [cls.model_validate_json(doc) for (doc,) in rows]

    def list_projects(self) -> builtins.list[Project]:
        rows = self._connection().execute("SELECT document FROM entities WHERE type='project' ORDER BY seq DESC")
        return [Project.model_validate_json(doc) for (doc,) in rows]

    def update(self, key: str, change: Callable[[Entity], Entity]) -> Entity:
        cls = entity_class(parse_key(key).entity_type)
        with self._transaction() as db:
            row = db.execute("SELECT document FROM entities WHERE key=?", (key,)).fetchone()
            if row is None:
                raise NotFound(f"{key} does not exist")
            entity = change(cls.model_validate_json(row[0]))
            entity.metadata.updated = now()
            db.execute("UPDATE entities SET document=? WHERE key=?", (entity.model_dump_json(), key))
        return entity

    def delete(self, key: str) -> None:
        with self._transaction() as db:
            if db.execute("DELETE FROM entities WHERE key=?", (key,)).rowcount == 0:
                raise NotFound(f"{key} does not exist")
            db.execute("DELETE FROM logs WHERE run_key=?", (key,))

    def append_logs(self, run_key: str, records: builtins.list[LogRecord]) -> None:
        if records:
            with self._transaction() as db:
                db.executemany(
                    "INSERT INTO logs (run_key, time, stream, text) VALUES (?, ?, ?, ?)",
                    [(run_key, r.time.isoformat(), r.stream, r.text) for r in records],
                )

    def read_logs(self, run_key: str) -> builtins.list[LogRecord]:
        rows = self._connection().execute(
            "SELECT time, stream, text FROM logs WHERE run_key=? ORDER BY seq", (run_key,)
        )
        return [LogRecord(datetime.fromisoformat(t), stream, text) for t, stream, text in rows]

    def read_logs_after(self, run_key: str, after: int = 0, limit: int = 1000) -> tuple[builtins.list[LogRecord], int]:
        """Records past cursor ``after``; the cursor is the log table's sequence number."""
        rows = (
            self._connection()
            .execute(
                "SELECT seq, time, stream, text FROM logs WHERE run_key=? AND seq>? ORDER BY seq LIMIT ?",
                (run_key, after, limit),
            )
            .fetchall()
        )
        records = [LogRecord(datetime.fromisoformat(t), stream, text) for _, t, stream, text in rows]
        return records, rows[-1][0] if rows else after

    def changes(self) -> ChangeFeed:
        return SqliteChangeFeed(self.path)

    def wait(self, key: str, until: Callable[[Entity], bool], timeout: float | None = None) -> Entity:
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.002
        while True:
            entity = self.get_key(key)
            if until(entity):
                return entity
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"{key} did not reach the expected state within {timeout} s")
            time.sleep(delay if deadline is None else max(0.0, min(delay, deadline - time.monotonic())))
            delay = min(delay * 2, 0.05)

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
