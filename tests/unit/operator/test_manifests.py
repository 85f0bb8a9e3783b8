"""Job, Deployment and Service manifests: what they contain, that they validate for Kubernetes 1.29 and 1.33,
and that bad task input fails with a message naming the field."""

from __future__ import annotations

import base64
import re
from typing import Any

import kubernetes_validate
import pytest

from digitalhub_operator.manifests import session as session_manifests
from digitalhub_operator.manifests.common import ManifestError
from digitalhub_operator.manifests.job import job_manifest
from digitalhub_operator.manifests.serve import deployment_manifest, service_manifest, service_url
from digitalhub_operator.settings import OperatorSettings
from digitalhub_runtime_python.contract import session_secret_name, workload_name

KUBERNETES_VERSIONS = ("1.29", "1.33")
FULL_JOB = dict(
    resources={"cpu": {"requests": "500m", "limits": "2"}, "mem": "1Gi", "gpu": "1"},
    envs={"MODE": "fast"},
    secrets=["s3-credentials"],
    volumes=[
        {"name": "data", "volume_type": "persistent_volume_claim", "mount_path": "/data", "source": "data-pvc"},
        {"name": "scratch", "volume_type": "empty_dir", "mount_path": "/scratch", "size_limit": "1Gi"},
        {"name": "conf", "volume_type": "config_map", "mount_path": "/etc/conf", "source": "conf"},
        {"name": "keys", "volume_type": "secret", "mount_path": "/etc/keys", "source": "keys", "read_only": True},
    ],
    node_selector={"pool": "gpu"},
    affinity={
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]
            }
        }
    },
    tolerations=[{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}],
    service_account="trainer",
    backoff_limit=2,
    active_deadline_seconds=3600,
)

TRAINER_ALLOWED = OperatorSettings(priority=1, allowed_service_accounts=("trainer",))


def validate_strict(manifest: dict[str, Any]) -> None:
    for version in KUBERNETES_VERSIONS:
        kubernetes_validate.validate(manifest, version, strict=True)


def container_of(manifest: dict[str, Any]) -> dict[str, Any]:
    return manifest["spec"]["template"]["spec"]["containers"][0]


def test_job_carries_every_task_knob(make_workload):
    workload = make_workload("job", settings=TRAINER_ALLOWED, **FULL_JOB)
    job = job_manifest(workload)
    validate_strict(job)
    assert job["metadata"]["name"] == "run-0123abcd" == workload_name("0123abcd")
    assert job["metadata"]["ownerReferences"][0]["uid"] == workload.owner.uid
    assert job["metadata"]["labels"]["digitalhub.io/project"] == "demo"
    assert job["metadata"]["labels"]["digitalhub.io/function"] == "train"
    assert job["metadata"]["labels"]["digitalhub.io/run"] == "run-0123abcd"
    assert job["spec"]["backoffLimit"] == 2 and job["spec"]["activeDeadlineSeconds"] == 3600
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and pod["serviceAccountName"] == "trainer"
    assert pod["nodeSelector"] == {"pool": "gpu"} and pod["tolerations"][0]["key"] == "gpu"
    assert pod["affinity"] == FULL_JOB["affinity"]
    container = container_of(job)
    assert container["image"] == "ghcr.io/scc-digitalhub/digitalhub-runtime-python:py3.11"
    assert container["command"] == ["python", "-m", "digitalhub_runtime_python.runner", "--run", workload.run.key]
    assert container["resources"] == {
        "requests": {"cpu": "500m", "memory": "1Gi"},
        "limits": {"cpu": "2", "nvidia.com/gpu": "1"},
    }
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}
    assert env["DIGITALHUB_RUN_KEY"] == workload.run.key and env["DIGITALHUB_BACKEND"] == "kubernetes"
    assert env["DIGITALHUB_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    assert env["MODE"] == "fast"
    assert container["envFrom"] == [{"secretRef": {"name": "s3-credentials"}}]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["data"]["persistentVolumeClaim"] == {"claimName": "data-pvc", "readOnly": False}
    assert volumes["scratch"]["emptyDir"] == {"sizeLimit": "1Gi"}
    assert volumes["conf"]["configMap"] == {"name": "conf"} and volumes["keys"]["secret"] == {"secretName": "keys"}
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert mounts["keys"] == {"name": "keys", "mountPath": "/etc/keys", "readOnly": True}


def test_minimal_job_defaults(make_workload):
    job = job_manifest(make_workload("job"))
    validate_strict(job)
    assert job["spec"]["backoffLimit"] == 0 and "activeDeadlineSeconds" not in job["spec"]
    assert job["spec"]["template"]["spec"]["serviceAccountName"] == "digitalhub-runner"
    assert "envFrom" not in container_of(job)
    assert container_of(job)["resources"] == {"requests": {"cpu": "100m", "memory": "128Mi"}}  # never BestEffort
    assert job["spec"]["ttlSecondsAfterFinished"] == 86400


def test_same_run_gives_the_same_job(make_workload):
    first, second = (make_workload("job", settings=TRAINER_ALLOWED, **FULL_JOB) for _ in range(2))
    assert job_manifest(first) == job_manifest(second)


def test_image_choice(make_workload):
    built = make_workload("job", function_spec={"image": "registry.local/train:1"})
    assert container_of(job_manifest(built))["image"] == "registry.local/train:1"
    settings = OperatorSettings.from_env(
        {"DIGITALHUB_OPERATOR_IMAGE_PYTHON3_11": "mirror/py:3.11", "DIGITALHUB_OPERATOR_POD_SECRETS": "shared-s3"}
    )
    workload = make_workload("job", settings=settings, secrets=["shared-s3", "own"])
    assert container_of(job_manifest(workload))["image"] == "mirror/py:3.11"
    assert container_of(job_manifest(workload))["envFrom"] == [
        {"secretRef": {"name": "shared-s3"}},
        {"secretRef": {"name": "own"}},
    ]


def test_serve_deployment_and_service(make_workload):
    workload = make_workload(
        "serve",
        replicas=3,
        service_type="NodePort",
        service_name="scorer",
        resources={"cpu": "1"},
        envs={"MODEL": "v2"},
    )
    deployment, service = deployment_manifest(workload), service_manifest(workload)
    validate_strict(deployment)
    validate_strict(service)
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["selector"]["matchLabels"] == {"digitalhub.io/run": "run-0123abcd"}
    pod = deployment["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Always" and pod["terminationGracePeriodSeconds"] == 30
    container = container_of(deployment)
    assert container["command"][:3] == ["python", "-m", "digitalhub_runtime_python.serving"]
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["PORT"] == "8080"
    # drain: 5 s of "not ready" so Services stop routing, then 23 s for requests in flight, inside the 30 s grace
    assert env["DIGITALHUB_SERVE_DRAIN_DELAY"] == "5" and env["DIGITALHUB_SERVE_DRAIN_TIMEOUT"] == "23"
    assert service["metadata"]["name"] == "scorer" and service["spec"]["type"] == "NodePort"
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert service_url(workload) == "http://scorer.team-a.svc.cluster.local"


def test_serve_defaults(make_workload):
    workload = make_workload("serve")
    assert deployment_manifest(workload)["spec"]["replicas"] == 1
    service = service_manifest(workload)
    validate_strict(service)
    assert service["spec"]["type"] == "ClusterIP" and service["metadata"]["name"] == "run-0123abcd"


def test_serve_pods_get_the_job_store_and_its_password_from_the_secret(make_workload):
    store = {"url": "redis://redis.infra.svc:6379/0", "password_secret": "redis-auth", "password_key": "pw"}
    deployment = deployment_manifest(make_workload("serve", replicas=2, job_store=store))
    validate_strict(deployment)
    env = {e["name"]: e for e in container_of(deployment)["env"]}
    assert env["DIGITALHUB_SERVE_JOB_STORE"] == {"name": "DIGITALHUB_SERVE_JOB_STORE", "value": store["url"]}
    assert env["DIGITALHUB_SERVE_JOB_STORE_PASSWORD"] == {
        "name": "DIGITALHUB_SERVE_JOB_STORE_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "redis-auth", "key": "pw"}},
    }
    # the operator's default (the chart's Redis) serves tasks that name none; a task's own wins
    settings = OperatorSettings.from_env(
        {
            "DIGITALHUB_OPERATOR_SERVE_JOB_STORE": "redis://dh-redis.digitalhub.svc.cluster.local:6379/0",
            "DIGITALHUB_OPERATOR_SERVE_JOB_STORE_SECRET": "dh-redis",
        }
    )
    default = container_of(deployment_manifest(make_workload("serve", settings=settings)))
    env = {e["name"]: e for e in default["env"]}
    assert env["DIGITALHUB_SERVE_JOB_STORE"]["value"].startswith("redis://dh-redis.")
    assert env["DIGITALHUB_SERVE_JOB_STORE_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "dh-redis",
        "key": "password",
    }
    own = container_of(
        deployment_manifest(make_workload("serve", settings=settings, job_store={"url": "redis://own/1"}))
    )
    env = {e["name"]: e for e in own["env"]}
    assert env["DIGITALHUB_SERVE_JOB_STORE"]["value"] == "redis://own/1"
    assert "DIGITALHUB_SERVE_JOB_STORE_PASSWORD" not in env
    assert "DIGITALHUB_SERVE_JOB_STORE" not in {
        e["name"] for e in container_of(deployment_manifest(make_workload("serve")))["env"]
    }


def test_job_store_env_is_the_operators_to_set(make_workload):
    with pytest.raises(ManifestError, match="DIGITALHUB_SERVE_JOB_STORE_PASSWORD"):
        deployment_manifest(
            make_workload(
                "serve",
                job_store={"url": "redis://r/0", "password_secret": "auth"},
                envs={"DIGITALHUB_SERVE_JOB_STORE_PASSWORD": "inline"},
            )
        )
    with pytest.raises(ManifestError, match="job_store.password_secret"):
        deployment_manifest(make_workload("serve", job_store={"url": "redis://r/0", "password_secret": "Bad_Name"}))


def test_serve_pods_that_install_requirements_get_a_longer_startup_window(make_workload):
    def startup(function_spec):
        probe = container_of(deployment_manifest(make_workload("serve", function_spec=function_spec)))["startupProbe"]
        return probe["periodSeconds"] * probe["failureThreshold"]

    assert startup({}) == 300  # 5 minutes to load a model
    assert startup({"requirements": ["scikit-learn"]}) == 1800  # installing first: 30 minutes
    assert startup({"requirements": ["scikit-learn"], "image": "registry.local/built:1"}) == 300  # built in


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"resources": {"cpu": {"requests": "2", "limits": "1"}}}, ["resources.cpu", "exceed"]),
        ({"resources": {"gpu": {"requests": "1", "limits": "2"}}}, ["resources.gpu", "equal"]),
        ({"envs": {"DIGITALHUB_RUN_KEY": "x"}}, ["DIGITALHUB_RUN_KEY", "remove"]),
        ({"secrets": ["Bad_Secret"]}, ["secrets[]", "Bad_Secret"]),
        (
            {"volumes": [{"name": "my_vol", "volume_type": "empty_dir", "mount_path": "/x"}]},
            ["volumes[].name", "my_vol"],
        ),
        ({"volumes": [{"name": "digitalhub-tmp", "volume_type": "empty_dir", "mount_path": "/x"}]}, ["reserved"]),
        ({"service_account": "Not Valid"}, ["service_account"]),
    ],
)
def test_bad_task_input_names_the_field(make_workload, fields, words):
    with pytest.raises(ManifestError) as error:
        job_manifest(make_workload("job", **fields))
    for word in words:
        assert word in str(error.value)


@pytest.mark.parametrize(
    ("account", "refusal"),
    [
        ("operator", "service_account 'operator' is the operator's own: run pods never get it"),
        ("admin", "service_account 'admin' is not allowed: allowed are digitalhub-runner, trainer, operator"),
    ],
)
def test_service_accounts_outside_the_allow_list_are_refused(make_workload, account, refusal):
    settings = OperatorSettings(
        priority=1, allowed_service_accounts=("trainer", "operator"), own_service_account="operator"
    )
    with pytest.raises(ManifestError, match=re.escape(refusal)):
        job_manifest(make_workload("job", settings=settings, service_account=account))
    allowed = job_manifest(make_workload("job", settings=settings, service_account="trainer"))
    assert allowed["spec"]["template"]["spec"]["serviceAccountName"] == "trainer"


def test_bad_service_name(make_workload):
    with pytest.raises(ManifestError, match="service_name"):
        service_manifest(make_workload("serve", service_name="9lives"))


ODD_IDS = ["X" * 80, "A_b.c", "a_b.c", "UPPER", "-lead", "trail-", "dots.in.it", "ü-nicode", "a" * 59, "a" * 60]
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")  # RFC 1123, as Kubernetes checks object names


@pytest.mark.parametrize("run_id", ODD_IDS)
def test_long_or_odd_ids_still_give_valid_names(run_id):
    name = workload_name(run_id)
    assert DNS_LABEL.fullmatch(name) and len(name) <= 63, name
    assert name.startswith("run-") and name == workload_name(run_id)


def test_odd_ids_give_distinct_names():
    assert len({workload_name(run_id) for run_id in ODD_IDS}) == len(ODD_IDS)


def test_a_session_is_a_token_secret_a_one_replica_deployment_and_a_service(make_workload):
    workload = make_workload("session", envs={"MODE": "fast"}, secrets=["s3-credentials"], idle_timeout=600)
    secret, deployment = session_manifests.secret_manifest(workload), session_manifests.deployment_manifest(workload)
    for manifest in (secret, deployment, service_manifest(workload)):
        validate_strict(manifest)
    assert secret["metadata"]["name"] == session_secret_name("0123abcd") == "run-0123abcd-session"
    assert secret["metadata"]["ownerReferences"][0]["uid"] == workload.owner.uid
    token = base64.b64decode(secret["data"]["token"])
    assert len(token) >= 32 and token != base64.b64decode(session_manifests.secret_manifest(workload)["data"]["token"])
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"] == {"type": "Recreate"}
    container = container_of(deployment)
    assert container["command"] == ["python", "-m", "digitalhub_runtime_python.sessions", "--run", workload.run.key]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}
    assert env["DIGITALHUB_SESSION_TOKEN"] == {"secretKeyRef": {"name": "run-0123abcd-session", "key": "token"}}
    assert env["DIGITALHUB_SESSION_PORT"] == "8080" and env["MODE"] == "fast"
    assert container["envFrom"] == [{"secretRef": {"name": "s3-credentials"}}]
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}


def test_a_session_task_may_not_set_the_token_itself(make_workload):
    with pytest.raises(ManifestError, match="DIGITALHUB_SESSION_TOKEN is set by the operator"):
        session_manifests.deployment_manifest(make_workload("session", envs={"DIGITALHUB_SESSION_TOKEN": "mine"}))
