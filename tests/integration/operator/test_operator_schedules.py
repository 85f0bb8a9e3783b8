"""Scheduled runs through the real operator: the CronJob, each of its Jobs making and executing a run (the record
users see), failures of a firing recorded on its run, stop and resume. The tests play the CronJob and Job
controllers, which the emulator does not have."""

from __future__ import annotations

import os
import subprocess
import time
from typing import Any

import kubernetes_validate
import pytest
from operator_harness import PROJECT, World, finished, job_condition

from digitalhub_runtime_python.contract import (
    ENV_JOB_NAME,
    JOB_NAME_LABEL,
    LABEL_RUN,
    MANAGED_BY,
    SCHEDULED_BY,
    firing_run,
)
from digitalhub_runtime_python.models.errors import validate
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.models.states import State
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


def schedule_run(world: World, schedule: str = "0 3 * * *", **task_fields: Any) -> Run:
    """A function, a task and a scheduled run, as ``fn.run("job", schedule=...)`` stores them."""
    function = world.function()
    task = world.task(function, "job", **task_fields)
    run_id = f"s{os.urandom(4).hex()}"
    spec = {"task": task.key, "function": function.key, "action": "job", "schedule": schedule, "parameters": {"n": 5}}
    return world.store.create(validate(Run, {"project": PROJECT, "name": run_id, "id": run_id, "spec": spec}))


def fire(world: World, cronjob: dict[str, Any]) -> str:
    """Create a Job from the CronJob's template, as the CronJob controller does when the schedule fires."""
    meta, template = cronjob["metadata"], cronjob["spec"]["jobTemplate"]
    name = f"{meta['name']}-{int(time.time() // 60)}"
    owner = {"apiVersion": "batch/v1", "kind": "CronJob", "name": meta["name"], "uid": meta["uid"], "controller": True}
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {**template["metadata"], "name": name, "ownerReferences": [owner]},
        "spec": template["spec"],
    }
    world.batch.create_namespaced_job(world.namespace, job)
    return name


def start_firing_pod(world: World, job_name: str) -> str:
    """The Job controller's pod, labelled with its Job's name as Kubernetes does."""
    job = world.job(job_name)
    job["spec"]["template"]["metadata"]["labels"][JOB_NAME_LABEL] = job_name
    return world.start_pod(job)


def test_a_schedule_is_a_cronjob_and_each_firing_a_run_of_its_own(operator, world, kubeconfig, tmp_path):
    schedule = schedule_run(world, concurrency_policy="Forbid", successful_jobs_history_limit=5)
    cron_name = f"run-{schedule.id}"
    cronjob = wait_for(lambda: world.batch.read_namespaced_cron_job(cron_name, world.namespace), what="the CronJob")
    cronjob = world.batch.api_client.sanitize_for_serialization(cronjob)
    for version in ("1.29", "1.33"):
        kubernetes_validate.validate(cronjob, version, strict=True)
    assert cronjob["spec"]["schedule"] == "0 3 * * *" and cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    active = world.wait_run(schedule, lambda r: r.status.state == State.RUNNING, "scheduled")
    assert active.status.kubernetes.cronjob == cron_name and "scheduled '0 3 * * *'" in active.status.message
    assert {c.type for c in active.status.conditions if c.status == "True"} == {"Ready"}

    job_name = fire(world, cronjob)
    firing = firing_run(schedule, job_name)
    # the operator makes the firing's run at once, and finds its Job already there: nothing else is launched
    made = world.wait_run(firing, lambda r: r.status.kubernetes and r.status.kubernetes.job == job_name, "adopted")
    assert [(r.type, r.dest) for r in made.metadata.relationships] == [(SCHEDULED_BY, schedule.key)]
    assert [j.metadata.name for j in world.batch.list_namespaced_job(world.namespace).items] == [job_name]

    # the pod executes it: the contract's scheduled command, with the Job's name from the downward API
    pod = start_firing_pod(world, job_name)
    command, env = world.container_process(world.job(job_name), kubeconfig, tmp_path / "home")
    env[ENV_JOB_NAME] = job_name
    assert subprocess.run(command, env=env, timeout=60, capture_output=True).returncode == 0
    done = world.wait_run(firing, lambda r: r.status.state == State.COMPLETED, "the firing completed")
    assert done.status.results == {"output_0": 10}
    world.pod_status(pod, finished("Completed", 0))
    world.wait_run(firing, lambda r: r.status.kubernetes.pods == [pod], "its pod mirrored")


def test_a_firing_whose_pod_fails_ends_in_error_on_its_own_run(operator, world):
    schedule = schedule_run(world, "@hourly")
    cron_name = f"run-{schedule.id}"
    cronjob = world.batch.api_client.sanitize_for_serialization(
        wait_for(lambda: world.batch.read_namespaced_cron_job(cron_name, world.namespace), what="the CronJob")
    )
    job_name = fire(world, cronjob)
    pod = start_firing_pod(world, job_name)
    world.pod_status(pod, finished("OOMKilled", 137))
    world.job_status(job_name, job_condition("Failed", "BackoffLimitExceeded", "Job has reached the backoff limit"))
    failed = world.wait_run(firing_run(schedule, job_name), lambda r: r.status.state == State.ERROR, "the failure")
    assert failed.status.kubernetes.reason == "OOMKilled" and job_name in failed.status.message
    assert world.get_run(schedule).status.state == State.RUNNING  # one failed firing does not end the schedule


def test_stopping_a_schedule_deletes_its_cronjob_and_resuming_recreates_it(operator, world):
    schedule = schedule_run(world, "*/5 * * * *")
    cron_name = f"run-{schedule.id}"
    world.wait_run(schedule, lambda r: r.status.state == State.RUNNING, "scheduled")
    world.store.transition(schedule.key, State.STOPPED, "stopped by user")
    wait_for(lambda: world.gone(lambda n: world.batch.read_namespaced_cron_job(n, world.namespace), cron_name))
    stopped = world.wait_run(schedule, lambda r: r.status.kubernetes.cronjob is None, "forgotten")
    assert {c.type for c in stopped.status.conditions if c.status == "True"} == {"Stopped", "Finished"}
    world.store.transition(schedule.key, State.READY, "resumed by user")
    wait_for(lambda: world.batch.read_namespaced_cron_job(cron_name, world.namespace), what="the CronJob again")
    world.wait_run(schedule, lambda r: r.status.state == State.RUNNING, "scheduled again")


def test_a_job_that_failed_before_its_run_was_seen_is_mirrored_when_the_run_comes(operator, world):
    """A firing's Job exists before its run; whatever happened to it meanwhile shows on the run once it is seen."""
    function = world.function()
    task = world.task(function)
    run_id = f"f{os.urandom(4).hex()}"
    labels = {**MANAGED_BY, LABEL_RUN: f"run-{run_id}"}
    pod = {"containers": [{"name": "runtime", "image": "python"}], "restartPolicy": "Never"}
    job = {"metadata": {"name": f"run-{run_id}", "labels": labels}, "spec": {"template": {"spec": pod}}}
    world.batch.create_namespaced_job(world.namespace, job)
    world.job_status(f"run-{run_id}", job_condition("Failed", "DeadlineExceeded", "Job was active longer than allowed"))
    spec = {"task": task.key, "function": function.key, "action": "job"}
    run = world.store.create(validate(Run, {"project": PROJECT, "name": run_id, "id": run_id, "spec": spec}))
    failed = world.wait_run(run, lambda r: r.status.state == State.ERROR, "the Job's failure on the run")
    assert failed.status.kubernetes.reason == "DeadlineExceeded"
