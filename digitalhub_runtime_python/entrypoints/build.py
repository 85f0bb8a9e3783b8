"""The runtime's two steps in a build pod, around the image builder the operator runs between them.

``--step prepare`` (an init container) writes the build context into the build folder (``DIGITALHUB_BUILD_DIR``)
and records the run RUNNING with the image reference and the Dockerfile; the builder (Kaniko or BuildKit, the next
init container) builds it and pushes the image; ``--step finish`` reads the digest the builder wrote, stores the
function version that runs in the image and ends the run COMPLETED, with the end of the builder's log. A problem
the runtime can name (code that cannot be fetched, a bad instruction) ends the run in ERROR here; a failing
builder fails the pod, and the operator ends the run in ERROR with the builder's last lines.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

from digitalhub_runtime_python.builds.context import PROBLEMS, write_context
from digitalhub_runtime_python.builds.results import LOG_LINES, complete_build, fail_build, start_build
from digitalhub_runtime_python.builds.settings import BuildSettings
from digitalhub_runtime_python.contract import (
    BUILD_CONTEXT,
    BUILD_DIGEST,
    BUILD_DIR,
    BUILD_METADATA,
    BUILDER_CONTAINER,
    ENTRYPOINTS,
    ENV_BUILD_DIR,
    ENV_POD_NAME,
)
from digitalhub_runtime_python.entities.project import Project
from digitalhub_runtime_python.entrypoints.common import open_project, required_run, run_parser
from digitalhub_runtime_python.models.function import Function
from digitalhub_runtime_python.models.task import Action, Task
from digitalhub_runtime_python.stores.kubernetes import KubernetesStore

ENV_BUILDER = "DIGITALHUB_BUILD_BUILDER"
"""Which image builder the pod runs (kaniko, buildkit): recorded on the run."""
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def build_folder() -> Path:
    return Path(os.environ.get(ENV_BUILD_DIR) or BUILD_DIR)


def prepare(project: Project, run_key: str) -> int:
    """Write the build context and record the build as started; 1 (the run in ERROR) when it cannot be made."""
    store = project.backend.store
    run = store.get_run(run_key)
    try:
        settings = BuildSettings.from_env(os.environ)
        function = store.get_as(Function, run.spec.function)
        task = store.get_as(Task, run.spec.task)
        cache = project.backend.settings.home / "cache"
        folder = build_folder() / BUILD_CONTEXT
        context = write_context(function, tuple(task.spec.instructions), settings, os.environ, folder, cache)
    except PROBLEMS as exc:
        print(exc, file=sys.stderr)
        fail_build(store, run_key, str(exc), kind=type(exc).__name__)
        return 1
    start_build(store, run_key, context, os.environ.get(ENV_BUILDER) or "kaniko")
    print(f"build context of {context.image} written to {folder}:\n{context.dockerfile}")
    return 0


def read_digest(folder: Path) -> str | None:
    """The pushed image's digest: Kaniko's digest file, or BuildKit's metadata file; None when neither says."""
    try:
        text = (folder / BUILD_DIGEST).read_text().strip()
    except FileNotFoundError:
        try:
            text = str(json.loads((folder / BUILD_METADATA).read_text()).get("containerimage.digest", ""))
        except (FileNotFoundError, ValueError):
            return None
    return text if _DIGEST.match(text) else None


def builder_log(project: Project) -> str:
    """The end of the builder container's log in this pod, when the pod can read it ('' otherwise)."""
    store, pod = project.backend.store, os.environ.get(ENV_POD_NAME)
    if not isinstance(store, KubernetesStore) or not pod:
        return ""
    try:
        return str(
            store.core.read_namespaced_pod_log(pod, store.namespace, container=BUILDER_CONTAINER, tail_lines=LOG_LINES)
        )
    except Exception as exc:  # the log is a courtesy: the build itself succeeded
        print(f"warning: the builder's log could not be read: {exc}", file=sys.stderr)
        return ""


def finish(project: Project, run_key: str) -> int:
    """Record the built image on a new function version and end the run COMPLETED; 1 (ERROR) without a digest."""
    store = project.backend.store
    log = builder_log(project)
    digest = read_digest(build_folder())
    build = store.get_run(run_key).status.build
    if digest is None or build is None or not build.image:
        fail_build(
            store,
            run_key,
            f"the builder ended without saying what it pushed (no {BUILD_DIGEST} or {BUILD_METADATA} in "
            f"{build_folder()}): check the builder's log",
            log,
        )
        return 1
    done = complete_build(store, run_key, f"{build.image}@{digest}", digest, log)
    made = done.status.build if done is not None else None
    print(f"built {build.image}@{digest}: " + (f"function {made.function}" if made else "the run was stopped"))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = run_parser(ENTRYPOINTS[Action.BUILD], "Prepare a build pod's image build, or record its result.")
    parser.add_argument("--step", choices=("prepare", "finish"), required=True, help="before or after the builder")
    args = parser.parse_args(argv)
    run_key = required_run(parser, args)
    project = open_project(run_key)
    return prepare(project, run_key) if args.step == "prepare" else finish(project, run_key)
