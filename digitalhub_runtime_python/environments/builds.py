"""Building one environment in a folder with uv: a virtualenv, the runtime's layer, the function's requirements.

Requirements are resolved first (``uv pip compile``), preferring the versions the runtime already has and, in a
layered environment, constrained to the runtime's own dependencies' versions (a requirement that would replace
one fails with uv's explanation instead of breaking the runtime). Only what the runtime lacks is then installed
(``uv pip install --no-deps``): packages the runtime has are seen through the layer, not copied.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from digitalhub_runtime_python.environments.base import (
    PTH_NAME,
    RECORD,
    Runtime,
    installed,
    layer_pth,
    runtime_closure,
    runtime_package,
    runtime_requirements,
)
from digitalhub_runtime_python.environments.requirements import normalize_requirements
from digitalhub_runtime_python.environments.specs import EnvironmentSpec
from digitalhub_runtime_python.environments.uv import run_uv
from digitalhub_runtime_python.extras import EXTRAS, missing_modules

BIN = "Scripts" if os.name == "nt" else "bin"
PYTHON = "python.exe" if os.name == "nt" else "python"


def python_of(folder: Path) -> Path:
    """The interpreter of the virtualenv in ``folder``."""
    return folder / BIN / PYTHON


def site_packages(folder: Path) -> Path:
    """The site-packages folder of the virtualenv in ``folder``."""
    if os.name == "nt":
        return folder / "Lib" / "site-packages"
    return next((folder / "lib").glob("python3*/site-packages"))


def installed_extras() -> list[str]:
    """The runtime's extras installed here: their packages are the runtime's too."""
    return [extra for extra in EXTRAS if not missing_modules(extra)]


def _resolve(
    folder: Path, spec: EnvironmentSpec, requirements: list[str], environ: Mapping[str, str], cache: Path
) -> list[str]:
    """The pinned set of packages the environment needs, as ``uv pip compile`` writes them."""
    runtime = Runtime.current()
    have = installed(runtime.site_dirs)
    inputs, resolved = folder / "requirements.in", folder / "requirements.txt"
    inputs.write_text("".join(f"{line}\n" for line in requirements))
    # An existing output file gives uv its preferences: the versions the runtime already has.
    resolved.write_text("".join(f"{name}=={version}\n" for name, version in sorted(have.items())))
    args = ["pip", "compile", "--quiet", "--no-config", "--no-header", "--no-annotate"]
    args += ["--python", str(python_of(folder)), "--output-file", str(resolved), str(inputs)]
    if spec.layered:
        closure = runtime_closure(runtime.site_dirs, installed_extras())
        constraints = folder / "constraints.txt"
        constraints.write_text("".join(f"{name}=={version}\n" for name, version in sorted(closure.items())))
        args += ["--constraints", str(constraints)]
    run_uv(args, environ, cache, cwd=folder)
    pins = [line.strip() for line in resolved.read_text().splitlines() if line.strip() and line[0] not in "#-"]
    return [pin for pin in pins if not (spec.layered and _pinned(pin) in have.items())]


def _pinned(pin: str) -> tuple[str, str]:
    """``Typing_Extensions==4.12.2`` -> (``typing-extensions``, ``4.12.2``)."""
    from packaging.utils import canonicalize_name

    name, _, version = pin.partition("==")
    return canonicalize_name(name.strip()), version.strip()


def build(folder: Path, spec: EnvironmentSpec, key: str, environ: Mapping[str, str], cache: Path) -> dict[str, Any]:
    """Make the environment of ``spec`` in ``folder`` (which must not exist) and write its record; return it."""
    started = time.monotonic()
    run_uv(["venv", "--quiet", "--no-config", "--relocatable", "--python", spec.python, str(folder)], environ, cache)
    site = site_packages(folder)
    normalized = list(normalize_requirements(spec.requirements))
    requirements = list(normalized)
    if spec.layered:
        (site / PTH_NAME).write_text(layer_pth(Runtime.current().site_dirs))
    else:
        (site / runtime_package().name).symlink_to(runtime_package(), target_is_directory=True)
        requirements += runtime_requirements(spec.extras)
    pins = _resolve(folder, spec, requirements, environ, cache)
    if pins:
        (folder / "install.txt").write_text("".join(f"{pin}\n" for pin in pins))
        run_uv(
            ["pip", "install", "--quiet", "--no-config", "--no-deps", "--python", str(python_of(folder))]
            + ["--requirements", str(folder / "install.txt")],
            environ,
            cache,
            cwd=folder,
        )
    record = {
        "key": key,
        "python": spec.python,
        "python_version": spec.python_version,
        "requirements": normalized,
        "index": [list(item) for item in spec.index],
        "layered": spec.layered,
        "extras": list(spec.extras),
        "installed": pins,
        "base": Runtime.current().record(),
        "created": datetime.now(UTC).isoformat(),
        "build_seconds": round(time.monotonic() - started, 3),
    }
    (folder / RECORD).write_text(json.dumps(record, indent=2) + "\n")
    return record
