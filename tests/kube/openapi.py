"""The OpenAPI v3 documents kubectl reads before ``apply``, and the strict field validation it then asks for.

``kubectl apply`` (``--validate=strict``, the default) fetches ``/openapi/v3`` and the group-version document of
what it applies; when a PATCH operation there lists the ``fieldValidation`` parameter, it leaves validation to
the server (``?fieldValidation=Strict``) instead of downloading schemas. So the documents served here declare
that parameter on every resource (no schemas), and ``unknown_fields`` refuses, as the API server does, fields a
custom resource's schema does not know (built-in kinds are not checked).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import kmock

Obj = dict[str, Any]


def _group_path(group: str, version: str) -> str:
    return f"api/{version}" if group == "" else f"apis/{group}/{version}"


def root(resources: Iterable[kmock.resource]) -> Obj:
    """``/openapi/v3``: one entry per served group-version."""
    paths = {_group_path(r.group, r.version) for r in resources if r.group is not None and r.version}
    return {"paths": {path: {"serverRelativeURL": f"/openapi/v3/{path}"} for path in sorted(paths)}}


def group_version(resources: Iterable[tuple[object, Any]], group: str, version: str) -> Obj | None:
    """``/openapi/v3/apis/GROUP/VERSION``: a PATCH operation with ``fieldValidation`` per resource (of the
    ``(resource, ResourceInfo)`` pairs declared); None for an unknown group version."""
    paths: Obj = {}
    for resource, info in resources:
        if not isinstance(resource, kmock.resource) or (resource.group, resource.version) != (group, version):
            continue
        scope = "namespaces/{namespace}/" if info.namespaced else ""
        operation = {
            "operationId": f"patch{info.kind}",
            "x-kubernetes-group-version-kind": {"group": group, "version": version, "kind": info.kind},
            "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "OK"}},
        }
        paths[f"/{_group_path(group, version)}/{scope}{resource.plural}/{{name}}"] = {"patch": operation}
    if not paths:
        return None
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "emulator"}, "paths": paths}


def unknown_fields(value: Any, schema: Obj, path: str = "") -> Iterator[str]:
    """Dotted paths of the fields in ``value`` that a structural ``schema`` does not declare (pruned fields)."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    if isinstance(value, dict):
        known = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if known is not None and key in known:
                yield from unknown_fields(item, known[key], where)
            elif isinstance(extra, dict):
                yield from unknown_fields(item, extra, where)
            elif known is not None and not (path == "" and key in ("apiVersion", "kind", "metadata")):
                yield where
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            yield from unknown_fields(item, schema["items"], f"{path}[{index}]")
