"""The Dockerfile of a function image, rendered from what the image holds (a pure function of an ``ImageRecipe``).

Layers go from what changes least to what changes most, so a rebuild reuses all it can:

1. the base image, the uid 1000 user, ``/workspace`` and the runtime's virtualenv (``/opt/digitalhub``, first on
   ``PATH``; a base that is a runtime image already has it), and a check of the base's Python version;
2. uv, then the runtime, installed with uv into that virtualenv (nothing to do on a runtime image);
3. the function's requirements (normalized: equal sets are one layer), then ``uv pip check``;
4. the task's ``instructions``, one ``RUN`` each, as root;
5. the function's code (unless runs fetch it at start), named by the pod contract's variables.

Package indexes come from uv's index variables, as build-time ``ARG`` defaults (credentials refused: the
Dockerfile is stored with the run and build arguments stay in the image's history).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass

from digitalhub_runtime_python.contract import (
    ENTRYPOINTS,
    ENV_IMAGE_CODE,
    ENV_IMAGE_CODE_ENTRY,
    IMAGE_CODE,
    WORKSPACE,
)
from digitalhub_runtime_python.models.redaction import credentials_in, urls_in
from digitalhub_runtime_python.models.task import Action

VENV = "/opt/digitalhub"
REQUIREMENTS_FILE = "requirements.txt"
"""In the build context: the function's normalized requirements, one a line."""
CODE_FOLDER = "code"
"""In the build context: the function's code, as a run would fetch it."""
USER = 1000
BUILD_VARIABLES = (
    ("UV_NO_CACHE", "1"),
    ("UV_PYTHON_DOWNLOADS", "never"),
    ("PIP_NO_CACHE_DIR", "1"),
    ("PIP_DISABLE_PIP_VERSION_CHECK", "1"),
)
"""Set while the image builds, not in it: no installer caches in layers, no Python downloads."""
_IMAGE = re.compile(r"^[^\s]+$")


class BuildError(ValueError):
    """A build that cannot be rendered as asked; the message names the field and the fix."""


@dataclass(frozen=True)
class CodeLayer:
    """The function's code copied into the image: its fingerprint and the entry file of a bare handler."""

    fingerprint: str
    entry: str | None = None


@dataclass(frozen=True)
class ImageRecipe:
    """Everything a function image is made from."""

    base_image: str
    python: str
    """The Python version the function asks for, e.g. ``3.11``: the base must have it."""
    runtime: str
    """The runtime's requirement, e.g. ``digitalhub-runtime-python[kubernetes]==0.1.0``."""
    uv: str
    """The version of uv to install when the base has none."""
    index: tuple[tuple[str, str], ...] = ()
    """uv's index variables (``environments.keys.index_settings``), without credentials."""
    requirements: tuple[str, ...] = ()
    """Normalized (``environments.requirements.normalize_requirements``)."""
    instructions: tuple[str, ...] = ()
    code: CodeLayer | None = None
    title: str = "a function"


def check_instructions(instructions: Iterable[str]) -> tuple[str, ...]:
    """The instructions as RUN lines take them: one shell command each, on one line."""
    checked = []
    for number, instruction in enumerate(instructions):
        text = instruction.strip()
        if not text or "\n" in text or "\r" in text:
            raise BuildError(
                f"instructions[{number}] {instruction!r}: give one shell command on one line "
                "(join steps with '&&' in one instruction, or give several instructions)"
            )
        checked.append(text)
    return tuple(checked)


def _arg_value(value: str) -> str:
    """A value as a Dockerfile ARG default: JSON-quoted, with ``$`` kept from substitution."""
    return json.dumps(value).replace("$", "\\$")


def pip_options(index: Iterable[tuple[str, str]]) -> list[str]:
    """pip's options for uv's index variables: how the base's pip fetches uv itself."""
    options: list[str] = []
    for name, value in index:
        if name in ("UV_DEFAULT_INDEX", "UV_INDEX_URL"):
            options += ["--index-url", value]
        elif name in ("UV_INDEX", "UV_EXTRA_INDEX_URL"):
            for url in value.split():
                options += ["--extra-index-url", url.split("=", 1)[1] if "=" in url.split("://")[0] else url]
        elif name == "UV_FIND_LINKS":
            for location in re.split(r"[,\s]+", value.strip()):
                options += ["--find-links", location]
        elif name == "UV_NO_INDEX" and value.strip().lower() in ("1", "true", "yes", "on"):
            options.append("--no-index")
    return options


def _run(*commands: str) -> str:
    """One RUN step of several shell commands, each on its own line."""
    return "RUN set -eu; \\\n    " + "; \\\n    ".join(commands)


def _setup(recipe: ImageRecipe) -> list[str]:
    major, minor = recipe.python.split(".")
    check = (
        f"import sys; v = sys.version_info[:2]; v == ({major}, {minor}) or sys.exit("
        f'"the base image has Python %d.%d: the function asks for {recipe.python} (python_version): '
        f'give a base_image with Python {recipe.python}" % v)'
    )
    return [
        "USER root",
        f"ENV VIRTUAL_ENV={VENV} PATH={VENV}/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1",
        *(f"ARG {name}={_arg_value(value)}" for name, value in (*BUILD_VARIABLES, *recipe.index)),
        "# run pods run as uid 1000 with a read-only root; /workspace and /tmp are volumes there",
        _run(
            f"if ! getent passwd {USER} >/dev/null && command -v useradd >/dev/null; then "
            f"groupadd --gid {USER} digitalhub; useradd --uid {USER} --gid {USER} --home-dir {WORKSPACE} "
            "--no-create-home --shell /usr/sbin/nologin digitalhub; fi",
            f"install -d -o {USER} -g {USER} {WORKSPACE}",
            f"[ -x {VENV}/bin/python ] || python3 -m venv {VENV}",
            f"python -c {shlex.quote(check)}",
        ),
        "# the runtime",
        _run(
            f"[ -x {VENV}/bin/uv ] || python -m pip install "
            + " ".join(shlex.quote(option) for option in [*pip_options(recipe.index), f"uv=={recipe.uv}"]),
            f"uv pip install {shlex.quote(recipe.runtime)}",
        ),
    ]


def render_dockerfile(recipe: ImageRecipe) -> str:
    """The Dockerfile of ``recipe``'s image; its context holds ``requirements.txt`` and ``code/`` (see
    ``builds.context``). BuildError for a base image, index setting or instruction that cannot be used."""
    if not _IMAGE.match(recipe.base_image):
        raise BuildError(f"base_image {recipe.base_image!r} is not an image reference: use e.g. python:3.11-slim")
    for name, value in recipe.index:
        if any(credentials_in(url) for url in urls_in(value)):
            raise BuildError(
                f"{name} carries credentials, which a build would keep in the image's history and the run's "
                "Dockerfile: give builds an index they reach without them (a mirror, or the index's network policy)"
            )
    lines = [f"# The image of {recipe.title}: rendered by digitalhub-runtime-python (docs/builds.md).", ""]
    lines += [f"FROM {recipe.base_image}", *_setup(recipe)]
    if recipe.requirements:
        lines += [
            "# the function's requirements",
            f"COPY {REQUIREMENTS_FILE} {VENV}/function-requirements.txt",
            _run(f"uv pip install --requirements {VENV}/function-requirements.txt", "uv pip check"),
        ]
    instructions = check_instructions(recipe.instructions)
    if instructions:
        lines += ["# the task's instructions", *(f"RUN {instruction}" for instruction in instructions)]
    if recipe.code is not None:
        entry = recipe.code.entry or ""
        lines += [
            "# the function's code",
            f"COPY {CODE_FOLDER} {IMAGE_CODE}",
            f"ENV {ENV_IMAGE_CODE}={recipe.code.fingerprint} {ENV_IMAGE_CODE_ENTRY}={_arg_value(entry)}",
        ]
    command = json.dumps(["python", "-m", ENTRYPOINTS[Action.JOB]])
    lines += [f"USER {USER}:{USER}", f"WORKDIR {WORKSPACE}", f"CMD {command}"]
    return "\n".join(lines) + "\n"
