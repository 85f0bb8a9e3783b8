"""Scheduled runs' CronJobs and the pod hygiene every workload gets (TTL, default resources, pull secrets, priority),
as pure manifests validated for Kubernetes 1.29 and 1.33; the settings behind them; the status helpers."""

from __future__ import annotations

import kubernetes_validate
import pytest

from digitalhub_operator.manifests.job import job_manifest
from digitalhub_operator.manifests.schedule import cronjob_manifest
from digitalhub_operator.manifests.serve import deployment_manifest
from digitalhub_operator.settings import OperatorSettings, SettingsError
from digitalhub_operator.status import finished_pod, observe_cronjob
from digitalhub_runtime_python.contract import (
    ENV_JOB_NAME,
    ENV_RUN_KEY,
    JOB_NAME_LABEL,
    LABEL_RUN,
    LABEL_SCHEDULE,
    firing_run,
    schedule_name,
    workload_name,
)
from digitalhub_runtime_python.models.states import State

KUBERNETES_VERSIONS = ("1.29", "1.33")
NIGHTLY = {"schedule": "0 3 * * *"}


def validate_strict(manifest: dict) -> None:
    for version in KUBERNETES_VERSIONS:
        kubernetes_validate.validate(manifest, version, strict=True)


def pod_of(manifest: dict) -> dict:
    return manifest["spec"]["template"]["spec"]


def test_a_scheduled_run_is_a_cronjob_whose_jobs_execute_new_runs(make_workload):
    workload = make_workload(
        "job",
        run_spec=NIGHTLY,
        concurrency_policy="Forbid",
        suspend=True,
        successful_jobs_history_limit=5,
        failed_jobs_history_limit=2,
        active_deadline_seconds=600,
    )
    cronjob = cronjob_manifest(workload)
    validate_strict(cronjob)
    spec = cronjob["spec"]
    assert cronjob["metadata"]["name"] == schedule_name(workload.run.id) == "run-0123abcd"
    assert cronjob["metadata"]["labels"][LABEL_RUN] == workload.name  # how the operator finds its schedule run
    assert cronjob["metadata"]["ownerReferences"][0]["uid"] == workload.owner.uid
    assert (spec["schedule"], spec["concurrencyPolicy"], spec["suspend"]) == ("0 3 * * *", "Forbid", True)
    assert (spec["successfulJobsHistoryLimit"], spec["failedJobsHistoryLimit"]) == (5, 2)
    job = spec["jobTemplate"]
    assert job["spec"]["activeDeadlineSeconds"] == 600 and job["spec"]["backoffLimit"] == 0
    assert job["spec"]["ttlSecondsAfterFinished"] == 86400  # a firing left by a stopped schedule goes too
    for labels in (job["metadata"]["labels"], job["spec"]["template"]["metadata"]["labels"]):
        assert labels[LABEL_SCHEDULE] == "run-0123abcd" and LABEL_RUN not in labels
    container = pod_of(job)["containers"][0]
    assert container["command"] == [
        "python",
        "-m",
        "digitalhub_runtime_python.runner",
        "--scheduled-by",
        workload.run.key,
    ]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}
    assert ENV_RUN_KEY not in env
    assert env[ENV_JOB_NAME] == {"fieldRef": {"fieldPath": f"metadata.labels['{JOB_NAME_LABEL}']"}}


def test_cronjob_defaults_are_kubernetes_own(make_workload):
    spec = cronjob_manifest(make_workload("job", run_spec={"schedule": "@hourly"}))["spec"]
    assert set(spec) == {"schedule", "jobTemplate"}


def test_the_firing_run_of_a_job_is_named_so_that_its_workload_is_that_job(make_workload):
    schedule = make_workload("job", run_spec=NIGHTLY).run
    job_name = f"{schedule_name(schedule.id)}-29012345"
    firing = firing_run(schedule, job_name)
    assert workload_name(firing.id) == job_name
    assert firing.spec.schedule is None and firing.spec.task == schedule.spec.task
    assert [(r.type, r.dest) for r in firing.metadata.relationships] == [("scheduled_by", schedule.key)]
    assert firing_run(schedule, job_name).key == firing.key  # the pod and the operator make the same run
    with pytest.raises(ValueError, match="must start with 'run-'"):
        firing_run(schedule, "backup-29012345")


def test_long_ids_get_a_cronjob_name_short_enough_for_its_jobs():
    long_id = "a" * 60
    name = schedule_name(long_id)
    assert len(name) <= 52 and name.startswith("run-") and name == schedule_name(long_id)
    assert workload_name("abc") == schedule_name("abc") == "run-abc"


def test_jobs_are_deleted_after_the_ttl(make_workload):
    settings = OperatorSettings.from_env({"DIGITALHUB_OPERATOR_JOB_TTL": "600"})
    assert job_manifest(make_workload("job", settings=settings))["spec"]["ttlSecondsAfterFinished"] == 600


def test_default_resources_fill_what_the_task_leaves_unset(make_workload):
    settings = OperatorSettings.from_env(
        {
            "DIGITALHUB_OPERATOR_DEFAULT_REQUESTS": "cpu=250m,memory=256Mi",
            "DIGITALHUB_OPERATOR_DEFAULT_LIMITS": "memory=1Gi",
        }
    )
    job = job_manifest(make_workload("job", settings=settings, resources={"cpu": {"limits": 2}}))
    validate_strict(job)
    assert pod_of(job)["containers"][0]["resources"] == {
        "requests": {"memory": "256Mi"},
        "limits": {"cpu": "2", "memory": "1Gi"},
    }
    none = OperatorSettings.from_env({"DIGITALHUB_OPERATOR_DEFAULT_REQUESTS": ""})
    assert "resources" not in pod_of(job_manifest(make_workload("job", settings=none)))["containers"][0]


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"DIGITALHUB_OPERATOR_DEFAULT_REQUESTS": "cpu=lots"}, ["DIGITALHUB_OPERATOR_DEFAULT_REQUESTS", "lots"]),
        (
            {"DIGITALHUB_OPERATOR_DEFAULT_REQUESTS": "memory=2Gi", "DIGITALHUB_OPERATOR_DEFAULT_LIMITS": "memory=1Gi"},
            ["exceeds", "DIGITALHUB_OPERATOR_DEFAULT_LIMITS"],
        ),
        ({"DIGITALHUB_OPERATOR_JOB_TTL": "-1"}, ["DIGITALHUB_OPERATOR_JOB_TTL", "at least"]),
    ],
)
def test_bad_hygiene_settings_name_the_variable(env, words):
    with pytest.raises(SettingsError) as error:
        OperatorSettings.from_env(env)
    assert all(word in str(error.value) for word in words)


@pytest.mark.parametrize("action", ["job", "serve"])
def test_pull_secrets_and_priority_class_come_from_the_task(make_workload, action):
    workload = make_workload(action, image_pull_secrets=["registry", "registry"], priority_class_name="batch-low")
    manifest = job_manifest(workload) if action == "job" else deployment_manifest(workload)
    validate_strict(manifest)
    pod = pod_of(manifest)
    assert pod["imagePullSecrets"] == [{"name": "registry"}] and pod["priorityClassName"] == "batch-low"


def test_the_cronjob_tells_the_schedule_run_when_it_last_fired():
    cronjob = {
        "spec": {"schedule": "0 3 * * *", "suspend": True},
        "status": {"lastScheduleTime": "2026-01-02T03:00:00Z"},
    }
    observation = observe_cronjob(cronjob, State.RUNNING)
    assert observation.state is None
    assert observation.message == "scheduled '0 3 * * *', suspended; last fired at 2026-01-02T03:00:00Z"
    assert observe_cronjob(cronjob, State.STOPPED).message is None


def test_the_newest_finished_pod_is_the_one_whose_log_is_kept():
    def pod(name: str, phase: str, created: str) -> dict:
        return {"metadata": {"name": name, "creationTimestamp": created}, "status": {"phase": phase}}

    assert finished_pod([pod("a", "Running", "2026-01-01T00:00:00Z")]) is None
    pods = [pod("a", "Failed", "2026-01-01T00:00:00Z"), pod("b", "Failed", "2026-01-01T00:01:00Z")]
    assert finished_pod([*pods, pod("c", "Running", "2026-01-01T00:02:00Z")]) == "b"
