"""Listings on the embedded store as SQL: a query becomes a WHERE clause on the listing columns (indexed, see
``local_schema.py``), pages are ``ORDER BY created, seq`` with a keyset start and a LIMIT, so only the documents
of the page are read and parsed."""

from __future__ import annotations

from dataclasses import dataclass, field

from digitalhub_runtime_python.models.indexed import epoch_us
from digitalhub_runtime_python.stores.query import Listing, SortKey


@dataclass
class Where:
    """A WHERE clause under construction: conditions joined by AND, with their parameters."""

    conditions: list[str] = field(default_factory=list)
    args: list[object] = field(default_factory=list)

    def add(self, condition: str, *args: object) -> None:
        self.conditions.append(condition)
        self.args.extend(args)

    @property
    def sql(self) -> str:
        return " AND ".join(self.conditions)


def where(listing: Listing) -> Where:
    """The conditions selecting a listing's entities (its order and pages aside)."""
    query, clause = listing.query, Where()
    clause.add("project=? AND type=?", listing.project, listing.entity_type)
    for column in ("name", "id", "kind", "state", "task", "action"):
        value = getattr(query, column)
        if value is not None:
            clause.add(f"{column}=?", value)
    if query.action not in (None, "job"):
        clause.add("action != 'job'")  # written out, so SQLite sees that the (partial) action index holds the rows
    if query.function_key:
        clause.add("function=?", query.function_key)
    elif query.function is not None:
        clause.add("function_name=?", query.function)
    if query.q:
        clause.add("(instr(name, ?) > 0 OR instr(id, ?) > 0)", query.q, query.q)
    for column, start, end in (
        ("created", query.since, query.until),
        ("updated", query.updated_since, query.updated_until),
    ):
        if start is not None:
            clause.add(f"{column} >= ?", epoch_us(start))
        if end is not None:
            clause.add(f"{column} < ?", epoch_us(end))
    for label in query.labels:
        clause.add("EXISTS (SELECT 1 FROM json_each(document, '$.metadata.labels') WHERE value = ?)", label)
    if query.latest:
        latest = "SELECT MAX(seq) FROM entities WHERE project=? AND type=?"
        args: list[object] = [listing.project, listing.entity_type]
        if query.name is not None:
            latest += " AND name=?"
            args.append(query.name)
        clause.add(f"seq IN ({latest} GROUP BY name)", *args)
    return clause


def page_sql(listing: Listing, start: SortKey | None, limit: int) -> tuple[str, list[object]]:
    """``SELECT seq, document`` of the page after ``start`` (one row more than ``limit``: it says whether another
    page follows)."""
    clause = where(listing)
    newest = listing.order == "newest"
    if start is not None:
        created, seq = start
        # The first condition bounds the index range; the second drops the rows of ``created`` already shown.
        compare = "<" if newest else ">"
        clause.add(f"created {compare}= ? AND (created {compare} ? OR seq {compare} ?)", created, created, seq)
    direction = "DESC" if newest else "ASC"
    sql = (
        f"SELECT seq, created, document FROM entities WHERE {clause.sql} "
        f"ORDER BY created {direction}, seq {direction} LIMIT ?"
    )
    return sql, [*clause.args, limit + 1]


def count_sql(listing: Listing) -> tuple[str, list[object]]:
    clause = where(listing)
    return f"SELECT COUNT(*) FROM entities WHERE {clause.sql}", clause.args
