"""What the operator refuses and reports: service accounts, Services owned by other runs, malformed Runs, Jobs that
cannot create pods, and launches racing with deletes. The real operator against the emulator."""

from __future__ import annotations

import time

import pytest
from operator_harness import PROJECT, job_condition, run_cr, wait_error

from digitalhub_runtime_python.models.states import State
from tests.waiting import wait_for

pytestmark = pytest.mark.integration
GROUP, VERSION = "digitalhub.io", "v1alpha1"
OPERATOR_ACCOUNT = "digitalhub-operator"


@pytest.fixture(scope="module")
def operator(start_operator):
    return start_operator(
        DIGITALHUB_OPERATOR_PENDING_DEADLINE="120",
        DIGITALHUB_OPERATOR_ALLOWED_SERVICE_ACCOUNTS="trusted-runner",
        DIGITALHUB_OPERATOR_SERVICE_ACCOUNT=OPERATOR_ACCOUNT,
    )


def warnings(world, name: str) -> list[str]:
    items = world.core.list_namespaced_event(world.namespace).items
    return [e.reason for e in items if e.involved_object.name == name and e.type == "Warning"]


def settled(world, operator) -> None:
    """The operator handled everything before: a run created now gets its Job, and the scan has run since."""
    probe = world.run("job")
    wait_for(lambda: world.job(f"run-{probe.id}"), what="a later run's Job")
    start = time.monotonic()
    wait_for(
        lambda: operator.probe("/healthz").json()["seconds_since_scan"] < time.monotonic() - start - 0.2,
        what="a scan after this point",
    )


# -- service accounts


@pytest.mark.parametrize(
    ("account", "refusal"),
    [
        (OPERATOR_ACCOUNT, "service_account 'digitalhub-operator' is the operator's own: run pods never get it"),
        ("cluster-admin-sa", "service_account 'cluster-admin-sa' is not allowed: allowed are digitalhub-runner"),
    ],
)
def test_service_accounts_not_allowed_are_refused(operator, world, account: str, refusal: str) -> None:
    run = world.run("job", service_account=account)
    failed = world.wait_run(run, lambda r: r.status.state == State.ERROR, "ERROR")
    assert refusal in failed.status.message
    assert "DIGITALHUB_OPERATOR_ALLOWED_SERVICE_ACCOUNTS" in failed.status.message or account == OPERATOR_ACCOUNT
    assert world.gone(lambda n: world.batch.read_namespaced_job(n, world.namespace), f"run-{run.id}")


def test_allowed_and_default_service_accounts(operator, world) -> None:
    allowed = world.run("job", service_account="trusted-runner")
    default = world.run("job")
    for run, account in ((allowed, "trusted-runner"), (default, "digitalhub-runner")):
        job = wait_for(lambda r=run: world.job(f"run-{r.id}"), what="the Job")
        assert job["spec"]["template"]["spec"]["serviceAccountName"] == account


# -- Services


def test_a_service_owned_by_another_run_is_a_conflict(operator, world) -> None:
    first = world.run("serve", service_name="shared-svc")
    world.wait_run(first, lambda r: r.status.state == State.READY, "the first run READY")
    second = world.run("serve", service_name="shared-svc")
    failed = world.wait_run(second, lambda r: r.status.state == State.ERROR, "the second run in ERROR")
    assert f"service_name 'shared-svc': Service shared-svc belongs to run {first.key}" in failed.status.message
    assert world.gone(lambda n: world.apps.read_namespaced_deployment(n, world.namespace), f"run-{second.id}")
    service = world.service("shared-svc")
    assert service["spec"]["selector"] == {"digitalhub.io/run": f"run-{first.id}"}  # still routes to the first
    assert world.get_run(first).status.state == State.READY


# -- malformed runs


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("task", "not a key at all"),
        ("task", f"store://{PROJECT}/task/python+job/not a key at all"),
        ("task", f"store://{PROJECT}/function/python/fn:1"),
        ("function", "nope"),
    ],
)
def test_a_malformed_run_ends_in_error_once(operator, world, field: str, value: str) -> None:
    function = world.function()
    task = world.task(function)
    spec = {"task": task.key, "function": function.key, "action": "job", field: value}
    name = f"bad-{field}-{abs(hash(value)) % 10**8}"
    world.custom.create_namespaced_custom_object(GROUP, VERSION, world.namespace, "runs", run_cr(name, **spec))
    failed = wait_error(world, name)
    assert failed["status"]["message"].startswith(f"spec.{field}: "), failed["status"]["message"]
    settled(world, operator)
    assert warnings(world, name) == ["Failed"]
    assert name not in operator.log_tail(100_000)  # handled as bad input: no traceback, no retry loop


# -- Job-level failures


def test_a_job_that_cannot_create_its_pod_says_why_at_once(operator, world) -> None:
    run = world.run("job")
    name = f"run-{run.id}"
    job = wait_for(lambda: world.job(name), what="the Job")
    message = 'pods "run-x" is forbidden: error looking up service account ns/ghost: serviceaccount "ghost" not found'
    world.core.create_namespaced_event(  # what the Job controller posts
        world.namespace,
        {
            "metadata": {"name": f"{name}.failedcreate"},
            "involvedObject": {
                "kind": "Job",
                "name": name,
                "namespace": world.namespace,
                "uid": job["metadata"]["uid"],
            },
            "type": "Warning",
            "reason": "FailedCreate",
            "message": message,
            "source": {"component": "job-controller"},
        },
    )
    waiting = world.wait_run(run, lambda r: r.status.kubernetes.reason == "FailedCreate", "FailedCreate surfaced")
    assert waiting.status.state == State.CREATED
    assert waiting.status.message == f"waiting: job {name} cannot create its pod: FailedCreate: {message}"
    wait_for(lambda: "FailedCreate" in warnings(world, run.id), what="a FailedCreate event on the run")


def test_a_failure_target_condition_ends_the_run(operator, world) -> None:
    run = world.run("job")
    name = f"run-{run.id}"
    wait_for(lambda: world.job(name), what="the Job")
    world.job_status(name, job_condition("FailureTarget", "PodFailurePolicy", "container runtime exited with 42"))
    failed = world.wait_run(run, lambda r: r.status.state == State.ERROR, "ERROR")
    assert failed.status.kubernetes.reason == "PodFailurePolicy" and "exited with 42" in failed.status.message


# -- launch bookkeeping


def test_launched_is_recorded_once(operator, world) -> None:
    runs = [world.run("job") for _ in range(5)]
    for run in runs:
        wait_for(lambda r=run: world.job(f"run-{r.id}"), what="the Job")
    settled(world, operator)
    for run in runs:
        reasons = [
            e.reason
            for e in world.core.list_namespaced_event(world.namespace).items
            if e.involved_object.name == run.id
        ]
        assert reasons.count("Launched") == 1, reasons
