"""The pending deadline: a run stuck before starting ends in ERROR with the reason, and its Job is removed."""

from __future__ import annotations

import pytest

from digitalhub_runtime_python.models.states import State
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def operator(start_operator):
    return start_operator(DIGITALHUB_OPERATOR_PENDING_DEADLINE="3")


def test_stuck_job_run_ends_in_error(operator, world):
    run = world.run("job")
    name = f"run-{run.id}"
    job = wait_for(lambda: world.job(name), what="the Job")
    pod = world.start_pod(job)
    world.pod_status(
        pod,
        {
            "phase": "Pending",
            "containerStatuses": [
                {
                    "name": "runtime",
                    "ready": False,
                    "restartCount": 0,
                    "image": "registry.local/nope:1",
                    "imageID": "",
                    "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}},
                }
            ],
        },
    )
    failed = world.wait_run(run, lambda r: r.status.state == State.ERROR, "ERROR", timeout=15)
    assert "did not start within 3 s" in failed.status.message and "ImagePullBackOff" in failed.status.message
    wait_for(
        lambda: world.gone(lambda n: world.batch.read_namespaced_job(n, world.namespace), name), what="Job removed"
    )


def test_stuck_serve_run_ends_in_error(operator, world):
    run = world.run("serve")
    name = f"run-{run.id}"
    deployment = wait_for(lambda: world.deployment(name), what="the Deployment")
    pod = world.start_pod(deployment)
    world.pod_status(
        pod,
        {
            "phase": "Pending",
            "conditions": [
                {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "no nodes"}
            ],
        },
    )
    failed = world.wait_run(run, lambda r: r.status.state == State.ERROR, "ERROR", timeout=15)
    assert "Unschedulable" in failed.status.message
    wait_for(
        lambda: world.gone(lambda n: world.apps.read_namespaced_deployment(n, world.namespace), name),
        what="Deployment removed",
    )
