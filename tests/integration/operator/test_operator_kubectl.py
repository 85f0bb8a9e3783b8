"""End to end as a cluster user works: only kubectl and the YAML of examples/, against the real operator.

The test plays the kubelet and the Job controller the emulator lacks (``operator_harness.World``): it starts the
Job's pod, runs its container here as a child process and keeps what it printed as the pod's log.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import config
from operator_harness import World, finished, job_condition, running

from digitalhub_runtime_python.contract import workload_name
from tests.kube.kubectl import Kubectl

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
RUN = yaml.safe_load((EXAMPLES / "run.yaml").read_text())


@pytest.fixture(scope="module")
def kubectl(kubeconfig) -> Kubectl:
    return Kubectl(kubeconfig, Path(tempfile.mkdtemp(prefix="dh-kubectl-home-")))


@pytest.fixture(scope="module")
def world(kubeconfig, namespace, kubectl) -> Iterator[World]:
    """This module's namespace, made with ``kubectl create namespace``; the function and task of examples/."""
    assert kubectl("create", "namespace", namespace).strip() == f"namespace/{namespace} created"
    assert f"namespace/{namespace}" in kubectl("get", "namespaces", "-o", "name").split()
    with config.new_client_from_config(config_file=str(kubeconfig)) as api:
        yield World(api, namespace)


@pytest.fixture(scope="module")
def examples_applied(operator, kubectl) -> None:
    applied = kubectl("apply", "-f", EXAMPLES / "function.yaml", "-f", EXAMPLES / "task.yaml")
    assert applied.split("\n")[:2] == ["function.digitalhub.io/hello created", "task.digitalhub.io/hello-job created"]


def apply_run(kubectl: Kubectl, name: str) -> str:
    """examples/run.yaml under another name (as a user copies it); the name of the Job the operator makes."""
    manifest = yaml.safe_dump({**RUN, "metadata": {"name": name}})
    assert kubectl("apply", "-f", "-", stdin=manifest).strip() == f"run.digitalhub.io/{name} created"
    job = workload_name(name)
    kubectl("wait", "--for=create", f"job/{job}", "--timeout=30s")
    return job


def kubelet_runs_the_job(world: World, kube_server, kubeconfig: Path, job_name: str, home: Path) -> str:
    """Start the Job's pod, run its container to the end, keep its output as the pod log, finish pod and Job."""
    job = world.job(job_name)
    pod = world.start_pod(job)
    world.pod_status(pod, running())
    command, env = world.container_process(job, kubeconfig, home)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    kube_server.emulator.pod_logs[(world.namespace, pod)] = done.stdout + done.stderr
    world.pod_status(pod, finished("Completed", 0))
    world.job_status(job_name, job_condition("Complete", "CompletionsReached"))
    return pod


def test_first_run_with_kubectl_and_the_examples(examples_applied, world, kube_server, kubectl, kubeconfig, tmp_path):
    name = RUN["metadata"]["name"]
    assert kubectl("apply", "-f", EXAMPLES / "run.yaml").strip() == f"run.digitalhub.io/{name} created"
    job = workload_name(name)
    kubectl("wait", "--for=create", f"job/{job}", "--timeout=30s")
    assert kubectl("get", "jobs", "-o", "name").split() == [f"job.batch/{job}"]

    kubelet_runs_the_job(world, kube_server, kubeconfig, job, tmp_path / "home")
    kubectl("wait", "--for=jsonpath={.status.state}=COMPLETED", f"run/{name}", "--timeout=60s")

    (row,) = kubectl.table("get", "dhrun", name)
    assert row["NAME"] == name and row["STATE"] == "COMPLETED" and row["AGE"]
    assert (row["FUNCTION"], row["ACTION"]) == ("hello", "job")  # as written in the YAML
    (wide,) = kubectl.table("get", "runs.digitalhub.io", "-o", "wide")
    assert list(wide) == ["NAME", "STATE", "READY", "FUNCTION", "ACTION", "MESSAGE", "AGE"]  # MESSAGE: priority 1
    assert wide["READY"] == "False"  # the Ready condition of a run that ended
    (function,) = kubectl.table("get", "dhfn")
    assert (function["NAME"], function["HANDLER"]) == ("hello", "greet")
    listed = kubectl("get", "digitalhub", "-o", "name").split()
    assert {"function.digitalhub.io/hello", "task.digitalhub.io/hello-job", f"run.digitalhub.io/{name}"} <= set(listed)
    assert "hello, kubernetes" in kubectl("logs", f"job/{job}")

    assert kubectl("delete", "-f", EXAMPLES / "run.yaml").strip() == f'run.digitalhub.io "{name}" deleted'
    kubectl("wait", "--for=delete", f"job/{job}", "--timeout=30s")  # garbage-collected through its owner
    assert kubectl("get", "jobs", "-o", "name") == ""


def test_kubectl_apply_refuses_a_misspelled_field(examples_applied, kubectl):
    manifest = yaml.safe_dump({**RUN, "metadata": {"name": "typo"}, "spec": {**RUN["spec"], "paramters": {}}})
    with pytest.raises(AssertionError, match='unknown field "spec.paramters"'):
        kubectl("apply", "-f", "-", stdin=manifest)


def test_kubectl_waits_for_the_completed_condition(examples_applied, world, kube_server, kubectl, kubeconfig, tmp_path):
    job = apply_run(kubectl, "hello-2")
    kubelet_runs_the_job(world, kube_server, kubeconfig, job, tmp_path / "home")
    kubectl("wait", "--for=jsonpath={.status.state}=COMPLETED", "run/hello-2", "--timeout=60s")
    kubectl("wait", "--for=condition=Completed", "run/hello-2", "--timeout=5s")
