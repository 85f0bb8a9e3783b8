"""Before a run's handler is imported: put the process in its function's environment (in a pod or a local child).

The job runner and the server call :func:`enter_environment` first. When the run needs an environment
(``environments/specs.py``) and this process is not in it, the environment is found or built, recorded on the run
(``status.environment``: key, built or reused, seconds) and the process re-executes the same entrypoint with the
environment's Python; the pod's command stays as the contract says. A requirement that does not parse, uv's
failure or a missing Python that a strict setting asks for ends the run in ERROR with the explanation.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from digitalhub_runtime_python.entities.project import Project
from digitalhub_runtime_python.environments.base import Runtime, RuntimeNotInstalled
from digitalhub_runtime_python.environments.cache import (
    Environment,
    EnvironmentBuildError,
    ensure_environment,
    environments_root,
    find_environment,
)
from digitalhub_runtime_python.environments.requirements import RequirementError
from digitalhub_runtime_python.environments.specs import (
    EnvironmentSpec,
    PythonNotFound,
    environment_spec,
    runtime_extras,
)
from digitalhub_runtime_python.models.function import Function
from digitalhub_runtime_python.models.run import EnvironmentInfo, ErrorInfo
from digitalhub_runtime_python.models.run import Run as RunModel
from digitalhub_runtime_python.models.states import IllegalTransition, State

ENV_SWITCHED = "DIGITALHUB_ENV_SWITCHED"
"""Set on re-executing into an environment: finding oneself outside it again would be a loop."""
PROBLEMS = (RequirementError, EnvironmentBuildError, PythonNotFound, RuntimeNotInstalled)


def _record(info: EnvironmentInfo) -> Callable[[RunModel], RunModel]:
    def change(run: RunModel) -> RunModel:
        run.status.environment = info
        return run

    return change


def _key(root: Path, spec: EnvironmentSpec) -> str:
    """The key of ``spec``, without parsing its requirements when it was built with this very spec before."""
    found = find_environment(root, spec)
    return found.key if found is not None else spec.key()


def _fail(project: Project, run_key: str, exc: Exception) -> int:
    message = str(exc)
    print(message, file=sys.stderr)
    error = ErrorInfo(type=type(exc).__name__, message=message)
    try:
        project.backend.store.transition(run_key, State.ERROR, message, error=error)
    except IllegalTransition:  # stopped meanwhile
        pass
    return 1


def enter_environment(
    project: Project,
    run_key: str,
    module: str,
    argv: Sequence[str],
    before_exec: Callable[[], None] | None = None,
) -> int | None:
    """None: go on in this process. An exit code: the run ended in ERROR. Otherwise ``exec`` ``python -m module
    argv`` with the environment's Python, never returning (``before_exec`` releases what this process started)."""
    started = time.monotonic()
    store, settings = project.backend.store, project.backend.settings
    run = store.get_run(run_key)
    switched = os.environ.pop(ENV_SWITCHED, None)
    try:
        function = store.get_as(Function, run.spec.function)
        extras = runtime_extras(run.spec.action, settings.backend)
        spec = environment_spec(function.spec, os.environ, local=run.spec.local_execution, extras=extras)
        if spec is None:
            return None
        root = environments_root(settings.home, os.environ)
        current = Runtime.current().environment
        if current is not None and _key(root, spec) == current:  # already in it: started with its Python
            Environment(current, Path(sys.prefix)).use()
            if run.status.environment is None:  # started with its Python by the launcher: say it was reused
                seconds = round(time.monotonic() - started, 3)
                info = EnvironmentInfo(key=current, python=spec.python_version, built=False, seconds=seconds)
                store.update_run(run_key, _record(info))
            return None
        environment, built = ensure_environment(root, spec, os.environ)
        if switched == environment.key:
            raise EnvironmentBuildError(
                f"environment {environment.key} does not start: {environment.python} runs "
                f"outside it (sys.prefix {sys.prefix}); remove it with dhrun env prune --all"
            )
        environment.use()
    except PROBLEMS as exc:
        return _fail(project, run_key, exc)
    seconds = round(time.monotonic() - started, 3)
    info = EnvironmentInfo(key=environment.key, python=spec.python_version, built=built is not None, seconds=seconds)
    store.update_run(run_key, _record(info))
    if built is not None:
        installed = len(built["installed"])
        print(f"environment {environment.key}: {installed} package(s) installed in {seconds:.1f} s", file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    if before_exec is not None:
        before_exec()
    python = str(environment.python)
    os.execve(python, [python, "-m", module, *argv], {**os.environ, ENV_SWITCHED: environment.key})
