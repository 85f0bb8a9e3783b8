"""Warnings about differences between a function's declared environment and the running one."""

from __future__ import annotations

import sys

from digitalhub_runtime_python.models.function import FunctionSpec, PythonVersion


def environment_warnings(spec: FunctionSpec) -> list[str]:
    """What the local interpreter lacks: another Python version, missing or mismatched requirements."""
    warnings = []
    current = f"{sys.version_info.major}.{sys.version_info.minor}"
    wanted = PythonVersion(spec.python_version).dotted
    if wanted != current:
        warnings.append(f"function asks for Python {wanted}; running locally on Python {current}")
    if spec.requirements:
        warnings += _requirement_warnings(spec.requirements)
    return warnings


def _requirement_warnings(requirements: list[str]) -> list[str]:
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
    return warnings
