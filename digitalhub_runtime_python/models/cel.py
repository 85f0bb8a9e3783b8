"""CEL validation rules (``x-kubernetes-validations``) the models declare for their CRDs: the API server checks them
on ``kubectl apply``, so a bad object is refused at once instead of failing after launch.

Rules see typed fields only: values under ``x-kubernetes-preserve-unknown-fields`` (run parameters, ...) are
invisible to them, so the SDK's own validation stays the full check.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

IMMUTABLE_SPEC = "self == oldSelf"


def rule(expression: str, message: str, field_path: str | None = None) -> dict[str, Any]:
    """One ``x-kubernetes-validations`` entry; ``field_path`` (``.field``) is where the API server reports it."""
    entry: dict[str, Any] = {"rule": expression, "message": message}
    if field_path:
        entry["fieldPath"] = field_path
    return entry


def only_for_action(field: str, action: Enum, is_list: bool = False) -> dict[str, Any]:
    """A rule refusing ``field`` on specs whose ``action`` is not ``action`` (an empty list counts as unset)."""
    unset = f"!has(self.{field})" + (f" || size(self.{field}) == 0" if is_list else "")
    return rule(
        f"{unset} || self.action == '{action.value}'",
        f"{field} applies to {action.value} only: remove it or use action {action.value}",
        f".{field}",
    )


def immutable(kind: str) -> dict[str, Any]:
    """The rule making a spec immutable once created."""
    return rule(
        IMMUTABLE_SPEC,
        f"the spec of a {kind} is immutable: create a new "
        + ("run" if kind == "Run" else f"{kind.lower()} version (same name, new id)"),
    )
