"""The embedded store's change feed: triggers append each write to a ``changes`` table in the write's own
transaction; a follower polls that table by its monotonic sequence number (one indexed read per poll)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from digitalhub_runtime_python.stores.changes import RESET, Change, ChangeFeed

# How many changes the table keeps: a follower further behind than this gets a reset and reloads.
KEPT = 10_000

CHANGES_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    op TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS changes_created AFTER INSERT ON entities BEGIN
    INSERT INTO changes (key, op) VALUES (NEW.key, 'created');
END;
CREATE TRIGGER IF NOT EXISTS changes_updated AFTER UPDATE ON entities BEGIN
    INSERT INTO changes (key, op) VALUES (NEW.key, 'updated');
END;
CREATE TRIGGER IF NOT EXISTS changes_deleted AFTER DELETE ON entities BEGIN
    INSERT INTO changes (key, op) VALUES (OLD.key, 'deleted');
END;
-- One 'logs' change per batch of console output: a row only when the newest change is not already this run's.
CREATE TRIGGER IF NOT EXISTS changes_logs AFTER INSERT ON logs
WHEN NOT EXISTS (
    SELECT 1 FROM changes WHERE seq = (SELECT MAX(seq) FROM changes) AND key = NEW.run_key AND op = 'logs'
) BEGIN
    INSERT INTO changes (key, op) VALUES (NEW.run_key, 'logs');
END;
CREATE TRIGGER IF NOT EXISTS changes_kept AFTER INSERT ON changes BEGIN
    DELETE FROM changes WHERE seq <= NEW.seq - {KEPT};
END;
"""


class SqliteChangeFeed(ChangeFeed):
    """Polls the ``changes`` table of the SQLite file at ``path`` every ``interval`` seconds."""

    def __init__(self, path: Path, interval: float = 0.05, batch: int = 500):
        self.path, self.interval, self.batch = Path(path), interval, batch

    def follow(self, stop: threading.Event) -> Iterator[list[Change]]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            (cursor,) = db.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()
            while not stop.is_set():
                rows = db.execute(
                    "SELECT seq, key, op FROM changes WHERE seq > ? ORDER BY seq LIMIT ?", (cursor, self.batch)
                ).fetchall()
                if not rows:
                    yield []
                    stop.wait(self.interval)
                    continue
                batch = [Change(op, key) for _, key, op in rows]
                if rows[0][0] > cursor + 1 and self._missed(db, cursor):
                    batch.insert(0, RESET)
                cursor = rows[-1][0]
                yield batch
        finally:
            db.close()

    @staticmethod
    def _missed(db: sqlite3.Connection, cursor: int) -> bool:
        """True when rows after ``cursor`` were already pruned (sequence numbers of rolled-back writes are reused,
        so a jump alone is no proof)."""
        (oldest,) = db.execute("SELECT MIN(seq) FROM changes").fetchone()
        return oldest is not None and oldest > cursor + 1 and cursor > 0
