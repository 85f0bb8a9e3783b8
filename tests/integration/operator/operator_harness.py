"""Run the real operator (``python -m digitalhub_operator``) against the emulator, and play the kubelet and Job
controller the emulator does not have: create a Job's pods and move Pod / Job / Deployment status along."""

from __future__ import annotations

import base64
import itertools
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jsonschema
from kubernetes import client

from digitalhub_runtime_python.models.crds import build_crds, json_schema
from digitalhub_runtime_python.models.errors import validate
from digitalhub_runtime_python.models.function import Function
from digitalhub_runtime_python.models.project import Project
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.models.task import Task, task_kind
from digitalhub_runtime_python.stores.base import AlreadyExists
from digitalhub_runtime_python.stores.kubernetes import KubernetesStore
from tests.waiting import wait_for

_NAMES = itertools.count(1)
PROJECT = "demo"
CODE = "def main(n=1):\n    return n * 2\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OperatorProcess:
    """``python -m digitalhub_operator`` in a child process, watching one namespace of the emulator."""

    def __init__(self, kubeconfig: Path, namespace: str, log: Path, **settings: str):
        self.health_port = free_port()
        self.env = {
            **os.environ,
            "KUBECONFIG": str(kubeconfig),
            "DIGITALHUB_OPERATOR_NAMESPACES": namespace,
            "DIGITALHUB_OPERATOR_HEALTH_HOST": "127.0.0.1",
            "DIGITALHUB_OPERATOR_HEALTH_PORT": str(self.health_port),
            "DIGITALHUB_OPERATOR_CHECK_INTERVAL": "0.2",
            **settings,
        }
        self.env.pop("KUBERNETES_SERVICE_HOST", None)
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> OperatorProcess:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "digitalhub_operator"], env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        wait_for(self._ready, timeout, f"the operator to be ready (log: {self.log})")
        return self

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the operator exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
        return httpx.get(f"http://127.0.0.1:{self.health_port}/readyz", timeout=1).status_code == 200

    def probe(self, path: str) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.health_port}{path}", timeout=2)

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class World:
    """The test's view of one namespace: the store the SDK uses, the official client, and a fake kubelet."""

    def __init__(self, api: client.ApiClient, namespace: str):
        self.namespace = namespace
        self.store = KubernetesStore(api_client=api, namespace=namespace)
        self.batch, self.apps, self.core = client.BatchV1Api(api), client.AppsV1Api(api), client.CoreV1Api(api)
        self.custom = client.CustomObjectsApi(api)
        try:  # what get_or_create_project does first: the SDK's runs always have their Project
            self.store.create(Project(name=PROJECT))
        except AlreadyExists:
            pass

    # -- entities, as the SDK stores them

    def function(self, **spec: Any) -> Function:
        entity = validate(
            Function,
            {
                "project": PROJECT,
                "name": f"fn{next(_NAMES)}",
                "spec": {"code": CODE, "handler": "main", "python_version": "PYTHON3_11", **spec},
            },
        )
        return self.store.create(entity)

    def task(self, function: Function, action: str = "job", **fields: Any) -> Task:
        entity = validate(
            Task,
            {
                "project": PROJECT,
                "name": f"{function.name}-{action}",
                "kind": task_kind(action),
                "spec": {"function": function.key, "action": action, **fields},
            },
        )
        return self.store.create(entity)

    def run(self, action: str = "job", function: Function | None = None, **task_fields: Any) -> Run:
        """Function + task + run, as ``fn.run(action=...)`` stores them; the operator takes it from there."""
        function = function or self.function()
        task = self.task(function, action, **task_fields)
        run_id = f"r{next(_NAMES)}-{os.urandom(3).hex()}"
        return self.store.create(
            validate(
                Run,
                {
                    "project": PROJECT,
                    "name": run_id,
                    "id": run_id,
                    "spec": {"task": task.key, "function": function.key, "action": action, "parameters": {"n": 2}},
                },
            )
        )

    def get_run(self, run: Run) -> Run:
        return self.store.get_key(run.key)  # type: ignore[return-value]

    def wait_run(self, run: Run, check: Callable[[Run], bool], what: str, timeout: float = 30) -> Run:
        return wait_for(lambda: (lambda r: r if check(r) else None)(self.get_run(run)), timeout, f"run {what}")

    def run_cr(self, run: Run) -> dict[str, Any]:
        return self.custom.get_namespaced_custom_object("digitalhub.io", "v1alpha1", self.namespace, "runs", run.id)

    # -- workloads

    def job(self, name: str) -> dict[str, Any]:
        return self.batch.api_client.sanitize_for_serialization(self.batch.read_namespaced_job(name, self.namespace))

    def deployment(self, name: str) -> dict[str, Any]:
        return self.apps.api_client.sanitize_for_serialization(
            self.apps.read_namespaced_deployment(name, self.namespace)
        )

    def service(self, name: str) -> dict[str, Any]:
        return self.core.api_client.sanitize_for_serialization(self.core.read_namespaced_service(name, self.namespace))

    def secret(self, name: str) -> dict[str, Any]:
        return self.core.api_client.sanitize_for_serialization(self.core.read_namespaced_secret(name, self.namespace))

    def gone(self, read: Callable[[str], Any], name: str) -> bool:
        try:
            read(name)
        except client.ApiException as exc:
            return exc.status == 404
        return False

    def events(self, run: Run) -> list[tuple[str, str, str]]:
        items = self.core.list_namespaced_event(self.namespace).items
        return [(e.type, e.reason, e.message or "") for e in items if e.involved_object.name == run.id]

    # -- the kubelet / controllers the emulator lacks

    def job_with_running_pod(self) -> tuple[Run, str, dict[str, Any], str]:
        """A job run whose Job the operator created and whose pod runs: (run, job name, job, pod name)."""
        run = self.run("job")
        name = f"run-{run.id}"
        job = wait_for(lambda: self.job(name), what="the Job")
        pod = self.start_pod(job)
        self.pod_status(pod, running())
        return run, name, job, pod

    def start_pod(self, workload: dict[str, Any], suffix: str = "abcde") -> str:
        """Create a pod as the Job / ReplicaSet controller would: the template's labels, owned by the workload."""
        template = workload["spec"]["template"]
        name = f"{workload['metadata']['name']}-{suffix}"
        meta = workload["metadata"]
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "labels": template["metadata"]["labels"],
                "ownerReferences": [
                    {
                        "apiVersion": workload["apiVersion"],
                        "kind": workload["kind"],
                        "name": meta["name"],
                        "uid": meta["uid"],
                        "controller": True,
                    }
                ],
            },
            "spec": template["spec"],
        }
        self.core.create_namespaced_pod(self.namespace, pod)
        self.pod_status(name, {"phase": "Pending"})
        return name

    def container_process(
        self, workload: dict[str, Any], kubeconfig: Path, home: Path, container: str | None = None, **overrides: str
    ) -> tuple[list[str], dict[str, str]]:
        """Command line and environment that run the workload's container here, as a child process: downward-API
        and Secret values resolved as the kubelet would, the image's ``python`` being this interpreter, KUBECONFIG
        and a writable home standing in for the pod's service account and emptyDir, then ``overrides`` (e.g. a free
        PORT: no network namespace). ``container``: the (init) container of that name, else the first container."""
        spec = workload["spec"]["template"]["spec"]
        found = [c for c in [*spec.get("initContainers", []), *spec["containers"]] if c["name"] == container]
        chosen = found[0] if found else spec["containers"][0]
        env = {**os.environ}
        env.pop("KUBERNETES_SERVICE_HOST", None)
        for item in chosen["env"]:
            env[item["name"]] = self._env_value(item, overrides.get("DIGITALHUB_POD_NAME", ""))
        env.update(KUBECONFIG=str(kubeconfig), DIGITALHUB_HOME=str(home), **overrides)
        return [sys.executable if part == "python" else part for part in chosen["command"]], env

    def _env_value(self, item: dict[str, Any], pod_name: str) -> str:
        if "value" in item:
            return item["value"]
        source = item.get("valueFrom", {})
        if "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            data = self.core.read_namespaced_secret(ref["name"], self.namespace).data or {}
            return base64.b64decode(data[ref["key"]]).decode()
        field = source.get("fieldRef", {}).get("fieldPath")
        return pod_name if field == "metadata.name" else self.namespace

    def execute(
        self,
        workload: dict[str, Any],
        kubeconfig: Path,
        home: Path,
        timeout: float = 60,
        container: str | None = None,
        **overrides: str,
    ) -> int:
        """Run the workload's container to its end (see ``container_process``); its exit code."""
        command, env = self.container_process(workload, kubeconfig, home, container, **overrides)
        return subprocess.run(command, env=env, timeout=timeout, capture_output=True).returncode

    def pod_status(self, name: str, status: dict[str, Any]) -> None:
        self.core.patch_namespaced_pod_status(name, self.namespace, {"status": status})

    def job_status(self, name: str, status: dict[str, Any]) -> None:
        self.batch.patch_namespaced_job_status(name, self.namespace, {"status": status})

    def deployment_status(self, name: str, status: dict[str, Any]) -> None:
        self.apps.patch_namespaced_deployment_status(name, self.namespace, {"status": status})


RUN_SCHEMA = json_schema(
    next(c for c in build_crds() if c["spec"]["names"]["kind"] == "Run")["spec"]["versions"][0]["schema"][
        "openAPIV3Schema"
    ]
)


def assert_valid_run_cr(obj: dict[str, Any]) -> None:
    """The Run custom resource, status included, validates against the Run CRD's schema."""
    jsonschema.Draft4Validator(RUN_SCHEMA).validate(obj)


def assert_valid_run_status(obj: dict[str, Any]) -> None:
    """The status the operator wrote validates against the Run CRD's status schema."""
    jsonschema.Draft4Validator(RUN_SCHEMA["properties"]["status"]).validate(obj["status"])


def running(container_state: str = "running") -> dict[str, Any]:
    return {
        "phase": "Running",
        "containerStatuses": [
            {
                "name": "runtime",
                "ready": True,
                "restartCount": 0,
                "image": "x",
                "imageID": "",
                "state": {container_state: {}},
            }
        ],
    }


def finished(reason: str, exit_code: int) -> dict[str, Any]:
    phase = "Succeeded" if exit_code == 0 else "Failed"
    return {
        "phase": phase,
        "containerStatuses": [
            {
                "name": "runtime",
                "ready": False,
                "restartCount": 0,
                "image": "x",
                "imageID": "",
                "state": {"terminated": {"reason": reason, "exitCode": exit_code}},
            }
        ],
    }


def run_cr(name: str, **spec: Any) -> dict[str, Any]:
    """A Run custom resource as kubectl would apply it (whatever its spec holds)."""
    return {
        "apiVersion": "digitalhub.io/v1alpha1",
        "kind": "Run",
        "metadata": {"name": name, "labels": {"digitalhub.io/project": PROJECT}},
        "spec": spec,
    }


def wait_error(world: World, name: str) -> dict[str, Any]:
    """The Run custom resource ``name`` once its state is ERROR."""

    def errored() -> dict[str, Any] | None:
        obj = world.custom.get_namespaced_custom_object("digitalhub.io", "v1alpha1", world.namespace, "runs", name)
        return obj if (obj.get("status") or {}).get("state") == "ERROR" else None

    return wait_for(errored, what=f"run {name} in ERROR")


def job_condition(kind: str, reason: str, message: str = "") -> dict[str, Any]:
    return {"conditions": [{"type": kind, "status": "True", "reason": reason, "message": message}]}
