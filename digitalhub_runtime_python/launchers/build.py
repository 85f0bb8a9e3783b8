"""Build runs on this machine: the function's image, built in this process by a Docker engine (``builds/``).

``launch`` returns once the build ended: the run is COMPLETED (and the function has a new version with the image)
or in ERROR with the builder's explanation. The builder's output is the run's log as it comes. Settings come from
``DIGITALHUB_BUILD_*`` variables of this process and of the task's envs (docs/builds.md).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from digitalhub_runtime_python.builds.context import PROBLEMS, write_context
from digitalhub_runtime_python.builds.engine import Builder, BuildFailed, DockerEngineBuilder
from digitalhub_runtime_python.builds.results import complete_build, fail_build, start_build
from digitalhub_runtime_python.builds.settings import BuildSettings
from digitalhub_runtime_python.entities.backend import Backend
from digitalhub_runtime_python.entities.run import Run
from digitalhub_runtime_python.execution.capture import LogSink
from digitalhub_runtime_python.extras import MissingExtra
from digitalhub_runtime_python.launchers.kubernetes import record_stop
from digitalhub_runtime_python.models.function import Function
from digitalhub_runtime_python.models.redaction import mask
from digitalhub_runtime_python.models.task import Task


class LocalBuildLauncher:
    """Builds function images with a Docker engine (``builder``: the docker SDK's, from DOCKER_HOST, by default)."""

    def __init__(self, backend: Backend, builder: Builder | None = None):
        self.backend = backend
        self.builder = builder

    def launch(self, run: Run) -> None:
        store = self.backend.store
        task = store.get_as(Task, run.spec.task)
        environ = {**os.environ, **{env.name: env.value for env in task.spec.envs}}
        try:
            settings = BuildSettings.from_env(environ)
            builder = self.builder or DockerEngineBuilder(settings.network)
            function = store.get_as(Function, run.spec.function)
            with tempfile.TemporaryDirectory(prefix="digitalhub-build-") as folder, self._log(run) as output:
                cache = self.backend.settings.home / "cache"
                context = write_context(function, tuple(task.spec.instructions), settings, environ, Path(folder), cache)
                start_build(store, run.key, context, builder.name)
                built = builder.build(context, output)
        except BuildFailed as exc:
            fail_build(store, run.key, str(exc), exc.log)
            return
        except (*PROBLEMS, MissingExtra) as exc:
            fail_build(store, run.key, str(exc), kind=type(exc).__name__)
            return
        except Exception as exc:  # no run stays RUNNING when nothing builds it any more
            fail_build(store, run.key, f"{type(exc).__name__}: {exc}", kind=type(exc).__name__)
            return
        complete_build(store, run.key, context.image, built.digest, built.log)

    @contextlib.contextmanager
    def _log(self, run: Run) -> Iterator[Callable[[str], None]]:
        """Where the builder's output goes: the run's log as it comes (masked, within the log limit), all of it
        handed over when the block ends."""
        backend = self.backend
        sink = LogSink(lambda records: backend.append_logs(run.entity, records), limit=backend.settings.log_limit)
        try:
            yield lambda text: sink.add("stdout", mask(text))
        finally:
            sink.close()

    def stop(self, run: Run) -> None:
        """Mark the run STOPPED: the engine finishes the build at hand, and no function version is made of it."""
        record_stop(self.backend, run)

    def resume(self, run: Run) -> None:
        raise NotImplementedError(f"run {run.id} is a build: builds cannot be resumed, start a new build instead")
