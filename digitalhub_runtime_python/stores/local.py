"""The embedded store: SQLite in WAL mode under ``$DIGITALHUB_HOME``, safe for concurrent processes.

History is never lost silently: a marker file beside the database says a store was created here, so a database
that went missing or was emptied is refused instead of replaced by a new, empty one; a file that is not a SQLite
database, or one whose pages are damaged, is reported with its path and what to do.
"""

from __future__ import annotations

import builtins
import functools
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from digitalhub_runtime_python.models.base import Entity, now
from digitalhub_runtime_python.models.indexed import indexed
from digitalhub_runtime_python.models.keys import parse_key
from digitalhub_runtime_python.models.project import Project
from digitalhub_runtime_python.stores.base import AlreadyExists, E, LogRecord, NotFound, Store, entity_class
from digitalhub_runtime_python.stores.changes import ChangeFeed
from digitalhub_runtime_python.stores.local_changes import CHANGES_SCHEMA, SqliteChangeFeed
from digitalhub_runtime_python.stores.local_query import count_sql, page_sql
from digitalhub_runtime_python.stores.local_schema import INDEX_COLUMNS, MUTABLE_COLUMNS, migrate
from digitalhub_runtime_python.stores.query import Listing, Order, Page, Query

_INSERT = (
    f"INSERT INTO entities (key, project, type, name, id, document, {', '.join(INDEX_COLUMNS)}) "
    f"VALUES (?, ?, ?, ?, ?, ?{', ?' * len(INDEX_COLUMNS)})"
)
_UPDATE = f"UPDATE entities SET document=?, {', '.join(f'{c}=?' for c in MUTABLE_COLUMNS)} WHERE key=?"
# Pages of the write-ahead log between checkpoints (SQLite's default: 1,000): new rows go to the same few table
# and index pages, so fewer checkpoints copy each of them fewer times; the log file grows to about 40 MB.
WAL_PAGES = 10_000

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
CREATE TABLE IF NOT EXISTS logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_key TEXT NOT NULL,
    time TEXT NOT NULL,
    stream TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_run ON logs (run_key, seq);
"""


SQLITE_HEADER = b"SQLite format 3\x00"
F = TypeVar("F", bound=Callable[..., Any])


class DamagedStore(RuntimeError):
    """The store's database is missing, emptied or damaged; the message names the file and what to do."""


def _restore_hint(path: Path) -> str:
    return (
        f"restore {path.name} from a backup; or salvage what it holds with `sqlite3 {path} .recover | sqlite3 "
        f"recovered.sqlite` and put that file in its place; to start over with an empty store, move {path.parent} "
        "aside (or set DIGITALHUB_HOME to another folder)"
    )


def _reporting_damage(method: F) -> F:
    """Turn SQLite's 'malformed' / 'not a database' errors into a DamagedStore naming the file."""

    @functools.wraps(method)
    def guarded(self: LocalStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            if type(exc) is not sqlite3.DatabaseError:  # locked, busy, constraint...: not damage
                raise
            raise DamagedStore(f"the store {self.path} is damaged ({exc}): {_restore_hint(self.path)}") from None

    return cast(F, guarded)


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
        self.marker = self.home / "store.sqlite.created"
        self._check_file()
        self._local = threading.local()
        self._create_schema()
        if not self.marker.exists():
            self.marker.write_text(
                f"A digitalhub store was created here ({self.path.name}). If that file is missing or empty, its "
                "history was lost: the runtime refuses to start a new store over it.\n"
            )

    def _check_file(self) -> None:
        """Refuse a database that went missing or was emptied after a store was created, or that is not SQLite."""
        size = self.path.stat().st_size if self.path.exists() else None
        if not size and self.marker.exists():
            what = "is missing" if size is None else "is empty (0 bytes)"
            raise DamagedStore(
                f"the store {self.path} {what}, but a store was created in {self.home} ({self.marker.name} says so): "
                f"{_restore_hint(self.path)}"
            )
        if size:
            with open(self.path, "rb") as file:
                if file.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
                    raise DamagedStore(f"the store {self.path} is not a SQLite database: {_restore_hint(self.path)}")

    @_reporting_damage
    def _create_schema(self) -> None:
        self._connection().executescript(SCHEMA + CHANGES_SCHEMA)
        migrate(self._connection())

    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            _enable_wal(db)
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(f"PRAGMA wal_autocheckpoint={WAL_PAGES}")
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

    @_reporting_damage
    def create(self, entity: E) -> E:
        row = (entity.key, entity.project, entity.ENTITY_TYPE, entity.name, entity.id, entity.model_dump_json())
        try:  # one statement is one transaction: no BEGIN/COMMIT round trips
            self._connection().execute(_INSERT, (*row, *indexed(entity)))
        except sqlite3.IntegrityError:
            raise AlreadyExists(f"{entity.key} already exists") from None
        return entity

    @_reporting_damage
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

    @_reporting_damage
    def page(
        self, cls: type[E], project: str, query: Query, *, limit: int, order: Order = "newest", after: str | None = None
    ) -> Page[E]:
        listing = Listing(cls.ENTITY_TYPE, project, query, order)
        sql, args = page_sql(listing, listing.start(after), limit)
        rows = self._connection().execute(sql, args).fetchall()
        continuation = None
        if len(rows) > limit:
            rows = rows[:limit]
            last_seq, last_created, _ = rows[-1]
            continuation = listing.continuation((last_created, last_seq))
        return Page((cls.model_validate_json(document) for _, _, document in rows), continuation)

    @_reporting_damage
    def count(self, cls: type[E], project: str, query: Query) -> int:
        sql, args = count_sql(Listing(cls.ENTITY_TYPE, project, query))
        return int(self._connection().execute(sql, args).fetchone()[0])

    @_reporting_damage
    def list_projects(self) -> builtins.list[Project]:
        rows = self._connection().execute("SELECT document FROM entities WHERE type='project' ORDER BY seq DESC")
        return [Project.model_validate_json(doc) for (doc,) in rows]

    @_reporting_damage
    def update(self, key: str, change: Callable[[Entity], Entity]) -> Entity:
        cls = entity_class(parse_key(key).entity_type)
        with self._transaction() as db:
            row = db.execute("SELECT document FROM entities WHERE key=?", (key,)).fetchone()
            if row is None:
                raise NotFound(f"{key} does not exist")
            entity = change(cls.model_validate_json(row[0]))
            entity.metadata.updated = now()
            fields = indexed(entity)
            db.execute(_UPDATE, (entity.model_dump_json(), *(getattr(fields, c) for c in MUTABLE_COLUMNS), key))
        return entity

    @_reporting_damage
    def delete(self, key: str) -> None:
        with self._transaction() as db:
            if db.execute("DELETE FROM entities WHERE key=?", (key,)).rowcount == 0:
                raise NotFound(f"{key} does not exist")
            db.execute("DELETE FROM logs WHERE run_key=?", (key,))

    @_reporting_damage
    def delete_logs(self, run_key: str) -> None:
        self._connection().execute("DELETE FROM logs WHERE run_key=?", (run_key,))

    @_reporting_damage
    def append_logs(self, run_key: str, records: builtins.list[LogRecord]) -> None:
        if records:
            with self._transaction() as db:
                db.executemany(
                    "INSERT INTO logs (run_key, time, stream, text) VALUES (?, ?, ?, ?)",
                    [(run_key, r.time.isoformat(), r.stream, r.text) for r in records],
                )

    @_reporting_damage
    def read_logs(self, run_key: str) -> builtins.list[LogRecord]:
        rows = self._connection().execute(
            "SELECT time, stream, text FROM logs WHERE run_key=? ORDER BY seq", (run_key,)
        )
        return [LogRecord(datetime.fromisoformat(t), stream, text) for t, stream, text in rows]

    @_reporting_damage
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
