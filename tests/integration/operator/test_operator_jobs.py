"""A job run through the real operator: Job spec, status mirroring, events, stop, delete, bad input."""

from __future__ import annotations

import kubernetes_validate
import pytest
from operator_harness import assert_valid_run_cr, finished, job_condition, running

from digitalhub_runtime_python.models.run import ErrorInfo
from digitalhub_runtime_python.models.states import State
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


def test_job_spec_status_mirroring_and_results(operator, world):
    run = world.run(
        "job",
        resources={"cpu": "500m", "mem": {"requests": "256Mi", "limits": "1Gi"}},
        envs={"MODE": "fast"},
        secrets=["s3-credentials"],
        backoff_limit=1,
    )
    name = f"run-{run.id}"
    job = wait_for(lambda: world.job(name), what="the Job")
    for version in ("1.29", "1.33"):
        kubernetes_validate.validate(job, version, strict=True)
    run_cr = world.run_cr(run)
    assert job["metadata"]["ownerReferences"][0]["uid"] == run_cr["metadata"]["uid"]
    assert job["metadata"]["labels"]["digitalhub.io/run"] == name
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["python", "-m", "digitalhub_runtime_python.runner", "--run", run.key]
    assert container["resources"] == {"requests": {"cpu": "500m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}}
    assert job["spec"]["backoffLimit"] == 1
    launched = world.wait_run(run, lambda r: r.status.kubernetes and r.status.kubernetes.job == name, "launched")
    assert launched.status.state == State.CREATED and "waiting for its pod" in launched.status.message

    pod = world.start_pod(job)
    world.pod_status(
        pod,
        {
            "phase": "Pending",
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": "0/3 nodes are available: 3 Insufficient cpu.",
                }
            ],
        },
    )
    stuck = world.wait_run(run, lambda r: r.status.kubernetes.reason == "Unschedulable", "unschedulable")
    assert "Insufficient cpu" in stuck.status.message and stuck.status.kubernetes.pods == [pod]
    world.pod_status(pod, {**running(), "conditions": [{"type": "PodScheduled", "status": "True"}]})
    world.wait_run(run, lambda r: "is running" in (r.status.message or ""), "pod running message")

    # the in-pod runtime records its own states and results through the store
    world.store.transition(run.key, State.READY, "code loaded")
    world.store.transition(run.key, State.RUNNING)
    world.store.transition(run.key, State.COMPLETED, results={"output_0": 4})
    world.pod_status(pod, finished("Completed", 0))
    world.job_status(name, job_condition("Complete", "CompletionsReached"))
    done = world.wait_run(
        run, lambda r: r.status.kubernetes.pods == [pod] and r.status.state == State.COMPLETED, "done"
    )
    assert done.status.results == {"output_0": 4}
    assert [t.state for t in done.status.transitions] == ["CREATED", "READY", "RUNNING", "COMPLETED"]
    assert_valid_run_cr(world.run_cr(run))
    reasons = wait_for(
        lambda: (
            {reason for _, reason, _ in world.events(run)} >= {"Launched", "Unschedulable"}
            and {reason for _, reason, _ in world.events(run)}
        ),
        what="events on the Run",
    )
    assert "Launched" in reasons


@pytest.mark.parametrize(
    ("pod_end", "condition", "reason"),
    [
        (
            finished("OOMKilled", 137),
            job_condition("Failed", "BackoffLimitExceeded", "Job has reached the backoff limit"),
            "OOMKilled",
        ),
        (
            finished("Error", 1),
            job_condition("Failed", "DeadlineExceeded", "Job was active longer than specified deadline"),
            "DeadlineExceeded",
        ),
    ],
)
def test_failures_the_runtime_cannot_record_end_in_error(operator, world, pod_end, condition, reason):
    run, name, job, pod = world.job_with_running_pod()
    world.store.transition(run.key, State.READY)
    world.store.transition(run.key, State.RUNNING)
    world.pod_status(pod, pod_end)
    world.job_status(name, condition)
    failed = world.wait_run(run, lambda r: r.status.state == State.ERROR, "ERROR")
    assert failed.status.kubernetes.reason == reason and reason in failed.status.message
    assert failed.status.error == ErrorInfo(type=reason, message=failed.status.message)
    wait_for(lambda: any(t == "Warning" and r == "Failed" for t, r, _ in world.events(run)), what="Failed event")
    assert_valid_run_cr(world.run_cr(run))


def test_stop_deletes_the_job(operator, world):
    run = world.run("job")
    name = f"run-{run.id}"
    wait_for(lambda: world.job(name), what="the Job")
    world.store.transition(run.key, State.STOPPED, "stopped by user")  # what Run.stop() does on this backend
    wait_for(
        lambda: world.gone(lambda n: world.batch.read_namespaced_job(n, world.namespace), name), what="Job deleted"
    )
    assert world.get_run(run).status.state == State.STOPPED
    wait_for(lambda: any(r == "Released" for _, r, _ in world.events(run)), what="Released event")


def test_deleting_the_run_collects_its_job(operator, world):
    run = world.run("job")
    name = f"run-{run.id}"
    job = wait_for(lambda: world.job(name), what="the Job")
    world.start_pod(job)
    assert not world.run_cr(run)["metadata"].get("finalizers")  # nothing blocks deletion, even with no operator
    world.store.delete(run.key)
    wait_for(
        lambda: world.gone(lambda n: world.batch.read_namespaced_job(n, world.namespace), name), what="Job collected"
    )
    wait_for(
        lambda: world.gone(lambda n: world.core.read_namespaced_pod(n, world.namespace), f"{name}-abcde"),
        what="pod collected",
    )


def test_job_deleted_behind_our_back_ends_the_run(operator, world):
    run = world.run("job")
    name = f"run-{run.id}"
    wait_for(lambda: world.job(name), what="the Job")
    world.wait_run(run, lambda r: r.status.kubernetes and r.status.kubernetes.job, "launched")
    world.batch.delete_namespaced_job(name, world.namespace)
    failed = world.wait_run(run, lambda r: r.status.state == State.ERROR, "ERROR")
    assert "deleted outside digitalhub" in failed.status.message


def test_the_real_runtime_in_the_pod_records_its_results(operator, world, execute):
    run, name, job, pod = world.job_with_running_pod()  # main(n) returns n * 2, with parameters n=2
    assert execute(job) == 0  # the Job's own command and env, for real
    world.pod_status(pod, finished("Completed", 0))
    world.job_status(name, job_condition("Complete", "CompletionsReached"))
    done = world.wait_run(run, lambda r: r.status.state == State.COMPLETED, "COMPLETED")
    assert list(done.status.results.values()) == [4]
    assert [t.state for t in done.status.transitions] == ["CREATED", "READY", "RUNNING", "COMPLETED"]
    assert_valid_run_cr(world.run_cr(run))
