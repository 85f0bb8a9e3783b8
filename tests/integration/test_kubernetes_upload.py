"""Local code on the kubernetes backend: uploaded to the artifact store before the run, fetched by the pod."""

from __future__ import annotations

import os
import subprocess

import pytest

from digitalhub_runtime_python import State, get_or_create_project
from digitalhub_runtime_python.contract import command, run_env
from digitalhub_runtime_python.models.keys import parse_key
from digitalhub_runtime_python.models.task import Action
from digitalhub_runtime_python.settings import Settings

pytestmark = pytest.mark.integration

S3_VARIABLES = ("S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")


def test_local_folder_is_uploaded_and_the_pod_runs_it(kube, bucket, tmp_path):
    code = tmp_path / "src"
    (code / "pkg").mkdir(parents=True)
    (code / "pkg" / "__init__.py").write_text("")
    (code / "pkg" / "helpers.py").write_text("def scale(x):\n    return x * 10\n")
    (code / "main.py").write_text("from pkg.helpers import scale\n\ndef handler(x: int):\n    return scale(x)\n")
    project = get_or_create_project("demo", backend="kubernetes", artifact_store=f"s3://{bucket}/artifacts")
    local_fn = project.new_function("scaler", code_src=str(code), handler="main:handler")

    run = local_fn.run("job", parameters={"x": 4})
    uploaded = project.backend.store.get_key(run.spec.function)
    assert uploaded.spec.code_src.startswith(f"zip+s3://{bucket}/artifacts/demo/code/")
    assert parse_key(run.spec.function).id != local_fn.id
    assert project.backend.store.get_key(run.spec.task).spec.function == run.spec.function
    assert local_fn.run("job", parameters={"x": 1}).spec.function == run.spec.function  # same code, same version

    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.environ["PYTHONPATH"],
        "KUBECONFIG": str(kube.kubeconfig),
        **{name: os.environ[name] for name in S3_VARIABLES},
    }
    pod_home = tmp_path / "pod-home"
    env.update({e["name"]: e["value"] for e in run_env(run.key, Settings("kubernetes", pod_home, kube.namespace))})
    done = subprocess.run(
        command(Action.JOB, run.key), env=env, capture_output=True, text=True, timeout=60, cwd=pod_home.parent
    )
    assert done.returncode == 0, done.stderr
    run.refresh()
    assert run.status.state == State.COMPLETED and run.results() == {"output_0": 40}
