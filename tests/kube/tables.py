"""``meta.k8s.io/v1`` Table responses, as the API server renders a CRD's ``additionalPrinterColumns`` for kubectl.

kubectl asks for ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io``; the server answers a Table: a ``Name``
column, then the CRD's columns (cells from their JSONPath, ``date`` cells as an age such as ``5m``), each row with
the object's metadata (``includeObject=Metadata``, the default), the whole object (``Object``) or nothing
(``None``). Resources without printer columns get ``Name`` and ``Age``, as CRDs without columns do.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jsonpath_ng.ext import parse as parse_jsonpath

Obj = dict[str, Any]
NAME_COLUMN = {"name": "Name", "type": "string", "format": "name", "description": "Name of the object", "priority": 0}
AGE_COLUMN = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}


def wants_table(accept: str) -> bool:
    """True when an Accept header asks for a meta.k8s.io Table (kubectl get does)."""
    return any("as=Table" in part and "g=meta.k8s.io" in part for part in accept.split(","))


def age(timestamp: str, now: datetime | None = None) -> str:
    """A Kubernetes-style short age: seconds under 2 minutes, minutes under 3 hours, hours under 2 days, days."""
    try:
        then = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return "<invalid>"
    seconds = max(0, int(((now or datetime.now(UTC)) - then).total_seconds()))
    for limit, unit, size in ((120, "s", 1), (3 * 3600, "m", 60), (48 * 3600, "h", 3600)):
        if seconds < limit:
            return f"{seconds // size}{unit}"
    return f"{seconds // 86400}d"


def cell(obj: Obj, column: Obj) -> Any:
    """One cell: the column's JSONPath on the object (None when absent, as the server sends it)."""
    found = [match.value for match in parse_jsonpath("$" + column["jsonPath"]).find(obj)]
    if not found or found[0] is None:
        return None
    value = found[0]
    if column["type"] == "date":
        return age(value) if isinstance(value, str) else "<invalid>"
    if column["type"] == "string" and not isinstance(value, str):
        return str(value)
    return value


def table(objects: list[Obj], columns: list[Obj], include: str, resource_version: str) -> Obj:
    """The Table of ``objects`` for printer ``columns`` (empty: Name and Age only)."""
    columns = columns or [AGE_COLUMN]
    definitions = [NAME_COLUMN] + [
        {
            "name": column["name"],
            "type": column["type"],
            "format": column.get("format", ""),
            "description": column.get("description", ""),
            "priority": column.get("priority", 0),
        }
        for column in columns
    ]
    rows = []
    for obj in objects:
        row: Obj = {"cells": [obj["metadata"]["name"]] + [cell(obj, column) for column in columns]}
        if include == "Object":
            row["object"] = obj
        elif include != "None":
            metadata = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}
            row["object"] = metadata
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": definitions,
        "rows": rows,
    }
