"""Print the third-party requirements of this repository's projects, one a line, for installing them before the code.

    python3 images/requirements.py 'pyproject.toml[data,s3]' operator/pyproject.toml

Each argument is a pyproject.toml with optional extras in brackets. A requirement on one of the named projects (the
operator's ``digitalhub-runtime-python[kubernetes]``) is expanded into that project's own requirements instead of
being printed. ``--build-system`` adds the projects' build requirements (for wheel folders of offline builds).
Standard library only: it runs in the image before anything is installed.
"""

from __future__ import annotations

import re
import sys
import tomllib

_REQUIREMENT = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _extras(text: str | None) -> list[str]:
    return [extra.strip() for extra in (text or "").split(",") if extra.strip()]


def requirements(specs: list[str], build_system: bool = False) -> list[str]:
    """The requirements of ``specs`` ("path/pyproject.toml[extra,...]"), without the projects themselves."""
    projects: dict[str, dict] = {}
    wanted: list[tuple[str, list[str]]] = []
    for spec in specs:
        path, _, bracket = spec.partition("[")
        with open(path, "rb") as file:
            data = tomllib.load(file)
        name = _normalized(data["project"]["name"])
        projects[name] = data
        wanted.append((name, _extras(bracket.rstrip("]"))))
    lines: list[str] = []
    seen: set[tuple[str, str]] = set()

    def add(name: str, extra: str) -> None:
        if (name, extra) in seen:
            return
        seen.add((name, extra))
        project = projects[name]["project"]
        listed = project.get("dependencies", []) if not extra else project.get("optional-dependencies", {})[extra]
        for line in listed:
            match = _REQUIREMENT.match(line)
            dependency = _normalized(match.group(1)) if match else ""
            if dependency in projects:
                for inner in ["", *_extras(match.group(2) if match else None)]:
                    add(dependency, inner)
            elif line not in lines:
                lines.append(line)

    for name, extras in wanted:
        for extra in ["", *extras]:
            if extra and extra not in projects[name]["project"].get("optional-dependencies", {}):
                raise SystemExit(f"{name} has no extra {extra!r}: use one of its [project.optional-dependencies]")
            add(name, extra)
    if build_system:
        for data in projects.values():
            lines += [line for line in data.get("build-system", {}).get("requires", []) if line not in lines]
    return lines


if __name__ == "__main__":
    arguments = sys.argv[1:]
    with_build = "--build-system" in arguments
    print("\n".join(requirements([a for a in arguments if a != "--build-system"], with_build)))
