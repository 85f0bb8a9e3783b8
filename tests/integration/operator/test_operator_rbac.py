"""The chart's RBAC, derived from behaviour: the API calls the operator (and a run pod) make during a run of the
operator tests' scenario are recorded by the emulator; the chart's Roles and ClusterRoles must grant each of them,
and the operator's must grant nothing else beyond the needs listed (with their reason) in ``NOT_EXERCISED``."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from operator_harness import PROJECT, OperatorProcess, finished, job_condition, running

from digitalhub_runtime_python.contract import firing_run, session_secret_name, workload_name
from digitalhub_runtime_python.models.errors import validate
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.models.states import State
from tests.helm_chart import render
from tests.kube import rbac
from tests.waiting import wait_for

pytestmark = pytest.mark.integration
OPERATOR_TOKEN, RUNNER_TOKEN = "rbac-operator", "rbac-runner"
OPERATOR_ACCOUNT, RUNNER_ACCOUNT = "dh-digitalhub-operator", "digitalhub-runner"
RELEASE_NAMESPACE = "digitalhub"

# (group, resource, verb) the chart grants the operator that this scenario does not exercise, and why.
PEERING = {
    ("kopf.dev", kind, verb)
    for kind in ("kopfpeerings", "clusterkopfpeerings")
    for verb in ("get", "list", "watch", "patch")
}
NOT_EXERCISED = {
    # kopf peering (operator.peering.enabled): watch the (Cluster)KopfPeering object, patch in its keep-alive
    # (exercised by test_operator_peering.py)
    *PEERING,
    # lifecycle.scan_once -> Controller.check_launched: a launched run whose workload the watch never delivered
    # (deleted while the operator was down) is read by name before the run is failed
    ("batch", "jobs", "get"),
    ("batch", "cronjobs", "get"),
    ("apps", "deployments", "get"),
    # Controller._get: a task or function the watch has not delivered yet is read through the store, by name
    ("digitalhub.io", "tasks", "get"),
    ("digitalhub.io", "functions", "get"),
    # Controller._check_service_owner: a serve run's service_name is taken: whose Service it is is read by name
    ("", "services", "get"),
}


@pytest.fixture(scope="module")
def calls(kube_server, world, namespace) -> Iterator[dict[str, list[rbac.Permission]]]:
    """The scenario, with the operator and the run pod on identities of their own: what each asked for."""
    operator_calls = kube_server.emulator.record_calls(OPERATOR_TOKEN)
    runner_calls = kube_server.emulator.record_calls(RUNNER_TOKEN)
    folder = Path(tempfile.mkdtemp(prefix=f"dh-{namespace}-rbac-"))
    operator_kubeconfig = kube_server.kubeconfig(folder / "operator", namespace, token=OPERATOR_TOKEN)
    runner_kubeconfig = kube_server.kubeconfig(folder / "runner", namespace, token=RUNNER_TOKEN)
    operator = OperatorProcess(
        operator_kubeconfig,
        namespace,
        folder / "operator.log",
        DIGITALHUB_OPERATOR_PENDING_DEADLINE="120",
        DIGITALHUB_OPERATOR_BUILD_REGISTRY="registry.example.com/dh",
    )
    try:
        operator.start()
        scenario(world, runner_kubeconfig, folder / "home")
    finally:
        operator.stop()
    yield {
        "operator": [p for p in map(rbac.permission, operator_calls) if p is not None],
        "runner": [p for p in map(rbac.permission, runner_calls) if p is not None],
    }
    shutil.rmtree(folder, ignore_errors=True)


def scenario(world, runner_kubeconfig: Path, home: Path) -> None:
    """The operator tests' scenario in short: a job run to its end (its pod really executed), a stopped job,
    a serve run rolled out and stopped, a build (its runtime steps really executed), a session launched and stopped,
    a schedule that fires once (the operator makes the firing's run) and is stopped, a malformed run."""
    run = world.run("job")
    name = workload_name(run.id)
    job = wait_for(lambda: world.job(name), what="the Job")
    pod = world.start_pod(job)
    world.pod_status(pod, running())
    assert world.execute(job, runner_kubeconfig, home) == 0
    world.pod_status(pod, finished("Completed", 0))
    world.job_status(name, job_condition("Complete", "CompletionsReached"))
    world.wait_run(run, lambda r: r.status.state == State.COMPLETED and r.status.kubernetes.pods == [pod], "done")

    stopped = world.run("job")
    wait_for(lambda: world.job(workload_name(stopped.id)), what="the second Job")
    world.store.transition(stopped.key, State.STOPPED, "stopped by user")
    read_job = lambda n: world.batch.read_namespaced_job(n, world.namespace)  # noqa: E731
    wait_for(lambda: world.gone(read_job, workload_name(stopped.id)), what="the stopped run's Job deleted")

    served = world.run("serve")
    name = workload_name(served.id)
    deployment = wait_for(lambda: world.deployment(name), what="the Deployment")
    world.pod_status(world.start_pod(deployment), running())
    world.deployment_status(name, {"replicas": 1, "availableReplicas": 1, "readyReplicas": 1})
    world.wait_run(served, lambda r: r.status.state == State.RUNNING, "serving")
    world.store.transition(served.key, State.STOPPED, "stopped by user")
    world.wait_run(served, lambda r: r.status.kubernetes.deployment is None, "serve workload released")

    session = world.run("session")
    wait_for(lambda: world.secret(session_secret_name(session.id)), what="the session's token Secret")
    world.wait_run(session, lambda r: r.status.kubernetes.deployment is not None, "session launched")
    world.store.transition(session.key, State.STOPPED, "stopped by user")
    world.wait_run(session, lambda r: r.status.kubernetes.deployment is None, "session workload released")

    built = world.run("build")
    name = workload_name(built.id)
    job = wait_for(lambda: world.job(name), what="the build Job")
    pod = world.start_pod(job)
    build_dir = home.parent / "build"
    for container in ("prepare", "runtime"):
        if container == "runtime":
            (build_dir / "digest").write_text("sha256:" + "0" * 64)  # what the builder leaves
        env = {"DIGITALHUB_BUILD_DIR": str(build_dir), "DIGITALHUB_POD_NAME": pod}
        assert world.execute(job, runner_kubeconfig, home, 120, container, **env) == 0
    world.pod_status(pod, finished("Completed", 0))
    world.job_status(name, job_condition("Complete", "CompletionsReached"))
    world.wait_run(built, lambda r: r.status.state == State.COMPLETED and r.status.kubernetes.pods, "built")

    function = world.function()
    task = world.task(function)
    spec = {"task": task.key, "function": function.key, "action": "job", "schedule": "@daily"}
    schedule = world.store.create(validate(Run, {"project": PROJECT, "name": "nightly", "id": "nightly", "spec": spec}))
    cron_name = workload_name(schedule.id)
    read_cron = lambda n: world.batch.read_namespaced_cron_job(n, world.namespace)  # noqa: E731
    cronjob = world.batch.api_client.sanitize_for_serialization(wait_for(lambda: read_cron(cron_name), what="CronJob"))
    template = cronjob["spec"]["jobTemplate"]
    firing = f"{cron_name}-29000000"
    owner = {"apiVersion": "batch/v1", "kind": "CronJob", "name": cron_name, "uid": cronjob["metadata"]["uid"]}
    world.batch.create_namespaced_job(
        world.namespace,
        {"metadata": {**template["metadata"], "name": firing, "ownerReferences": [owner]}, "spec": template["spec"]},
    )
    world.wait_run(firing_run(schedule, firing), lambda r: r.status.kubernetes.job == firing, "the firing's run")
    world.store.transition(schedule.key, State.STOPPED, "stopped by user")
    wait_for(lambda: world.gone(read_cron, cron_name), what="the stopped schedule's CronJob deleted")
    world.custom.create_namespaced_custom_object(
        "digitalhub.io",
        "v1alpha1",
        world.namespace,
        "runs",
        {
            "apiVersion": "digitalhub.io/v1alpha1",
            "kind": "Run",
            "metadata": {"name": "explode"},
            "spec": {"task": task.key, "function": function.key, "action": "explode"},
        },
    )
    read = lambda: world.custom.get_namespaced_custom_object(  # noqa: E731
        "digitalhub.io", "v1alpha1", world.namespace, "runs", "explode"
    )
    wait_for(lambda: (read().get("status") or {}).get("state") == "ERROR", what="the malformed run in ERROR")


def operator_grants(namespace: str, scope: str, **operator_values: object) -> list[rbac.Grant]:
    """What the chart gives the operator when it watches ``namespace`` or, ``clusterwide``, the cluster."""
    watched = [namespace] if scope == "namespaced" else []
    docs = render({"operator": {"watchNamespaces": watched, **operator_values}})
    return rbac.grants_of(docs, RELEASE_NAMESPACE, OPERATOR_ACCOUNT)


SCOPES = pytest.mark.parametrize("scope", ["namespaced", "clusterwide"])


@SCOPES
def test_operator_rbac_grants_what_it_does_and_nothing_more(calls, namespace, scope):
    grants = operator_grants(namespace, scope)
    assert rbac.refused(grants, calls["operator"]) == []
    used = {(p.group, p.resource, p.verb) for p in calls["operator"]}
    assert sorted(rbac.granted_triples(grants) - used - NOT_EXERCISED) == []


@SCOPES
def test_peering_adds_the_peering_rules_only(namespace, scope):
    plain = rbac.granted_triples(operator_grants(namespace, scope))
    peered = rbac.granted_triples(operator_grants(namespace, scope, replicas=2, peering={"enabled": True}))
    kind = "kopfpeerings" if scope == "namespaced" else "clusterkopfpeerings"
    assert peered - plain == {t for t in PEERING if t[1] == kind}


def test_the_scenario_exercised_the_operator_and_the_run_pod(calls):
    operator = {(p.resource, p.verb) for p in calls["operator"]}
    assert {("jobs", "create"), ("jobs", "delete"), ("deployments", "create"), ("services", "delete")} <= operator
    assert ("secrets", "create") in operator
    assert {("runs/status", "update"), ("runs/status", "patch"), ("events", "create")} <= operator
    runner = {(p.resource, p.verb) for p in calls["runner"]}
    assert {("runs/status", "update"), ("functions", "create"), ("pods/log", "get")} <= runner


def test_runner_role_grants_what_a_run_pod_does(calls, namespace):
    grants = rbac.grants_of(render({"operator": {"watchNamespaces": [namespace]}}), namespace, RUNNER_ACCOUNT)
    assert rbac.refused(grants, calls["runner"]) == []
