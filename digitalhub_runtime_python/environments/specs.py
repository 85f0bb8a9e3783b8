"""What environment a run needs: from its function's spec, the process environment and where it runs.

A run needs one when its function has requirements (and, in a pod, no built image), or when it runs locally in a
child process and asks for another Python version that uv finds installed. Without a match the run goes on with
the runtime's Python and a warning, unless ``DIGITALHUB_STRICT_PYTHON`` asks for an error.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from digitalhub_runtime_python.contract import installs_requirements
from digitalhub_runtime_python.environments.base import Runtime
from digitalhub_runtime_python.environments.keys import environment_key, index_settings
from digitalhub_runtime_python.environments.uv import find_python
from digitalhub_runtime_python.models.function import FunctionSpec, PythonVersion

ENV_STRICT_PYTHON = "DIGITALHUB_STRICT_PYTHON"


class PythonNotFound(RuntimeError):
    """A strict run asks for a Python version that is not installed here."""


@dataclass(frozen=True)
class EnvironmentSpec:
    """Everything an environment is made from. ``layered``: on the runtime's own Python, seeing its packages;
    otherwise on another interpreter, with the runtime's dependencies (and ``extras``) installed in it."""

    python: str
    python_version: str
    requirements: tuple[str, ...]
    index: tuple[tuple[str, str], ...]
    base: str
    layered: bool
    extras: tuple[str, ...] = ()

    @property
    def alias(self) -> str:
        """A digest of the spec as written (no parsing): finds an environment already built without normalizing."""
        content = json.dumps([self.python, self.python_version, self.requirements, self.index, self.base, self.extras])
        return hashlib.sha256(content.encode()).hexdigest()[:32]

    def key(self) -> str:
        """The content key: requirements normalized (RequirementError for one that does not parse)."""
        from digitalhub_runtime_python.environments.requirements import normalize_requirements

        base = f"{self.base} extras={','.join(self.extras)}" if self.extras else self.base
        return environment_key(self.python_version, normalize_requirements(self.requirements), self.index, base)


def runtime_extras(action: str, backend: str) -> tuple[str, ...]:
    """The runtime's extras a run needs on another Python version: serving for serve runs, the kernel and its
    server for sessions, the Kubernetes client for the Kubernetes backend (data and S3 packages come with the
    function's requirements when it uses them)."""
    needs = (("kubernetes", backend == "kubernetes"), ("serve", action == "serve"), ("session", action == "session"))
    return tuple(extra for extra, needed in needs if needed)


def _strict(environ: Mapping[str, str]) -> bool:
    return environ.get(ENV_STRICT_PYTHON, "").strip().lower() in ("1", "true", "yes", "on")


def environment_spec(
    function: FunctionSpec, environ: Mapping[str, str], local: bool, extras: tuple[str, ...] = ()
) -> EnvironmentSpec | None:
    """The environment a run of ``function`` needs, or None when it runs on the runtime's Python as it is.

    ``local``: the run executes on this machine in a child process (it may use another installed Python); else in
    a pod (on the image's Python). ``extras``: the runtime's extras the run needs on another Python version.
    """
    runtime = Runtime.current()
    wanted = PythonVersion(function.python_version).dotted
    python, layered = runtime.python, True
    if not local:
        if not installs_requirements(function):
            return None
    elif wanted != runtime.version:
        here = f"{sys.version_info.major}.{sys.version_info.minor}"
        found = runtime.interpreter if runtime.environment and here == wanted else find_python(wanted, environ)
        if found is not None:
            python, layered = found, False
        elif _strict(environ):
            raise PythonNotFound(
                f"function asks for Python {wanted} and none is installed here (uv looked on PATH and among its "
                f"own Pythons; it downloads none): install one (e.g. uv python install {wanted}), or unset "
                f"{ENV_STRICT_PYTHON} to run on Python {runtime.version}"
            )
    if layered and not function.requirements:
        return None
    return EnvironmentSpec(
        python=python,
        python_version=wanted if not layered else runtime.version,
        requirements=tuple(function.requirements),
        index=index_settings(environ),
        base=f"runtime {runtime.python} {runtime.fingerprint()}",
        layered=layered,
        extras=() if layered else tuple(sorted(extras)),
    )
