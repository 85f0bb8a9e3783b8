"""The embedded store's schema versions and the steps between them, keyed by SQLite's ``user_version``.

Version 0 is the first schema (``stores/local.py``'s ``SCHEMA``): entities as JSON documents. Version 1 adds the
listing columns (kind, state, function, task, action, created and updated times: what ``models/indexed.py`` reads
from an entity) with indexes for the filters listings use, filled once from the stored documents. A store file is
migrated when it is opened, in one transaction that other processes wait for.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

from digitalhub_runtime_python.models.indexed import Indexed, indexed
from digitalhub_runtime_python.models.types import entity_class

logger = logging.getLogger(__name__)

# The listing columns (``Indexed``'s fields, in its order) and their SQL types.
INDEX_COLUMNS: dict[str, str] = {
    "kind": "TEXT",
    "state": "TEXT",
    "function": "TEXT",
    "function_name": "TEXT",
    "task": "TEXT",
    "action": "TEXT",
    "created": "INTEGER NOT NULL DEFAULT 0",
    "updated": "INTEGER NOT NULL DEFAULT 0",
}
assert tuple(INDEX_COLUMNS) == Indexed._fields
# What an update can change (kind, function, task, action and the creation time never do).
MUTABLE_COLUMNS = ("state", "updated")
# Each index serves the newest-first pages of one filter (the row number, seq, is every index's last column).
# Most runs are jobs, which the action index leaves out: ``action='job'`` pages read the creation-time index.
INDEXES = {
    "entities_created": "ON entities (project, type, created)",
    "entities_state": "ON entities (project, type, state, created)",
    "entities_function": "ON entities (project, type, function_name, created)",
    "entities_action": "ON entities (project, type, action, created) WHERE action != 'job'",
}
VERSION = 1


def _add_listing_columns(db: sqlite3.Connection) -> None:
    """Version 1: listing columns and their indexes, filled from the documents (one parse per entity, once).

    The index of each name's versions in insertion order goes: the unique (project, type, name, id) index finds
    a name's versions too, and each index less is one B-tree less to write on every create.
    """
    for column, sql_type in INDEX_COLUMNS.items():
        db.execute(f"ALTER TABLE entities ADD COLUMN {column} {sql_type}")
    rows = db.execute("SELECT seq, type, document FROM entities").fetchall()
    if rows:
        logger.info("indexing the %d entities of the store for listings (once)", len(rows))
    values = []
    for seq, entity_type, document in rows:
        try:
            fields = indexed(entity_class(entity_type).model_validate_json(document))
        except ValueError as exc:  # an unreadable document keeps empty columns: it lists last, filters skip it
            logger.warning("entity %d (%s) cannot be indexed: %s", seq, entity_type, exc)
            continue
        values.append((*fields, seq))
    assignments = ", ".join(f"{column}=?" for column in INDEX_COLUMNS)
    db.executemany(f"UPDATE entities SET {assignments} WHERE seq=?", values)
    db.execute("DROP INDEX IF EXISTS entities_latest")
    for name, definition in INDEXES.items():
        db.execute(f"CREATE INDEX IF NOT EXISTS {name} {definition}")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_add_listing_columns]
assert len(MIGRATIONS) == VERSION


def migrate(db: sqlite3.Connection) -> None:
    """Bring a store file to the current schema version; a file already there costs one PRAGMA read."""
    if db.execute("PRAGMA user_version").fetchone()[0] >= VERSION:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        current = db.execute("PRAGMA user_version").fetchone()[0]  # another process may have migrated meanwhile
        for step in MIGRATIONS[current:]:
            step(db)
        db.execute(f"PRAGMA user_version={VERSION}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
