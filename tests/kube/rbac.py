"""API calls recorded by the emulator, the RBAC permission each needs, and whether RBAC rules grant it.

The API server authorizes a request by verb (``get list watch create update patch delete deletecollection``),
API group, resource (``runs``, ``runs/status``), namespace and name; discovery and other non-resource URLs
(``/api``, ``/apis/...``, ``/version``) are open to every authenticated user. This derives the same attributes
from a recorded call (method, path, query) so a test can check a Role or ClusterRole against what a process did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .emulator import Call, parse_path


@dataclass(frozen=True)
class Permission:
    """What RBAC must allow for one call."""

    verb: str
    group: str
    resource: str
    namespace: str | None = None
    name: str | None = None

    def __str__(self) -> str:
        where = f" in {self.namespace}" if self.namespace else " (cluster-wide)"
        return f"{self.verb} {self.resource}.{self.group or 'core'}{where}"


_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch"}


def permission(call: Call) -> Permission | None:
    """The permission a call needs; None for non-resource URLs (discovery, version), open to everyone."""
    parsed = parse_path(call.path)
    if parsed.group is None or not parsed.plural:
        return None
    if call.method == "GET":
        watching = call.params.get("watch") in ("true", "1")
        verb = "watch" if watching else ("get" if parsed.name else "list")
    elif call.method == "DELETE":
        verb = "delete" if parsed.name else "deletecollection"
    else:
        verb = _VERBS[call.method]
    resource = f"{parsed.plural}/{parsed.subresource}" if parsed.subresource else parsed.plural
    return Permission(verb, parsed.group, resource, parsed.namespace, parsed.name)


def _matches(rule: Mapping[str, Any], wanted: Permission) -> bool:
    def has(key: str, value: str) -> bool:
        values = rule.get(key) or []
        return "*" in values or value in values

    names = rule.get("resourceNames") or []
    named = not names or (wanted.name in names and wanted.verb not in ("create", "list", "watch"))
    return has("apiGroups", wanted.group) and has("resources", wanted.resource) and has("verbs", wanted.verb) and named


@dataclass(frozen=True)
class Grant:
    """Rules that apply in one namespace (a Role) or everywhere (a ClusterRole bound cluster-wide)."""

    rules: tuple[Mapping[str, Any], ...]
    namespace: str | None = None

    def allows(self, wanted: Permission) -> bool:
        in_scope = self.namespace is None or self.namespace == wanted.namespace
        return in_scope and any(_matches(rule, wanted) for rule in self.rules)


def refused(grants: Iterable[Grant], wanted: Iterable[Permission]) -> list[str]:
    """The permissions no grant allows, as readable lines."""
    grants = list(grants)
    return sorted({str(p) for p in wanted if not any(grant.allows(p) for grant in grants)})


def granted_triples(grants: Iterable[Grant]) -> set[tuple[str, str, str]]:
    """Every (group, resource, verb) the grants name, wildcards left as ``*``."""
    return {
        (group, resource, verb)
        for grant in grants
        for rule in grant.rules
        for group in rule.get("apiGroups", [])
        for resource in rule.get("resources", [])
        for verb in rule.get("verbs", [])
    }


def grants_of(docs: Iterable[Mapping[str, Any]], namespace: str, account: str) -> list[Grant]:
    """What the bindings among ``docs`` give ServiceAccount ``namespace/account``: a RoleBinding's rules in its
    namespace, a ClusterRoleBinding's everywhere."""
    docs = list(docs)
    roles = {(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]): d for d in docs}
    grants = []
    for binding in docs:
        if binding["kind"] not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        subject = {"kind": "ServiceAccount", "name": account, "namespace": namespace}
        if not any(s.items() >= subject.items() for s in binding.get("subjects", [])):
            continue
        scope = binding["metadata"].get("namespace") if binding["kind"] == "RoleBinding" else None
        ref = binding["roleRef"]
        role = roles[(ref["kind"], scope if ref["kind"] == "Role" else None, ref["name"])]
        grants.append(Grant(tuple(role["rules"]), scope))
    return grants
