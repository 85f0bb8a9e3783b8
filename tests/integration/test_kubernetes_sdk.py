"""DigitalHub's SDK on the Kubernetes backend (KMock emulator, official client; S3 on moto): the same calls as on
the embedded store, with function metadata and run metrics round-tripped through the custom resources."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pandas as pd
import pytest
from kubernetes import client as k8s

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.models.crds import build_crds, json_schema
from digitalhub_runtime_python.models.resources import GROUP, VERSION
from digitalhub_runtime_python.models.states import State
from digitalhub_runtime_python.stores.base import NotFound
from digitalhub_runtime_python.stores.s3 import s3_client

pytestmark = pytest.mark.integration

UUID = "0d4f9a3c-7b1e-4c2a-9f6d-5e8b7a6c4d3e"
TRAIN = """
def train(run, lr=0.1):
    for step in range(3):
        run.log_metric("loss", lr / (step + 1))
    return lr
"""


@pytest.fixture
def cluster(kube, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dh.Project:
    """The configured backend is Kubernetes (this test's namespace); the project's files go to S3."""
    monkeypatch.setenv("DIGITALHUB_BACKEND", "kubernetes")
    monkeypatch.setenv("DIGITALHUB_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    return dh.new_project("demo", artifact_store=f"s3://{bucket}/files", source=str(tmp_path / "context"))


def custom_resources(kube, plural: str) -> list[dict]:
    with kube.api_client() as api:
        listed = k8s.CustomObjectsApi(api).list_namespaced_custom_object(GROUP, VERSION, kube.namespace, plural)
    return listed["items"]


def assert_valid(obj: dict) -> None:
    crd = next(c for c in build_crds() if c["spec"]["names"]["kind"] == obj["kind"])
    jsonschema.Draft4Validator(json_schema(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])).validate(obj)


def test_functions_with_metadata_round_trip_through_the_custom_resource(cluster: dh.Project, kube) -> None:
    fn = dh.new_function(
        project="demo",
        name="train",
        kind="python",
        uuid=UUID,
        description="trains",
        labels=["ml"],
        embedded=True,
        git_source="https://example.com/repo.git",
        code=TRAIN,
        handler="train",
    )
    [cr] = custom_resources(kube, "functions")
    assert_valid(cr)
    assert cr["metadata"]["labels"]["digitalhub.io/id"] == UUID
    read = dh.get_function("train", project="demo")
    assert read.id == UUID and read.metadata.description == "trains" and read.metadata.labels == ["ml"]
    assert read.metadata.embedded is True and read.metadata.git_source == "https://example.com/repo.git"

    v2 = dh.new_function("demo", "train", code=TRAIN.replace("0.1", "0.2"), handler="train")
    assert [f.id for f in dh.get_function_versions(fn.key)] == [v2.id, UUID]
    assert [f.id for f in dh.list_functions("demo", versions="all")] == [v2.id, UUID]
    read.metadata.labels = ["ml", "reviewed"]
    dh.update_function(read)
    assert dh.get_function(fn.key).metadata.labels == ["ml", "reviewed"]
    with pytest.raises(dh.SpecError) as caught:
        v2.run(local_execution=True, profile="gpu")
    assert caught.value.fields == ["profile"]

    run = v2.run(local_execution=True, parameters={"lr": 0.5})
    dh.delete_function(v2.key)  # cascade: its task and run
    with pytest.raises(NotFound):
        dh.get_run(run.key)
    assert [f.id for f in dh.list_functions("demo")] == [UUID]


def test_run_results_and_metrics_in_the_run_resource(cluster: dh.Project, kube) -> None:
    fn = cluster.new_function("train", code=TRAIN, handler="train")
    run = fn.run(local_execution=True, parameters={"lr": 0.3})
    assert run.status.state == State.COMPLETED, run.status.message
    assert run.result("output_0") == 0.3
    run.log_metrics({"acc": 0.8})
    [cr] = custom_resources(kube, "runs")
    assert_valid(cr)
    expected = {"loss": pytest.approx([0.3, 0.15, 0.1]), "acc": 0.8}
    assert cr["status"]["metrics"] == expected
    assert dh.get_run(run.key).metrics == expected
    assert [r.id for r in dh.list_runs("demo", function="train", state="COMPLETED")] == [run.id]


def test_tables_on_s3_and_project_deletion(cluster: dh.Project, bucket: str) -> None:
    df = pd.DataFrame({"a": [1, 2, 3]})
    table = dh.log_table("demo", "numbers", data=df)
    assert table.spec.path.startswith(f"s3://{bucket}/files/demo/dataitem/numbers/")
    assert dh.get_dataitem("numbers", project="demo").query("SELECT sum(a) AS s FROM numbers").as_df()["s"][0] == 6
    cluster.new_function("f", code="def f():\n    return 1\n", handler="f").run(local_execution=True)
    dh.delete_project("demo")
    assert s3_client().list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    assert dh.list_projects() == []
    with pytest.raises(NotFound):
        dh.get_project("demo")


def test_export_from_the_cluster_and_import_into_the_embedded_store(cluster: dh.Project, tmp_path: Path) -> None:
    v1 = cluster.new_function("f", code="def f():\n    return 1\n", handler="f")
    v2 = cluster.new_function("f", code="def f():\n    return 2\n", handler="f", embedded=True)
    path = cluster.export()
    local = dh.import_project(path, backend="local", home=tmp_path / "laptop")
    assert [f.id for f in local.get_function_versions("f")] == [v2.id, v1.id]
    assert local.get_function(v1.key).spec == v1.spec and local.get_function("f").spec == v2.spec
    assert local.get_function("f").run().result("output_0") == 2
    again = dh.load_project(path)  # back into the cluster: nothing changes
    assert [f.id for f in again.get_function_versions("f")] == [v2.id, v1.id]
