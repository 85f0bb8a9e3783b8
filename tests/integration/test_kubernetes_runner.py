"""The in-pod entrypoint as a real subprocess with exactly the Job's command and env, against the emulator."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest
from kubernetes import client as k8s

from digitalhub_runtime_python import State, get_or_create_project
from digitalhub_runtime_python.contract import POD_HOME, command, pod_settings, run_env
from digitalhub_runtime_python.models.resources import GROUP, VERSION, from_resource
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.models.task import Action
from digitalhub_runtime_python.settings import Settings
from tests.kube.kubectl import Kubectl

pytestmark = pytest.mark.integration

CODE = """
def train(project, context, x: int, label: str = "run"):
    print(f"training {label} with x={x}")
    context.logger.info("halfway")
    return {"score": x * 2, "label": label}
"""
FAILING = """
def train(x: int):
    raise ValueError(f"x={x} is not acceptable")
"""


def run_pod(
    kube, run: Run, tmp_path, argv: list[str] | None = None, secrets: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Start the runner as the Job's container would: its command and env, KUBECONFIG in place of a service account;
    ``secrets`` as a Secret named in the task (envFrom) would add them."""
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": os.environ["PYTHONPATH"], "KUBECONFIG": str(kube.kubeconfig)}
    for item in run_env(run.key, Settings(backend="kubernetes", home=tmp_path / "pod-home", namespace=kube.namespace)):
        env[item["name"]] = item["value"]
    env.update(secrets or {})
    return subprocess.run(argv or command(Action.JOB, run.key), env=env, capture_output=True, text=True, timeout=120)


def test_pod_contract():
    run = Run(project="demo", name="abc", id="abc", spec={"task": "t", "function": "f", "action": "job"})
    assert command(Action.JOB, run.key, python="python") == [
        "python",
        "-m",
        "digitalhub_runtime_python.runner",
        "--run",
        "store://demo/run/python+run/abc:abc",
    ]
    assert run_env(run.key, pod_settings()) == [
        {"name": "DIGITALHUB_BACKEND", "value": "kubernetes"},
        {"name": "DIGITALHUB_HOME", "value": str(POD_HOME)},
        {"name": "DIGITALHUB_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "DIGITALHUB_RUN_KEY", "value": "store://demo/run/python+run/abc:abc"},
        {"name": "PYTHONUNBUFFERED", "value": "1"},
    ]


def test_runner_executes_the_run_and_records_results(kube, tmp_path):
    project = get_or_create_project("demo", backend="kubernetes")
    run = project.new_function("train_it", code=CODE, handler="train").run("job", parameters={"x": 21, "label": "k8s"})
    assert run.status.state == State.CREATED
    done = run_pod(kube, run.entity, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "training k8s with x=21" in done.stdout and "halfway" in done.stderr  # the pod log
    run.refresh()
    assert run.status.state == State.COMPLETED
    assert run.results() == {"output_0": {"score": 42, "label": "k8s"}}
    assert [t.state for t in run.status.transitions] == ["CREATED", "READY", "RUNNING", "COMPLETED"]


def test_failing_handler_ends_the_run_in_error_with_traceback(kube, tmp_path):
    project = get_or_create_project("demo", backend="kubernetes")
    encoded = base64.b64encode(FAILING.encode()).decode()
    run = project.new_function("fails", base64=encoded, handler="train").run("job", parameters={"x": 3})
    done = run_pod(kube, run.entity, tmp_path)
    assert done.returncode == 1
    run.refresh()
    assert run.status.state == State.ERROR
    assert run.status.message == "ValueError: x=3 is not acceptable"
    assert (
        run.status.error.type == "ValueError"
        and 'raise ValueError(f"x={x} is not acceptable")' in run.status.error.traceback
    )


def kubectl(kube, *args: str, stdin: str | None = None) -> str:
    return Kubectl(kube.kubeconfig, kube.kubeconfig.parent / "home")(*args, stdin=stdin)


def test_kubectl_applied_run_executes_like_the_sdk_path(kube, tmp_path):
    project = get_or_create_project(kube.namespace, backend="kubernetes")
    fn = project.new_function("train_it", code=CODE, handler="train")
    task_name = fn.run("job", parameters={"x": 1}).spec.task.rsplit("/", 1)[1].split(":")[0]
    manifest = f"""
apiVersion: digitalhub.io/v1alpha1
kind: Run
metadata: {{name: applied}}
spec: {{function: train_it, task: {task_name}, action: job, parameters: {{x: 5}}}}
"""
    assert "run.digitalhub.io/applied created" in kubectl(kube, "apply", "-f", "-", stdin=manifest)
    with kube.api_client() as api:
        created = k8s.CustomObjectsApi(api).get_namespaced_custom_object(
            GROUP, VERSION, kube.namespace, "runs", "applied"
        )
    run = from_resource(Run, created)  # what the operator reads from the CR it is told about
    done = run_pod(kube, run, tmp_path)
    assert done.returncode == 0, done.stderr
    assert kubectl(kube, "get", "dhrun", "applied", "-o", "jsonpath={.status.state}") == "COMPLETED"
    results = kubectl(kube, "get", "runs.digitalhub.io", "applied", "-o", "jsonpath={.status.results.output_0.score}")
    assert results == "10"
    assert kubectl(kube, "get", "run", "applied", "-o", "jsonpath={.spec.function}") == "train_it"  # left as written


def test_runner_without_a_run_key_explains_itself(kube, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "digitalhub_runtime_python.runner"],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": os.environ["PYTHONPATH"]},
        timeout=60,
    )
    assert done.returncode == 2 and "--run KEY (or DIGITALHUB_RUN_KEY) is required" in done.stderr


USES_TINYPKG = """
import sys
import tinypkg

def train(x: int):
    return {"value": tinypkg.VALUE, "x": x, "prefix": sys.prefix}
"""


def test_pod_installs_the_requirements_before_importing_the_handler(kube, tmp_path, package_index):
    project = get_or_create_project("demo", backend="kubernetes")
    fn = project.new_function("tiny", code=USES_TINYPKG, handler="train", requirements=["needsnew"])
    run = fn.run("job", parameters={"x": 3})
    done = run_pod(kube, run.entity, tmp_path, secrets=package_index.folder_env())
    assert done.returncode == 0, done.stderr
    assert "package(s) installed in" in done.stderr  # the pod log says what the start spent
    run.refresh()
    assert run.status.state == State.COMPLETED, run.status.message
    environment = run.status.environment
    assert environment.built and environment.seconds > 0 and environment.python == "3.11"
    result = run.results()["output_0"]
    assert result["value"] == "2.0" and result["x"] == 3
    assert result["prefix"] == str(tmp_path / "pod-home" / "envs" / environment.key)  # in the pod's workspace


def test_pods_sharing_a_cache_volume_build_once(kube, tmp_path, package_index):
    project = get_or_create_project("demo", backend="kubernetes")
    fn = project.new_function("tiny", code=USES_TINYPKG, handler="train", requirements=["tinypkg==1.0"])
    volume = {**package_index.folder_env(), "DIGITALHUB_ENVS": str(tmp_path / "cache-volume" / "envs")}
    runs = [fn.run("job", parameters={"x": x}) for x in (1, 2)]
    for number, run in enumerate(runs):
        assert run_pod(kube, run.entity, tmp_path / f"pod-{number}", secrets=volume).returncode == 0
    built = [run.refresh().status.environment.built for run in runs]
    assert built == [True, False] and [run.results()["output_0"]["value"] for run in runs] == ["1.0", "1.0"]


def test_pod_with_conflicting_requirements_ends_in_error(kube, tmp_path, package_index):
    project = get_or_create_project("demo", backend="kubernetes")
    fn = project.new_function("clash", code=USES_TINYPKG, handler="train", requirements=["needsnew", "tinypkg<2"])
    run = fn.run("job", parameters={"x": 1})
    done = run_pod(kube, run.entity, tmp_path, secrets=package_index.folder_env())
    assert done.returncode == 1
    assert "you require tinypkg<2" in done.stderr  # the pod log
    run.refresh()
    assert run.status.state == State.ERROR and run.status.error.type == "EnvironmentBuildError"
    assert "needsnew" in run.status.message and "unsatisfiable" in run.status.message
    assert [t.state for t in run.status.transitions] == ["CREATED", "ERROR"]


def test_a_function_with_a_built_image_installs_nothing_in_its_pod(kube, tmp_path):
    project = get_or_create_project("demo", backend="kubernetes")
    fn = project.new_function(
        "imaged", code=CODE, handler="train", requirements=["surely-absent==1"], image="registry.local/built:1"
    )
    run = fn.run("job", parameters={"x": 1})
    done = run_pod(kube, run.entity, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "requirement 'surely-absent==1' is not installed here" in done.stderr  # the image should have it
    assert run.refresh().status.environment is None
