"""The pod contract: what the SDK, the local launchers and the operator agree a run's process looks like.

A run crosses a process or pod boundary as its key only. The process is started with one of the commands below,
the environment from :func:`run_env` (which recreates the store settings and names the run), and, on Kubernetes,
the labels, annotations, home and port named here. Entrypoint module names are stable across releases: a Job
created by an older operator keeps working with a newer image.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path, PurePosixPath
from typing import Any

from digitalhub_runtime_python.models.base import Metadata, Relationship
from digitalhub_runtime_python.models.function import FunctionSpec
from digitalhub_runtime_python.models.resources import GROUP
from digitalhub_runtime_python.models.resources import LABEL_ACTION as LABEL_ACTION  # a run's CR has them too
from digitalhub_runtime_python.models.resources import LABEL_FUNCTION as LABEL_FUNCTION
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.models.task import Action
from digitalhub_runtime_python.settings import ENV_NAMESPACE, Settings

# -- entrypoints: ``python -m <module> --run KEY``; the job runner's module also has ``main(argv) -> exit code``
ENTRYPOINTS: dict[Action, str] = {
    Action.JOB: "digitalhub_runtime_python.runner",
    Action.SERVE: "digitalhub_runtime_python.serving",
    Action.SESSION: "digitalhub_runtime_python.sessions",
    Action.BUILD: "digitalhub_runtime_python.builder",  # with --step prepare | finish, around the image builder
}
RUNTIME_IMAGE = "ghcr.io/scc-digitalhub/digitalhub-runtime-python:py{python}"
"""The runtime image of a Python version (``{python}``: e.g. ``3.11``): run pods' default, and builds' default base."""

# -- environment of a run's process
ENV_RUN_KEY = "DIGITALHUB_RUN_KEY"
ENV_RUN_LOG = "DIGITALHUB_RUN_LOG"  # a local child's log file (its stdout and stderr), set by the local launchers
ENV_JOB_NAME = "DIGITALHUB_JOB_NAME"  # scheduled runs' pods: the name of the Job the CronJob created
ENV_SERVE_PREFIX = "DIGITALHUB_SERVE_"
ENV_SERVE_HOST = ENV_SERVE_PREFIX + "HOST"
ENV_SERVE_PORT = ENV_SERVE_PREFIX + "PORT"
ENV_SERVE_NOTIFY_FD = ENV_SERVE_PREFIX + "NOTIFY_FD"
ENV_SERVE_OPTIONS = ENV_SERVE_PREFIX + "OPTIONS"
ENV_SERVE_DEBUG = ENV_SERVE_PREFIX + "DEBUG"
ENV_SERVE_META = ENV_SERVE_PREFIX + "META"  # a module serving itself: print its options and commands, exit
ENV_SERVE_NO_SERVE = ENV_SERVE_PREFIX + "NO_SERVE"  # a module serving itself: an in-process client, no listener
ENV_SERVE_TLS_CERT = ENV_SERVE_PREFIX + "TLS_CERT"
ENV_SERVE_DRAIN_DELAY = ENV_SERVE_PREFIX + "DRAIN_DELAY"
ENV_SERVE_DRAIN_TIMEOUT = ENV_SERVE_PREFIX + "DRAIN_TIMEOUT"
ENV_SERVE_JOB_STORE = ENV_SERVE_PREFIX + "JOB_STORE"  # the Redis URL replicas share async jobs through
ENV_SERVE_JOB_STORE_PASSWORD = ENV_SERVE_PREFIX + "JOB_STORE_PASSWORD"  # its password, from a Secret
ENV_SESSION_PREFIX = "DIGITALHUB_SESSION_"
ENV_SESSION_HOST = ENV_SESSION_PREFIX + "HOST"
ENV_SESSION_PORT = ENV_SESSION_PREFIX + "PORT"
ENV_SESSION_NOTIFY_FD = ENV_SESSION_PREFIX + "NOTIFY_FD"
ENV_SESSION_TOKEN = ENV_SESSION_PREFIX + "TOKEN"  # what a client must show; from a Secret on Kubernetes
ENV_PORT = "PORT"
ENV_POD_NAME = "DIGITALHUB_POD_NAME"  # the pod's own name (downward API): a build pod reads its builder's log

# -- a build run's pod: the runtime prepares the build context, an image builder builds and pushes, the runtime
# records the result (docs/builds.md); they share the build folder, which holds no part of the image
ENV_BUILD_DIR = "DIGITALHUB_BUILD_DIR"
BUILD_DIR = PurePosixPath("/digitalhub-build")
BUILD_CONTEXT = "context"  # the build context, with its Dockerfile, in the build folder
BUILD_DIGEST = "digest"  # the pushed image's digest, as Kaniko's --digest-file writes it
BUILD_METADATA = "metadata.json"  # what BuildKit's --metadata-file writes (containerimage.digest)
BUILDER_CONTAINER = "build"

# -- an image built for a function: its code at IMAGE_CODE, named by the variables below, so a run of that very
# code takes it from the image instead of fetching it
IMAGE_CODE = PurePosixPath("/opt/digitalhub-function")
ENV_IMAGE_CODE = "DIGITALHUB_IMAGE_CODE"  # the fingerprint of the code the image holds (code_fingerprint)
ENV_IMAGE_CODE_ENTRY = "DIGITALHUB_IMAGE_CODE_ENTRY"  # the file of a bare handler, relative to IMAGE_CODE

# -- the pod
WORKSPACE = PurePosixPath("/workspace")
POD_HOME = WORKSPACE / ".digitalhub"
SERVE_PORT = 8080  # a serve or a session pod listens here
SESSION_TOKEN_KEY = "token"  # the key of the token in a session's Secret
DEFAULT_IDLE_TIMEOUT = 3600  # seconds a session waits for a request before it ends, unless its task says

# -- labels and annotations on a run's workload and pods
LABEL_PREFIX = f"{GROUP}/"
LABEL_RUN = LABEL_PREFIX + "run"  # value: the workload name; how the store finds a run's pods for their logs
LABEL_PROJECT = LABEL_PREFIX + "project"
ANNOTATION_RUN_KEY = LABEL_PREFIX + "run-key"
MANAGED_BY = {"app.kubernetes.io/managed-by": "digitalhub-operator", "app.kubernetes.io/part-of": "digitalhub"}
LABEL_SCHEDULE = LABEL_PREFIX + "schedule"  # on a CronJob's Jobs and pods (instead of LABEL_RUN): the CronJob's name
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"  # what the Job controller labels a Job's pods with

# -- scheduled runs: a CronJob named ``schedule_name(run id)`` whose every Job executes one new run, the "firing"
SCHEDULE_NAME_MAX = 52  # the CronJob controller names its Jobs <CronJob name>-<up to 11 digits>
SCHEDULED_BY = "scheduled_by"  # the relationship from a firing to its schedule run

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_REPOSITORY_SEPARATORS = re.compile(r"[-._]+")


def command(action: Action | str, run_key: str, python: str = sys.executable) -> list[str]:
    """The command line that executes ``run_key`` for ``action``: a pod passes ``python="python"``."""
    return [python, "-m", ENTRYPOINTS[Action(action)], "--run", run_key]


def notify_ready(fd: int, port: int) -> None:
    """A local server's word to its launcher that it listens on ``port``: ``ready <port>`` on the notify pipe
    (DIGITALHUB_SERVE_NOTIFY_FD, DIGITALHUB_SESSION_NOTIFY_FD), which it then closes."""
    try:
        os.write(fd, f"ready {port}\n".encode())
    finally:
        os.close(fd)


def notify_failure(fd: int, cause: str) -> None:
    """A local server's word to its launcher that it cannot serve: ``error <cause>`` (on one line), then close."""
    try:
        os.write(fd, f"error {' '.join(cause.split())}\n".encode())
        os.close(fd)
    except OSError:
        pass


def ready_port(line: str | None) -> str | None:
    """The port in a ``ready <port>`` line read from the notify pipe; None for anything else (the child exited)."""
    parts = (line or "").split()
    return parts[1] if len(parts) == 2 and parts[0] == "ready" else None


def installs_requirements(function: FunctionSpec) -> bool:
    """True when a run pod installs the function's requirements at start (it has some, and no built image).

    The pod's entrypoint installs them with uv before importing the handler (docs/environments.md); the operator
    gives such serve pods a longer startup window.
    """
    return bool(function.requirements) and not function.image


def code_fingerprint(function: FunctionSpec) -> str:
    """What identifies a function's code (its source, as the spec says it): an image holding it says so."""
    content = json.dumps([function.code_src, function.code, function.base64])
    return hashlib.sha256(content.encode()).hexdigest()[:20]


def image_reference(registry: str, project: str, function: str, function_id: str) -> str:
    """Where a build of a function version goes: ``<registry>/<project>-<function>:<function id>``.

    Names keep to what an image repository allows (``.`` and ``_`` runs become ``-``).
    """
    repository = _REPOSITORY_SEPARATORS.sub("-", f"{project}-{function}")
    return f"{registry.rstrip('/')}/{repository}:{function_id}"


def local_log(home: Path, run_id: str) -> Path:
    """The file a run's local child process writes its stdout and stderr to (``$DIGITALHUB_HOME/processes``)."""
    return home / "processes" / f"{run_id}.log"


def workload_name(run_id: str, limit: int = 63) -> str:
    """The name of a run's Job / Deployment: ``run-<id>`` when that is a DNS label, else ``run-`` plus a digest."""
    candidate = f"run-{run_id.lower()}"
    if len(candidate) <= limit and _DNS_LABEL.match(candidate):
        return candidate
    return "run-" + hashlib.sha256(run_id.encode()).hexdigest()[:32]


def session_secret_name(run_id: str) -> str:
    """The Secret holding a session run's token: the operator creates it, the pod and the SDK read it."""
    return f"{workload_name(run_id)}-session"


def schedule_name(run_id: str) -> str:
    """The name of a scheduled run's CronJob (short enough for the names of the Jobs it creates)."""
    return workload_name(run_id, SCHEDULE_NAME_MAX)


def scheduled_command(schedule_run_key: str, python: str = sys.executable) -> list[str]:
    """What a scheduled run's CronJob pods run: create the firing run named after their Job, then execute it."""
    return [python, "-m", ENTRYPOINTS[Action.JOB], "--scheduled-by", schedule_run_key]


def firing_run(schedule_run: Run, job_name: str) -> Run:
    """The run one Job of a schedule executes: the schedule run's spec without the schedule, its id the Job's name
    without ``run-`` (so that its workload name *is* that Job: the operator finds the Job it would create for the
    run already there, and launches nothing), related to the schedule run. The pod and the operator both make it,
    whoever comes first; the same name makes that idempotent."""
    if not job_name.startswith("run-"):
        raise ValueError(f"job {job_name!r} was not created for a scheduled run (its name must start with 'run-')")
    run_id = job_name.removeprefix("run-")
    return Run(
        project=schedule_run.project,
        name=run_id,
        id=run_id,
        spec=schedule_run.spec.model_copy(update={"schedule": None}),
        metadata=Metadata(relationships=[Relationship(type=SCHEDULED_BY, dest=schedule_run.key)]),
    )


def pod_settings(namespace: str | None = None) -> Settings:
    """The settings a run's pod works with: the kubernetes backend and a writable home under the workspace."""
    return Settings(backend="kubernetes", home=Path(POD_HOME), namespace=namespace)


def _downward(name: str, field_path: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"fieldRef": {"fieldPath": field_path}}}


def run_env(run_key: str | None, settings: Settings) -> list[dict[str, Any]]:
    """Container env for the pod executing ``run_key``: the settings' variables, the run key, unbuffered output.

    Without a namespace in ``settings`` the pod reads its own from the downward API. Without a run key (a scheduled
    run's CronJob pods, whose run is made when the Job starts) the pod reads its Job's name instead.
    """
    env: list[dict[str, Any]] = [{"name": name, "value": value} for name, value in settings.environ().items()]
    if not settings.namespace:
        env.append(_downward(ENV_NAMESPACE, "metadata.namespace"))
    if run_key is None:
        env.append(_downward(ENV_JOB_NAME, f"metadata.labels['{JOB_NAME_LABEL}']"))
    else:
        env.append({"name": ENV_RUN_KEY, "value": run_key})
    env.append({"name": "PYTHONUNBUFFERED", "value": "1"})
    return env
