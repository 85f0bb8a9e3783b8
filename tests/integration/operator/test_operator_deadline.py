"""The pending deadline: a run stuck before starting ends in ERROR with the reason, and its Job is removed."""

from __future__ import annotations

import pytest

from digitalhub_runtime_python.models.states import State
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


DEADLINE = 10  # room for the test to make the pod and the operator to see it stuck, on a loaded machine


@pytest.fixture(scope="module")
def operator(start_operator):
    return start_operator(DIGITALHUB_OPERATOR_PENDING_DEADLINE=str(DEADLINE))


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
    world.wait_run(run, lambda r: r.status.kubernetes.reason == "ImagePullBackOff", "stuck", timeout=DEADLINE)
    failed = world.wait_run(run, lambda r: r.status.state == State.ERROR, "ERROR", timeout=DEADLINE + 20)
    assert failed.status.message.startswith(f"did not start within {DEADLINE} s: waiting: pod {pod}: ImagePullBackOff")
    assert failed.status.error.type == "ImagePullBackOff" and failed.status.error.message == failed.status.message
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
    world.wait_run(run, lambda r: r.status.kubernetes.reason == "Unschedulable", "stuck", timeout=DEADLINE)
    failed = world.wait_run(run, lambda r: r.status.state == State.ERROR, "ERROR", timeout=DEADLINE + 20)
    assert (
        failed.status.message
        == f"did not start within {DEADLINE} s: no replica available: pod {pod}: Unschedulable: no nodes"
    )
    assert failed.status.error.type == "Unschedulable" and failed.status.error.message == failed.status.message
    wait_for(
        lambda: world.gone(lambda n: world.apps.read_namespaced_deployment(n, world.namespace), name),
        what="Deployment removed",
    )
