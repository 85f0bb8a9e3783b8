"""Warnings about differences between a function's declared environment and the running one."""

from __future__ import annotations

import sys

from digitalhub_runtime_python.environments.base import Runtime
from digitalhub_runtime_python.environments.specs import ENV_STRICT_PYTHON
from digitalhub_runtime_python.models.function import FunctionSpec, PythonVersion

ISOLATE = "run it with isolation='subprocess' (dhrun run --subprocess)"


def environment_warnings(spec: FunctionSpec, isolation: str | None) -> list[str]:
    """What the interpreter at hand lacks: another Python version, missing or mismatched requirements.

    ``isolation``: how a local run executes (``inprocess``, ``subprocess``); None for a pod. A process in its
    function's environment has the requirements by construction: only the Python version is checked there.
    """
    warnings = []
    current = f"{sys.version_info.major}.{sys.version_info.minor}"
    wanted = PythonVersion(spec.python_version).dotted
    if wanted != current:
        hint = ""
        if isolation == "inprocess":
            hint = f": {ISOLATE} to use an installed Python {wanted}"
        elif isolation == "subprocess":
            hint = (
                f": uv found no Python {wanted} installed (install one, e.g. uv python install {wanted}; "
                f"{ENV_STRICT_PYTHON}=1 makes this an error)"
            )
        warnings.append(f"function asks for Python {wanted}; running on Python {current}{hint}")
    if spec.requirements and Runtime.current().environment is None:
        warnings += _requirement_warnings(spec.requirements, isolation == "inprocess")
    return warnings


def _requirement_warnings(requirements: list[str], in_process: bool) -> list[str]:
    # Imported here: parsing requirements costs more than a run without any.
    from importlib import metadata

    from packaging.requirements import InvalidRequirement, Requirement

    warnings = []
    for line in requirements:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            warnings.append(f"requirement {line!r} is not a valid requirement specifier")
            continue
        try:
            installed = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            warnings.append(f"requirement {line!r} is not installed here")
            continue
        if requirement.specifier and not requirement.specifier.contains(installed, prereleases=True):
            warnings.append(f"requirement {line!r}: version {installed} is installed here")
    if warnings and in_process:
        warnings.append(
            f"requirements are only checked in this process: {ISOLATE} to install them in its own environment"
        )
    return warnings
