"""The emulator compatibility layer behaves like an API server for the real kubectl binary (1.32)."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from kubernetes import client, config

from tests.kube import protobuf, rbac
from tests.kube.emulator import Call
from tests.kube.kubectl import Kubectl, KubectlFailed
from tests.kube.tables import age, cell

pytestmark = pytest.mark.integration


@pytest.fixture
def kubectl(kube, tmp_path) -> Kubectl:
    return Kubectl(kube.kubeconfig, tmp_path / "home")


def widget(name: str, **spec) -> str:
    return yaml.safe_dump({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name}, "spec": spec})


def test_kubectl_creates_and_lists_namespaces(kube, kubectl):
    name = f"{kube.namespace}-made-by-kubectl"
    assert kubectl("create", "namespace", name).strip() == f"namespace/{name} created"  # a protobuf body
    assert f"namespace/{name}" in kubectl("get", "namespaces", "-o", "name").split()
    assert kubectl("get", "ns", name, "-o", "jsonpath={.metadata.uid}")
    with pytest.raises(KubectlFailed, match="AlreadyExists|already exists"):
        kubectl("create", "namespace", name)


def test_kubectl_get_prints_the_printer_columns(kube, kubectl):
    assert (
        kubectl("apply", "-f", "-", stdin=widget("w1", size=3, color="red")).strip() == "widget.example.com/w1 created"
    )
    with kube.api_client() as api:
        ready = {"conditions": [{"type": "Ready", "status": "True"}, {"type": "Other", "status": "False"}]}
        client.CustomObjectsApi(api).patch_namespaced_custom_object_status(
            "example.com", "v1", kube.namespace, "widgets", "w1", {"status": ready}
        )
    (row,) = kubectl.table("get", "widgets")
    assert (row["NAME"], row["SIZE"], row["READY"]) == ("w1", "3", "True") and row["AGE"].endswith("s")
    (wide,) = kubectl.table("get", "wd", "w1", "-o", "wide")
    assert list(wide) == ["NAME", "SIZE", "READY", "COLOR", "AGE"] and wide["COLOR"] == "red"
    assert kubectl("get", "wd", "w1", "-o", "jsonpath={.spec.color}") == "red"  # JSON still served when asked


def test_kubectl_apply_refuses_unknown_fields_and_updates_known_ones(kubectl):
    with pytest.raises(KubectlFailed, match='strict decoding error: unknown field "spec.sise"'):
        kubectl("apply", "-f", "-", stdin=widget("w2", sise=3))
    kubectl("apply", "-f", "-", stdin=widget("w2", size=3))
    assert kubectl("apply", "-f", "-", stdin=widget("w2", size=4)).strip() == "widget.example.com/w2 configured"
    assert kubectl("get", "wd", "w2", "-o", "jsonpath={.spec.size}") == "4"


JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"name": "j1"},
    "spec": {
        "template": {
            "metadata": {"labels": {"app": "demo"}},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox"}]},
        }
    },
}


def test_kubectl_waits_reads_logs_and_deletes(kube, kubectl):
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump(JOB))
    waiting = subprocess.Popen(  # a watch: the condition arrives after kubectl started waiting
        ["kubectl", "wait", "--for=condition=Complete", "job/j1", "--timeout=30s"],
        env=kubectl.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with kube.api_client() as api:
        batch, core = client.BatchV1Api(api), client.CoreV1Api(api)
        job = api.sanitize_for_serialization(batch.read_namespaced_job("j1", kube.namespace))
        labels = job["spec"]["template"]["metadata"]["labels"]  # with the selector's, defaulted by the server
        assert job["spec"]["selector"]["matchLabels"].items() <= labels.items()
        owner = {"apiVersion": "batch/v1", "kind": "Job", "name": "j1", "uid": job["metadata"]["uid"]}
        pod_spec = JOB["spec"]["template"]["spec"]
        pod = {"metadata": {"name": "j1-abcde", "labels": labels, "ownerReferences": [owner]}, "spec": pod_spec}
        core.create_namespaced_pod(kube.namespace, {"apiVersion": "v1", "kind": "Pod", **pod})
        kube.emulator.pod_logs[(kube.namespace, "j1-abcde")] = "line one\nline two\n"
        status = {"status": {"conditions": [{"type": "Complete", "status": "True"}]}}
        batch.patch_namespaced_job_status("j1", kube.namespace, status)
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0 and out.strip() == "job.batch/j1 condition met", err
    assert kubectl("logs", "job/j1") == "line one\nline two\n"
    assert kubectl("delete", "job", "j1").strip() == 'job.batch "j1" deleted'
    kubectl("wait", "--for=delete", "pod/j1-abcde", "--timeout=30s")  # collected with its owner


def test_calls_are_recorded_per_token_as_rbac_permissions(kube, tmp_path):
    """(kubectl sends no bearer token over plain HTTP: identities are for the official client, as the operator's.)"""
    calls = kube.emulator.record_calls("recorded-user")
    kubeconfig = kube.server.kubeconfig(tmp_path / "kubeconfig", kube.namespace, token="recorded-user")
    with config.new_client_from_config(config_file=str(kubeconfig)) as api:
        custom = client.CustomObjectsApi(api)
        custom.list_namespaced_custom_object("example.com", "v1", kube.namespace, "widgets")
        body = yaml.safe_load(widget("w3", size=1))
        custom.create_namespaced_custom_object("example.com", "v1", kube.namespace, "widgets", body)
        client.VersionApi(api).get_code()
    wanted = [p for p in map(rbac.permission, calls) if p is not None]
    assert [str(p) for p in wanted] == [
        f"{verb} widgets.example.com in {kube.namespace}" for verb in ("list", "create")
    ]
    grant = rbac.Grant(({"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["get", "list"]},))
    assert rbac.refused([grant], wanted) == [f"create widgets.example.com in {kube.namespace}"]
    assert rbac.permission(Call("GET", "/api/v1/namespaces", {"watch": "true"})) == rbac.Permission(
        "watch", "", "namespaces"
    )
    assert rbac.permission(Call("GET", "/apis/example.com/v1")) is None  # discovery: open to everyone


def test_table_cells_and_ages():
    now = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
    stamp = lambda delta: (now - delta).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    ages = [timedelta(seconds=5), timedelta(minutes=30), timedelta(hours=5), timedelta(days=3)]
    assert [age(stamp(delta), now) for delta in ages] == ["5s", "30m", "5h", "3d"]
    obj = {"spec": {"size": 2}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}}
    ready = {"type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'}
    assert cell(obj, ready) == "False" and cell(obj, {"type": "integer", "jsonPath": ".spec.size"}) == 2
    assert cell(obj, {"type": "string", "jsonPath": ".spec.color"}) is None


def test_protobuf_bodies_other_than_namespaces_are_refused_clearly():
    with pytest.raises(ValueError, match="Namespace only"):
        protobuf.namespace(protobuf.MAGIC + bytes([0x0A, 0x07, 0x0A, 0x02]) + b"v1" + bytes([0x12, 0x01]) + b"X")
