"""The console on the Kubernetes backend (the emulator): pages and live events fed by the store's watches, the
calls of its own identity all reads that the chart's console Role grants, and actions that run with the caller's
forwarded token only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from kubernetes import client as k8s
from kubernetes import config

from digitalhub_runtime_python.backends.kubernetes import KubernetesBackend
from digitalhub_runtime_python.console.settings import ConsoleSettings
from digitalhub_runtime_python.models.function import Function
from digitalhub_runtime_python.models.project import Project
from digitalhub_runtime_python.models.run import KubernetesInfo, Run, RunSpec
from digitalhub_runtime_python.models.states import State
from digitalhub_runtime_python.models.task import Task, TaskSpec
from digitalhub_runtime_python.settings import Settings
from digitalhub_runtime_python.stores.changes import Change
from digitalhub_runtime_python.stores.kubernetes import KubernetesStore
from tests.helm_chart import RELEASE_NAMESPACE, render
from tests.integration.console.conftest import ConsoleServer
from tests.kube import rbac
from tests.unit.test_change_feed import Follower
from tests.waiting import wait_for

pytestmark = pytest.mark.integration
CONSOLE_TOKEN, CALLER_TOKEN = "console-reader", "caller"
CONSOLE_ACCOUNT = "dh-digitalhub-console"
HX = {"HX-Request": "true"}


def store_as(kube, tmp_path: Path, token: str) -> KubernetesStore:
    kubeconfig = kube.server.kubeconfig(tmp_path / f"kubeconfig-{token}", kube.namespace, token=token)
    return KubernetesStore(config.new_client_from_config(config_file=str(kubeconfig)), kube.namespace)


@pytest.fixture
def writer(kube) -> Iterator[KubernetesStore]:
    """The test's own identity, which writes what the console shows."""
    with kube.api_client() as api_client:
        yield KubernetesStore(api_client, kube.namespace)


def stored_run(store: KubernetesStore, kube) -> Run:
    """A project, a function, a task and a job run, as the SDK stores them; the run's pod has logged a line."""
    store.create(Project(name="demo"))
    function = store.create(
        Function(project="demo", name="add", spec={"code": "def add(a, b):\n    return a + b\n", "handler": "add"})
    )
    spec = TaskSpec.model_validate({"function": function.key, "action": "job"})
    task = store.create(Task(project="demo", name="add-job", kind="python+job", spec=spec))
    run_spec = RunSpec.model_validate({"task": task.key, "function": function.key, "action": "job"})
    run = store.create(Run(project="demo", name="r1", id="r1", spec=run_spec, metadata={"labels": []}))
    core = k8s.CoreV1Api(store.api_client)
    core.create_namespaced_pod(kube.namespace, {"metadata": {"name": "r1-pod"}, "spec": {"containers": []}})
    kube.emulator.pod_logs[(kube.namespace, "r1-pod")] = "hello from the pod\n"
    return store.update_run(run.key, lambda r: setattr(r.status, "kubernetes", KubernetesInfo(pods=["r1-pod"])) or r)


def test_the_store_watches_report_writes_in_order(kube, writer: KubernetesStore) -> None:
    follower = Follower(writer.changes())
    try:
        project = writer.create(Project(name="demo"))
        writer.update(project.key, lambda p: setattr(p.spec, "description", "changed") or p)
        writer.delete(project.key)
        wait_for(lambda: Change("deleted", project.key) in follower.changes, what="the deletion")
        first, *middle, last = follower.changes
        assert (first, last) == (Change("created", project.key), Change("deleted", project.key))
        assert set(middle) == {Change("updated", project.key)}  # a write may show as more than one event
    finally:
        follower.close()


def test_console_reads_with_its_own_identity_and_acts_with_the_callers(kube, writer, tmp_path: Path) -> None:
    run = stored_run(writer, kube)
    console_calls = kube.emulator.record_calls(CONSOLE_TOKEN)
    caller_calls = kube.emulator.record_calls(CALLER_TOKEN)
    backend = KubernetesBackend(
        Settings(backend="kubernetes", home=tmp_path / "home", namespace=kube.namespace),
        store=store_as(kube, tmp_path, CONSOLE_TOKEN),
    )
    settings = ConsoleSettings(actions=True, identity="forwarded")
    with ConsoleServer(backend, settings) as url, httpx.Client(base_url=url, timeout=30) as http:
        assert "demo" in http.get("/").text
        assert "add" in http.get("/projects/demo").text and "hello" not in http.get("/projects/demo").text
        assert "r1" in http.get("/projects/demo/runs/r1").text
        assert http.get("/projects/demo/runs/r1/logs.txt").text == "hello from the pod\n"
        assert "def add" in http.get("/projects/demo/functions/add").text
        assert http.get("/projects/demo/runs/nope").status_code == 404

        # Live: a change made elsewhere reaches an open page through the console's watch.
        with http.stream("GET", "/projects/demo/events") as events:
            lines = events.iter_lines()
            assert wait_for(lambda: next(lines) == "event: runs", what="the first table")
            writer.transition(run.key, State.READY, "picked up")
            assert wait_for(lambda: next(lines) == "event: run-r1", what="the changed row")
            assert "READY" in next(line for line in lines if "state-" in line)

        # Actions: refused without the caller's token; with it, done as the caller.
        refused = http.post("/projects/demo/runs/r1/stop", headers=HX)
        assert refused.status_code == 401 and "Authorization: Bearer" in refused.text
        stopped = http.post("/projects/demo/runs/r1/stop", headers={**HX, "Authorization": f"Bearer {CALLER_TOKEN}"})
        assert stopped.status_code == 200 and "stop: the run is STOPPED" in stopped.text
    assert writer.get_run(run.key).status.state == State.STOPPED

    own = [p for p in map(rbac.permission, console_calls) if p is not None]
    caller = [p for p in map(rbac.permission, caller_calls) if p is not None]
    assert {p.verb for p in own} <= {"get", "list", "watch"} and ("runs", "watch") in {
        (p.resource, p.verb) for p in own
    }
    assert ("runs/status", "update") in {(p.resource, p.verb) for p in caller}
    values = {"console": {"enabled": True, "namespace": kube.namespace}}
    grants = rbac.grants_of(render(values), RELEASE_NAMESPACE, CONSOLE_ACCOUNT)
    assert rbac.refused(grants, own) == []
