"""The pod contract: what the SDK, the local launchers and the operator agree a run's process looks like.

A run crosses a process or pod boundary as its key only. The process is started with one of the commands below,
the environment from :func:`run_env` (which recreates the store settings and names the run), and, on Kubernetes,
the labels, annotations, home and port named here. Entrypoint module names are stable across releases: a Job
created by an older operator keeps working with a newer image.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path, PurePosixPath
from typing import Any

from digitalhub_runtime_python.models.function import FunctionSpec
from digitalhub_runtime_python.models.resources import GROUP
from digitalhub_runtime_python.models.task import Action
from digitalhub_runtime_python.settings import ENV_NAMESPACE, Settings

# -- entrypoints: ``python -m <module> --run KEY``; the job runner's module also has ``main(argv) -> exit code``
ENTRYPOINTS: dict[Action, str] = {
    Action.JOB: "digitalhub_runtime_python.runner",
    Action.SERVE: "digitalhub_runtime_python.serving",
}

# -- environment of a run's process
ENV_RUN_KEY = "DIGITALHUB_RUN_KEY"
ENV_RUN_LOG = "DIGITALHUB_RUN_LOG"  # a local child's log file (its stdout and stderr), set by the local launchers
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
ENV_PORT = "PORT"

# -- the pod
WORKSPACE = PurePosixPath("/workspace")
POD_HOME = WORKSPACE / ".digitalhub"
SERVE_PORT = 8080

# -- labels and annotations on a run's workload and pods
LABEL_PREFIX = f"{GROUP}/"
LABEL_RUN = LABEL_PREFIX + "run"  # value: the workload name; how the store finds a run's pods for their logs
LABEL_PROJECT = LABEL_PREFIX + "project"
LABEL_FUNCTION = LABEL_PREFIX + "function"
LABEL_ACTION = LABEL_PREFIX + "action"
ANNOTATION_RUN_KEY = LABEL_PREFIX + "run-key"
MANAGED_BY = {"app.kubernetes.io/managed-by": "digitalhub-operator", "app.kubernetes.io/part-of": "digitalhub"}

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def command(action: Action | str, run_key: str, python: str = sys.executable) -> list[str]:
    """The command line that executes ``run_key`` for ``action``: a pod passes ``python="python"``."""
    return [python, "-m", ENTRYPOINTS[Action(action)], "--run", run_key]


def installs_requirements(function: FunctionSpec) -> bool:
    """True when a run pod installs the function's requirements at start (it has some, and no built image).

    The pod's entrypoint installs them with uv before importing the handler (docs/environments.md); the operator
    gives such serve pods a longer startup window.
    """
    return bool(function.requirements) and not function.image


def local_log(home: Path, run_id: str) -> Path:
    """The file a run's local child process writes its stdout and stderr to (``$DIGITALHUB_HOME/processes``)."""
    return home / "processes" / f"{run_id}.log"


def workload_name(run_id: str) -> str:
    """The name of a run's Job / Deployment: ``run-<id>`` when that is a DNS label, else ``run-`` plus a digest."""
    candidate = f"run-{run_id.lower()}"
    if _DNS_LABEL.match(candidate):
        return candidate
    return "run-" + hashlib.sha256(run_id.encode()).hexdigest()[:32]


def pod_settings(namespace: str | None = None) -> Settings:
    """The settings a run's pod works with: the kubernetes backend and a writable home under the workspace."""
    return Settings(backend="kubernetes", home=Path(POD_HOME), namespace=namespace)


def run_env(run_key: str, settings: Settings) -> list[dict[str, Any]]:
    """Container env for the pod executing ``run_key``: the settings' variables, the run key, unbuffered output.

    Without a namespace in ``settings`` the pod reads its own from the downward API.
    """
    env: list[dict[str, Any]] = [{"name": name, "value": value} for name, value in settings.environ().items()]
    if not settings.namespace:
        env.append({"name": ENV_NAMESPACE, "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}})
    env += [{"name": ENV_RUN_KEY, "value": run_key}, {"name": "PYTHONUNBUFFERED", "value": "1"}]
    return env
