"""DigitalHub compatibility of arguments: those with no meaning here are refused by name with the reason, and two
spellings of one argument (DigitalHub's and this runtime's) are merged."""

from __future__ import annotations

from typing import Any

from digitalhub_runtime_python.models.errors import SpecError

REASONS: dict[str, str] = {
    "profile": "DigitalHub Core resource profiles do not exist here: give resources={'cpu': ..., 'mem': ...} instead",
    "config": "there is no DigitalHub Core to configure: DIGITALHUB_BACKEND picks the embedded store or Kubernetes",
    "setup_kwargs": "setup_project.py hooks are not run by this runtime: call your setup function with the project",
    "user": "entities record no user here (there are no accounts): filter by name, kind, state or dates",
    "extensions": "extension entities do not exist in this runtime: remove the argument",
    "workflow": "workflows are not part of this runtime: run functions (function.run) instead",
    "sql": "SQL stores are not supported: log a DataFrame (data=) or a file (source=), then use Dataitem.query()",
}
REASONS["share"] = REASONS["unshare"] = (
    "there are no users to share a project with: access is the store's (file permissions or Kubernetes RBAC)"
)


def refuse(what: str, **given: Any) -> None:
    """Raise SpecError naming each argument of ``given`` that was set (not None, not False) and why it is refused."""
    problems = [(name, REASONS[name]) for name, value in given.items() if value is not None and value is not False]
    if problems:
        raise SpecError(what, problems)


def either(what: str, **spellings: Any) -> Any:
    """The one value given among two spellings of an argument (e.g. ``data`` / ``df``); both given is an error."""
    given = {name: value for name, value in spellings.items() if value is not None}
    if len(given) > 1:
        raise SpecError(what, [(name, f"give one of {' or '.join(spellings)}, not both") for name in given][:1])
    return next(iter(given.values()), None)
