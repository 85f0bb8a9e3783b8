"""Operator restarts: a run launched before the restart gets no second Job, and runs created while the operator
was down are launched when it comes back."""

from __future__ import annotations

import signal

import pytest
from operator_harness import job_condition

from digitalhub_runtime_python.models.states import State
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


def jobs_of(world) -> list[str]:
    return sorted(job.metadata.name for job in world.batch.list_namespaced_job(world.namespace).items)


def launches(world, run) -> int:
    return sum(reason == "Launched" for _, reason, _ in world.events(run))


def test_restart_mid_run_creates_no_duplicate(start_operator, world):
    first = start_operator()
    run, name, job, pod = world.job_with_running_pod()
    wait_for(lambda: launches(world, run) == 1, what="the Launched event")
    world.store.transition(run.key, State.READY)
    world.store.transition(run.key, State.RUNNING)
    first.stop(signal.SIGKILL)  # no goodbye: nothing to clean up, nothing left half-done on the Run

    waiting = world.run("job")  # created while no operator runs
    second = start_operator()
    wait_for(lambda: world.job(f"run-{waiting.id}"), what="the Job of the run created during the outage")
    assert jobs_of(world) == sorted([name, f"run-{waiting.id}"])

    world.pod_status(
        pod,
        {
            "phase": "Failed",
            "containerStatuses": [
                {
                    "name": "runtime",
                    "ready": False,
                    "restartCount": 0,
                    "image": "x",
                    "imageID": "",
                    "state": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
                }
            ],
        },
    )
    world.job_status(name, job_condition("Failed", "BackoffLimitExceeded"))
    failed = world.wait_run(run, lambda r: r.status.state == State.ERROR, "ERROR after the restart")
    assert failed.status.kubernetes.reason == "OOMKilled"
    assert jobs_of(world) == sorted([name, f"run-{waiting.id}"])
    # the same Job, not one deleted and made again, and launched once: the second operator saw it was launched
    assert world.job(name)["metadata"]["uid"] == job["metadata"]["uid"]
    wait_for(lambda: launches(world, waiting) == 1, what="the Launched event of the run created during the outage")
    assert launches(world, run) == 1
    assert second.probe("/healthz").status_code == 200
