"""Which Python a local run's process starts with: its function environment's, or the launcher's own."""

from __future__ import annotations

import sys
from collections.abc import Mapping

from digitalhub_runtime_python.entities.backend import Backend
from digitalhub_runtime_python.entities.run import Run
from digitalhub_runtime_python.environments.cache import environments_root, find_environment
from digitalhub_runtime_python.environments.specs import PythonNotFound, environment_spec, runtime_extras
from digitalhub_runtime_python.models.function import Function


def run_python(backend: Backend, run: Run, environ: Mapping[str, str]) -> str | None:
    """The interpreter to start ``run``'s process with (``environ`` is the process's environment).

    The function environment's Python when it is built; the launcher's own (``sys.executable``) when the process
    has to build it first (its entrypoint does, then re-executes itself there, or ends the run in ERROR); None
    when the run needs no environment, so the fork server, which serves the launcher's own interpreter, may start
    it.
    """
    function = backend.store.get_as(Function, run.spec.function)
    extras = runtime_extras(run.spec.action, backend.settings.backend)
    try:
        spec = environment_spec(function.spec, environ, local=True, extras=extras)
    except PythonNotFound:
        return sys.executable  # the entrypoint ends the run in ERROR and says why
    if spec is None:
        return None
    found = find_environment(environments_root(backend.settings.home, environ), spec)
    return str(found.python) if found is not None else sys.executable
