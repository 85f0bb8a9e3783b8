"""The Helm chart renders and lints (helm-python-sdk), and every manifest it renders validates for 1.29 and 1.33."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import helm_python
import jsonschema
import kubernetes_validate
import pytest
import yaml

CHART = Path(__file__).resolve().parents[3] / "charts" / "digitalhub"
KUBERNETES_VERSIONS = ("1.29", "1.33")
HA = {
    "operator": {"replicas": 2, "peering": {"enabled": True}, "watchNamespaces": ["team-a", "team-b"]},
    "runtime": {
        "images": {"PYTHON3_11": "registry.local/runtime:3.11"},
        "podSecrets": ["s3"],
        "allowedServiceAccounts": ["trainer", "reader"],
    },
}
HA_CLUSTERWIDE = {"operator": {"replicas": 3, "peering": {"enabled": True}}}


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    with helm_python.Chart.load(CHART) as chart:
        rendered = chart.render(values, name="dh", namespace="digitalhub")
    return [doc for text in rendered.values() for doc in yaml.safe_load_all(text) if doc]


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def test_chart_lints_clean():
    report = helm_python.lint(CHART)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


@pytest.mark.parametrize("values", [{}, HA, HA_CLUSTERWIDE], ids=["default", "ha-namespaced", "ha-clusterwide"])
def test_every_rendered_manifest_validates(values):
    docs = render(values)
    crds = {
        (crd["spec"]["group"], crd["spec"]["names"]["kind"]): crd for crd in by_kind(docs, "CustomResourceDefinition")
    }
    for doc in docs:
        group = doc["apiVersion"].split("/")[0]
        if (group, doc["kind"]) in crds:
            schema = crds[(group, doc["kind"])]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
            jsonschema.validate(doc, schema)
            continue
        for version in KUBERNETES_VERSIONS:
            kubernetes_validate.validate(doc, version, strict=True)


def test_default_install_is_clusterwide_and_standalone():
    docs = render({})
    deployment = by_kind(docs, "Deployment")[0]
    env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["DIGITALHUB_OPERATOR_NAMESPACES"] == "" and "DIGITALHUB_OPERATOR_PEERING" not in env
    assert env["DIGITALHUB_OPERATOR_ALLOWED_SERVICE_ACCOUNTS"] == ""  # only the runner account, by default
    containers = deployment["spec"]["template"]["spec"]["containers"]
    [own] = [e for e in containers[0]["env"] if e["name"] == "DIGITALHUB_OPERATOR_SERVICE_ACCOUNT"]
    assert own["valueFrom"] == {"fieldRef": {"fieldPath": "spec.serviceAccountName"}}  # its own account, never given
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    assert {r["metadata"]["name"] for r in by_kind(docs, "ClusterRole")} == {
        "dh-digitalhub-operator",
        "dh-digitalhub-operator-discovery",
    }
    runner = [a for a in by_kind(docs, "ServiceAccount") if a["metadata"]["name"] == "digitalhub-runner"]
    assert [a["metadata"]["namespace"] for a in runner] == ["digitalhub"]


def test_ha_install_peers_and_scopes_rbac_to_namespaces():
    docs = render(HA)
    deployment = by_kind(docs, "Deployment")[0]
    env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert (
        env["DIGITALHUB_OPERATOR_PEERING"] == "digitalhub" and env["DIGITALHUB_OPERATOR_NAMESPACES"] == "team-a,team-b"
    )
    assert env["DIGITALHUB_OPERATOR_IMAGE_PYTHON3_11"] == "registry.local/runtime:3.11"
    assert env["DIGITALHUB_OPERATOR_ALLOWED_SERVICE_ACCOUNTS"] == "trainer,reader"
    assert deployment["spec"]["replicas"] == 2
    assert sorted(p["metadata"]["namespace"] for p in by_kind(docs, "KopfPeering")) == ["team-a", "team-b"]
    roles = {(r["metadata"]["name"], r["metadata"]["namespace"]) for r in by_kind(docs, "Role")}
    assert ("dh-digitalhub-operator", "team-a") in roles and ("dh-digitalhub-runner", "team-b") in roles
    assert by_kind(docs, "ClusterRole")[0]["metadata"]["name"] == "dh-digitalhub-operator-discovery"
    assert by_kind(render(HA_CLUSTERWIDE), "ClusterKopfPeering")[0]["metadata"]["name"] == "digitalhub"


def test_replicas_without_peering_are_refused():
    with pytest.raises(helm_python.HelmError, match="peering"):
        render({"operator": {"replicas": 2}})


def test_chart_ships_the_run_crd():
    with helm_python.Chart.load(CHART) as chart:
        crds = {Path(crd["name"]).name: yaml.safe_load(crd["data"]) for crd in chart.crds}
    assert crds["runs.digitalhub.io.yaml"]["spec"]["names"]["kind"] == "Run"
