"""A package index on loopback for function image builds: the runtime's own wheel (built from this tree), the
wheel folder of its dependencies, and the tiny packages of the environment tests' index, served as a PEP 503
"simple" index over HTTP. Build steps reach it with the host's network (``DIGITALHUB_BUILD_NETWORK=host``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from digitalhub_runtime_python.environments.uv import uv_binary
from tests.containers.engine import ROOT
from tests.servers.package_index import PackageIndex

PROJECT_FILES = ("pyproject.toml", "README.md", "digitalhub_runtime_python")


def runtime_wheel(out: Path, scratch: Path, wheels: Path, root: Path = ROOT) -> Path:
    """Build this tree's runtime into a wheel in ``out``, from a copy (a build writes into its source tree), with
    the build backend from ``wheels``."""
    source = scratch / "runtime-source"
    for name in PROJECT_FILES:
        if (root / name).is_dir():
            shutil.copytree(root / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(parents=True, exist_ok=True)
            shutil.copy(root / name, source / name)
    command = [uv_binary(), "build", "--quiet", "--no-index", "--find-links", str(wheels), "--wheel"]
    command += ["--python", sys.executable, "--out-dir", str(out), str(source)]
    subprocess.run(command, check=True, timeout=300, capture_output=True)
    [wheel] = out.glob("digitalhub_runtime_python-*.whl")
    return wheel


def function_index(root: Path, wheels: Path) -> PackageIndex:
    """The index's folder under ``root``: ``tinypkg`` 1.0, the runtime, and (hard links to) ``wheels``."""
    index = PackageIndex(root)
    index.add("tinypkg", "1.0")
    for wheel in wheels.glob("*.whl"):
        try:
            os.link(wheel, index.wheels / wheel.name)
        except OSError:  # another filesystem
            shutil.copy(wheel, index.wheels / wheel.name)
    runtime_wheel(index.wheels, root, wheels)
    index.simple()
    return index
