"""The Helm chart renders and lints (helm-python-sdk), every manifest it renders and every CRD it ships validates for
1.29 and 1.33, it installs in one go (CRDs in crds/, objects in templates), upgrades its CRDs through a pre-upgrade
hook, and refuses bad values through values.schema.json."""

from __future__ import annotations

import json
from typing import Any

import helm_python
import jsonschema
import kubernetes_validate
import pytest
import yaml

from digitalhub_operator.settings import OperatorSettings
from digitalhub_runtime_python.contract import workload_name
from digitalhub_runtime_python.models.function import PythonVersion
from tests.helm_chart import CHART, by_kind, crd_files, hook_objects, notes, render, shipped_crds
from tests.kube import rbac

ROOT = CHART.parents[1]
KUBERNETES_VERSIONS = ("1.29", "1.33")
HA = {
    "operator": {"replicas": 2, "peering": {"enabled": True}, "watchNamespaces": ["team-a", "team-b"]},
    "runtime": {
        "images": {"PYTHON3_11": "registry.local/runtime:3.11"},
        "podSecrets": ["s3"],
        "allowedServiceAccounts": ["trainer", "reader"],
    },
}
HA_CLUSTERWIDE = {
    "operator": {
        "replicas": 3,
        "peering": {"enabled": True},
        "metrics": {"port": 9100, "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}}},
    }
}
QUICK_REDIS = {"serve": {"jobStore": {"redis": {"enabled": True}}}, "operator": {"watchNamespaces": ["team-a"]}}
KEPT_REDIS = {
    "serve": {"jobStore": {"redis": {"enabled": True, "persistence": {"enabled": True, "storageClass": "ssd"}}}}
}
EXISTING_REDIS = {
    "serve": {"jobStore": {"url": "redis://redis.infra.svc:6379/0", "passwordSecret": {"name": "redis-auth"}}}
}
CONSOLE = {
    "console": {"enabled": True, "namespace": "team-a", "actions": {"enabled": True}},
    "operator": {"watchNamespaces": ["team-a"]},
}
VALUES = pytest.mark.parametrize(
    "values",
    [{}, HA, HA_CLUSTERWIDE, QUICK_REDIS, KEPT_REDIS, EXISTING_REDIS, CONSOLE],
    ids=["default", "ha-namespaced", "ha-clusterwide", "quick-redis", "kept-redis", "existing-redis", "console"],
)
# Kinds of other projects' CRDs the chart may render: the Prometheus Operator's, when asked for.
FOREIGN_KINDS = {("monitoring.coreos.com", "ServiceMonitor")}


def env_of(deployment: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}


def test_chart_lints_clean():
    report = helm_python.lint(CHART)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_shipped_crds_validate(version):
    crds = shipped_crds()
    assert {crd["spec"]["group"] for crd in crds} == {"digitalhub.io", "kopf.dev"}
    for crd in crds:
        kubernetes_validate.validate(crd, version, strict=True)


OPERATOR_KINDS = {"Deployment", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}
REDIS_KINDS = {"Deployment", "Service", "Secret"}
EXPECTED_KINDS = {
    "default": OPERATOR_KINDS,
    "ha-namespaced": OPERATOR_KINDS | {"KopfPeering", "PodDisruptionBudget"},
    "ha-clusterwide": OPERATOR_KINDS | {"ClusterKopfPeering", "PodDisruptionBudget", "ServiceMonitor"},
    "quick-redis": OPERATOR_KINDS | REDIS_KINDS,
    "kept-redis": OPERATOR_KINDS | REDIS_KINDS | {"PersistentVolumeClaim"},
    "existing-redis": OPERATOR_KINDS,
    "console": OPERATOR_KINDS | {"Service"},
}


@VALUES
def test_every_rendered_manifest_validates(values, request):
    crds = {(crd["spec"]["group"], crd["spec"]["names"]["kind"]): crd for crd in shipped_crds()}
    docs = render(values, is_upgrade=True)  # hooks included
    assert EXPECTED_KINDS[request.node.callspec.id] <= {doc["kind"] for doc in docs}
    for doc in docs:
        group = doc["apiVersion"].split("/")[0]
        if (group, doc["kind"]) in crds:
            schema = crds[(group, doc["kind"])]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
            jsonschema.validate(doc, schema)
            continue
        if (group, doc["kind"]) in FOREIGN_KINDS:
            continue  # no schema here: its shape is checked where it is rendered
        for version in KUBERNETES_VERSIONS:
            kubernetes_validate.validate(doc, version, strict=True)


@VALUES
def test_first_install_needs_no_crd_from_the_templates(values):
    """Helm installs crds/ first, then the templates: a template CRD next to its objects fails a first install."""
    docs = render(values)
    assert by_kind(docs, "CustomResourceDefinition") == []
    shipped = {(crd["spec"]["group"], crd["spec"]["names"]["kind"]) for crd in shipped_crds()}
    custom = {(doc["apiVersion"].split("/")[0], doc["kind"]) for doc in docs if "kopf.dev" in doc["apiVersion"]}
    peering = values.get("operator", {}).get("peering", {}).get("enabled", False)
    assert custom <= shipped and bool(custom) == peering


def test_default_install_is_clusterwide_and_standalone():
    docs = render({})
    deployment = by_kind(docs, "Deployment")[0]
    env = env_of(deployment)
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
    assert by_kind(docs, "PodDisruptionBudget") == [] and hook_objects(docs) == []  # the CRD hook: upgrades only


def test_ha_install_peers_and_scopes_rbac_to_namespaces():
    docs = render(HA)
    deployment = by_kind(docs, "Deployment")[0]
    env = env_of(deployment)
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


def test_several_replicas_get_a_disruption_budget_on_the_operator_pods():
    docs = render(HA)
    (budget,) = by_kind(docs, "PodDisruptionBudget")
    pod_labels = by_kind(docs, "Deployment")[0]["spec"]["template"]["metadata"]["labels"]
    assert budget["spec"]["minAvailable"] == 1
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    halved = render({**HA, "operator": {**HA["operator"], "podDisruptionBudget": {"minAvailable": "50%"}}})
    assert by_kind(halved, "PodDisruptionBudget")[0]["spec"]["minAvailable"] == "50%"


def test_metrics_are_the_health_port_behind_a_service_and_an_optional_service_monitor():
    docs = render(HA_CLUSTERWIDE)
    deployment = by_kind(docs, "Deployment")[0]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert [p["name"] for p in container["ports"]] == ["health"]  # the operator serves /metrics there
    (service,) = [s for s in by_kind(docs, "Service") if s["metadata"]["name"] == "dh-digitalhub-operator-metrics"]
    assert service["spec"]["ports"] == [{"name": "metrics", "port": 9100, "targetPort": "health", "protocol": "TCP"}]
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    (monitor,) = by_kind(docs, "ServiceMonitor")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"] == [{"port": "metrics", "path": "/metrics", "interval": "30s"}]
    assert monitor["metadata"]["labels"]["release"] == "prometheus"

    default = render({})
    assert [s["metadata"]["name"] for s in by_kind(default, "Service")] == ["dh-digitalhub-operator-metrics"]
    assert by_kind(default, "ServiceMonitor") == []
    off = render({"operator": {"metrics": {"enabled": False}}})
    assert [s["metadata"]["name"] for s in by_kind(off, "Service")] == []


def test_upgrade_hook_applies_every_shipped_crd_first():
    docs = render({}, is_upgrade=True)
    hooks = hook_objects(docs)
    assert {d["kind"] for d in hooks} == {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Job"}
    for doc in hooks:
        annotations = doc["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == "pre-upgrade"
        assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
        # the Job runs last: its account, rights and CRD files exist before it starts
        assert int(annotations["helm.sh/hook-weight"]) == (0 if doc["kind"] == "Job" else -10)
    (config_map,) = by_kind(hooks, "ConfigMap")
    assert config_map["data"] == crd_files()
    (job,) = by_kind(hooks, "Job")
    pod = job["spec"]["template"]["spec"]
    assert pod["containers"][0]["command"] == ["python", "-m", "digitalhub_operator.apply_crds", "/crds"]
    assert pod["containers"][0]["volumeMounts"] == [{"name": "crds", "mountPath": "/crds", "readOnly": True}]
    assert pod["volumes"] == [{"name": "crds", "configMap": {"name": config_map["metadata"]["name"]}}]
    assert pod["serviceAccountName"] == by_kind(hooks, "ServiceAccount")[0]["metadata"]["name"]
    (role,) = by_kind(hooks, "ClusterRole")
    named = next(rule for rule in role["rules"] if "resourceNames" in rule)
    assert sorted(named["resourceNames"]) == sorted(crd["metadata"]["name"] for crd in shipped_crds())
    assert hook_objects(render({"crds": {"upgrade": False}}, is_upgrade=True)) == []


def test_notes_start_the_first_run_from_the_examples():
    text = notes({})
    run = yaml.safe_load((ROOT / "examples" / "run.yaml").read_text())
    name = run["metadata"]["name"]
    assert "kubectl apply -n digitalhub -f examples/run.yaml" in text
    assert f"run/{name}" in text and f"job/{workload_name(name)}" in text
    for example in ("function.yaml", "task.yaml"):
        assert (ROOT / "examples" / example).exists() and f"examples/{example}" in text
    assert "-n team-a" in notes(HA) and "namespaces team-a, team-b" in notes(HA)


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"operator": {"replicas": "two"}}, "/operator/replicas"),
        ({"operator": {"replicaz": 2}}, "replicaz"),
        ({"operator": {"peering": {"enabled": True, "createCRDs": True}}}, "createCRDs"),
        ({"operator": {"watchNamespaces": ["Team_A"]}}, "/operator/watchNamespaces/0"),
        ({"operator": {"metrics": {"port": 70000}}}, "/operator/metrics/port"),
        ({"operator": {"podDisruptionBudget": {"minAvailable": 0}}}, "/operator/podDisruptionBudget/minAvailable"),
        ({"runtime": {"imageTemplate": "registry.local/runtime:latest"}}, "/runtime/imageTemplate"),
        ({"runtime": {"images": {"PYTHON2_7": "old"}}}, "PYTHON2_7"),
        ({"runtime": {"imagePullPolicy": "Sometimes"}}, "/runtime/imagePullPolicy"),
        ({"crds": {"upgrade": "yes"}}, "/crds/upgrade"),
        ({"serve": {"jobStore": {"redis": {"enable": True}}}}, "enable"),
        ({"console": {"actions": {"enabled": "yes"}}}, "/console/actions/enabled"),
        ({"console": {"namespace": "Team_A"}}, "/console/namespace"),
        ({"console": {"port": 0}}, "/console/port"),
    ],
)
def test_bad_values_are_refused_naming_the_value(values, complaint):
    with pytest.raises(helm_python.HelmError, match="schema") as refused:
        render(values)
    assert complaint in str(refused.value)
    assert complaint in " ".join(helm_python.lint(CHART, values)["errors"])


def test_a_job_store_url_with_credentials_is_refused_without_repeating_it():
    with pytest.raises(helm_python.HelmError, match="without credentials") as refused:
        render({"serve": {"jobStore": {"url": "redis://:hunter2@redis:6379/0"}}})
    assert "hunter2" not in str(refused.value)


def test_values_schema_knows_every_python_version_and_the_defaults():
    schema = json.loads((CHART / "values.schema.json").read_text())
    images = schema["properties"]["runtime"]["properties"]["images"]["properties"]
    assert sorted(images) == sorted(v.value for v in PythonVersion)
    jsonschema.Draft7Validator(schema).validate(yaml.safe_load((CHART / "values.yaml").read_text()))


def operator_env(docs: list[dict[str, Any]]) -> dict[str, str]:
    return env_of(next(d for d in by_kind(docs, "Deployment") if d["metadata"]["name"] == "dh-digitalhub-operator"))


def test_the_chart_can_run_a_small_redis_for_serve_jobs():
    assert "DIGITALHUB_OPERATOR_SERVE_JOB_STORE" not in operator_env(render({}))  # off by default
    docs = render(QUICK_REDIS)
    env = operator_env(docs)
    assert (
        env["DIGITALHUB_OPERATOR_SERVE_JOB_STORE"] == "redis://dh-digitalhub-redis.digitalhub.svc.cluster.local:6379/0"
    )
    assert env["DIGITALHUB_OPERATOR_SERVE_JOB_STORE_SECRET"] == "dh-digitalhub-redis"
    secrets = by_kind(docs, "Secret")  # where Redis runs, and where serve pods run (they read it by reference)
    assert sorted(s["metadata"]["namespace"] for s in secrets) == ["digitalhub", "team-a"]
    assert len({s["data"]["password"] for s in secrets}) == 1
    redis = next(d for d in by_kind(docs, "Deployment") if d["metadata"]["name"] == "dh-digitalhub-redis")
    container = redis["spec"]["template"]["spec"]["containers"][0]
    assert container["env"] == [
        {"name": "REDIS_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "dh-digitalhub-redis", "key": "password"}}}
    ]
    assert "--appendonly" in container["command"] and "$(REDIS_PASSWORD)" in container["command"]
    assert redis["spec"]["template"]["spec"]["volumes"] == [{"name": "data", "emptyDir": {}}]
    service = next(d for d in by_kind(docs, "Service") if d["metadata"]["name"] == "dh-digitalhub-redis")
    assert service["spec"]["selector"] == redis["spec"]["selector"]["matchLabels"]
    kept = by_kind(render(KEPT_REDIS), "PersistentVolumeClaim")
    assert [c["spec"]["storageClassName"] for c in kept] == ["ssd"]


def test_the_chart_can_point_serve_jobs_at_an_existing_redis():
    docs = render(EXISTING_REDIS)
    env = operator_env(docs)
    assert env["DIGITALHUB_OPERATOR_SERVE_JOB_STORE"] == "redis://redis.infra.svc:6379/0"
    assert env["DIGITALHUB_OPERATOR_SERVE_JOB_STORE_SECRET"] == "redis-auth"
    assert env["DIGITALHUB_OPERATOR_SERVE_JOB_STORE_SECRET_KEY"] == "password"
    assert by_kind(docs, "Secret") == [] and len(by_kind(docs, "Deployment")) == 1
    with pytest.raises(helm_python.HelmError, match="either url"):
        render({"serve": {"jobStore": {"url": "redis://r/0", "redis": {"enabled": True}}}})


def test_build_values_reach_the_operators_build_settings():
    assert OperatorSettings.from_env(operator_env(render({}))).build.registry is None  # builds say what is missing
    values = {"registry": "registry.example.com/dh", "builder": "buildkit", "registrySecret": "push", "code": "fetch"}
    build = OperatorSettings.from_env(operator_env(render({"build": values}))).build
    assert (build.registry, build.builder, build.registry_secret, build.code) == (
        "registry.example.com/dh",
        "buildkit",
        "push",
        "fetch",
    )
    with pytest.raises(helm_python.HelmError, match="/build/builder"):
        render({"build": {"builder": "docker"}})


def test_the_console_is_off_by_default_and_its_own_account_only_reads():
    assert [d["metadata"]["name"] for d in render({}) if "console" in d["metadata"]["name"]] == []
    docs = render(CONSOLE)
    console = next(d for d in by_kind(docs, "Deployment") if d["metadata"]["name"] == "dh-digitalhub-console")
    env = env_of(console)
    assert env["DIGITALHUB_BACKEND"] == "kubernetes" and env["DIGITALHUB_NAMESPACE"] == "team-a"
    assert env["DIGITALHUB_CONSOLE_ACTIONS"] == "true" and env["DIGITALHUB_CONSOLE_IDENTITY"] == "forwarded"
    pod = console["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "dh-digitalhub-console"
    assert pod["containers"][0]["args"][:2] == ["dhrun", "ui"]
    grants = rbac.grants_of(docs, "digitalhub", "dh-digitalhub-console")
    assert [grant.namespace for grant in grants] == ["team-a"]
    assert {verb for _, _, verb in rbac.granted_triples(grants)} == {"get", "list", "watch"}
    service = next(d for d in by_kind(docs, "Service") if d["metadata"]["name"] == "dh-digitalhub-console")
    assert service["spec"]["selector"] == console["spec"]["selector"]["matchLabels"]
    assert (
        env_of(
            next(
                d
                for d in by_kind(render({"console": {"enabled": True}}), "Deployment")
                if "console" in d["metadata"]["name"]
            )
        )["DIGITALHUB_NAMESPACE"]
        == "digitalhub"
    )
