"""A function's requirements: read from a list or a requirements file, checked, and normalized for keys.

Normalizing makes equal sets of requirements equal text (``Pandas>=2`` and ``pandas >= 2`` are one requirement,
order and duplicates do not matter), so they share one environment (``keys.py``) or one image layer.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from digitalhub_runtime_python.models.redaction import credentials_in

INDEX_HELP = "set package indexes with UV_INDEX_URL / UV_EXTRA_INDEX_URL / UV_FIND_LINKS (see docs/environments.md)"


class RequirementError(ValueError):
    """A requirement that cannot be used; the message names it and says what to do."""


def _lines(text: str) -> list[tuple[int, str]]:
    """Requirement lines of a file's text with their line numbers: comments, blanks and continuations handled."""
    lines: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = (pending + line).strip(), ""
        if line:
            lines.append((start, line))
    return lines


def read_requirements_file(path: str | Path) -> list[str]:
    """The requirements listed in a pip-style requirements file (no options, no included files)."""
    file = Path(path).expanduser()
    try:
        text = file.read_text()
    except OSError as exc:
        raise RequirementError(f"cannot read requirements file {str(file)!r}: {exc.strerror or exc}") from None
    requirements = []
    for number, line in _lines(text):
        if line.startswith("-"):
            raise RequirementError(
                f"{file}:{number}: {line!r}: options are not accepted in a function's requirements: "
                f"list requirements only, and {INDEX_HELP}"
            )
        requirements.append(line)
    return requirements


def normalize_requirement(line: str) -> str:
    """One requirement in canonical form: ``Scikit_Learn >= 1.5`` -> ``scikit-learn>=1.5``."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    text = line.strip()
    if text.startswith("-"):
        raise RequirementError(f"requirement {text!r} is an option, not a requirement: {INDEX_HELP}")
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        raise RequirementError(
            f"requirement {text!r} does not parse ({exc}): use a pip requirement such as 'pandas>=2.1' "
            "or 'name @ https://host/name.whl'"
        ) from None
    if requirement.url and credentials_in(requirement.url):
        raise RequirementError(
            f"requirement {requirement.name!r} has credentials in its URL: the function spec is stored in clear; "
            "give them through the environment (a Secret in a pod), see docs/environments.md"
        )
    normalized = str(canonicalize_name(requirement.name))
    if requirement.extras:
        normalized += "[" + ",".join(sorted(canonicalize_name(extra) for extra in requirement.extras)) + "]"
    if requirement.url:
        normalized += f" @ {requirement.url}" + (" " if requirement.marker else "")
    else:
        normalized += str(requirement.specifier)  # SpecifierSet's text is sorted
    if requirement.marker:
        normalized += f"; {requirement.marker}"
    return normalized


def normalize_requirements(requirements: Iterable[str]) -> tuple[str, ...]:
    """Requirements in canonical form, sorted, without duplicates, blank lines or comments."""
    lines = (line.strip() for line in requirements)
    return tuple(sorted({normalize_requirement(line) for line in lines if line and not line.startswith("#")}))
