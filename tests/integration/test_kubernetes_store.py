"""The Kubernetes store and the SDK on the kubernetes backend, against the emulator with the official client."""

from __future__ import annotations

import re
import threading
import time

import jsonschema
import pytest
from kubernetes import client as k8s

from digitalhub_runtime_python import State, get_or_create_project
from digitalhub_runtime_python.models.base import Relationship
from digitalhub_runtime_python.models.crds import build_crds, json_schema
from digitalhub_runtime_python.models.errors import SpecError
from digitalhub_runtime_python.models.function import Function
from digitalhub_runtime_python.models.keys import parse_key
from digitalhub_runtime_python.models.project import Project
from digitalhub_runtime_python.models.resources import GROUP, VERSION, from_resource
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.models.states import Transition
from digitalhub_runtime_python.sources.base import SourceError
from digitalhub_runtime_python.stores.base import AlreadyExists, NotFound
from digitalhub_runtime_python.stores.kubernetes import KubernetesStore
from tests.waiting import wait_for

pytestmark = pytest.mark.integration

CODE = "def double(x):\n    return 2 * x\n"


@pytest.fixture
def api(kube):
    with kube.api_client() as api_client:
        yield api_client


@pytest.fixture
def store(kube, api):
    return KubernetesStore(api_client=api, namespace=kube.namespace)


@pytest.fixture
def project(kube):
    return get_or_create_project("demo", backend="kubernetes")


def crs(api, kube, plural: str) -> list[dict]:
    return k8s.CustomObjectsApi(api).list_namespaced_custom_object(GROUP, VERSION, kube.namespace, plural)["items"]


def assert_valid(obj: dict) -> None:
    crd = next(c for c in build_crds() if c["spec"]["names"]["kind"] == obj["kind"])
    schema = json_schema(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
    jsonschema.Draft4Validator(schema).validate(obj)


def set_state(api, kube, run_name: str, *states: State, **status) -> None:
    """Write a run's status with the official client, as the operator or the pod would."""
    custom = k8s.CustomObjectsApi(api)
    obj = custom.get_namespaced_custom_object(GROUP, VERSION, kube.namespace, "runs", run_name)
    transitions = obj["status"]["transitions"] + [Transition(state=s).model_dump(mode="json") for s in states]
    patch = {"status": {"state": states[-1].value, "transitions": transitions, **status}}
    custom.patch_namespaced_custom_object_status(GROUP, VERSION, kube.namespace, "runs", run_name, patch)


def test_versions_latest_and_list(store):
    first = store.create(Function(project="p", name="my_fn", spec={"code": "x = 1", "handler": "f"}))
    second = store.create(Function(project="p", name="my_fn", spec={"code": "x = 2", "handler": "f"}))
    other = store.create(Function(project="p", name="other", spec={"code": "x = 3", "handler": "f"}))
    store.create(Function(project="q", name="my_fn", spec={"code": "x = 4", "handler": "f"}))
    assert store.get(Function, "p", "my_fn") == second
    assert store.get(Function, "p", "my_fn", first.id) == first
    assert store.get_key(first.key) == first
    assert [f.id for f in store.list(Function, "p")] == [other.id, second.id]
    assert [f.id for f in store.list(Function, "p", name="my_fn", all_versions=True)] == [second.id, first.id]
    with pytest.raises(AlreadyExists):
        store.create(first)
    with pytest.raises(NotFound):
        store.get(Function, "p", "missing")
    with pytest.raises(NotFound):
        store.get(Function, "q", "my_fn", first.id)  # that version belongs to project p
    store.delete(second.key)
    assert store.get(Function, "p", "my_fn") == first


def test_sdk_run_creates_task_and_run_resources_valid_against_their_crds(project, api, kube):
    fn = project.new_function("double_it", code=CODE, handler="double")
    run = fn.run("job", parameters={"x": 21}, resources={"cpu": "250m"}, envs={"MODE": "test"})
    assert run.status.state == State.CREATED and not run.spec.local_execution
    (task_obj,) = crs(api, kube, "tasks")
    (run_obj,) = crs(api, kube, "runs")
    for obj in (*crs(api, kube, "projects"), *crs(api, kube, "functions"), task_obj, run_obj):
        assert_valid(obj)
    assert run_obj["metadata"]["name"] == run.id
    assert run_obj["spec"]["function"] == fn.key and run_obj["spec"]["task"] == run.spec.task
    assert run_obj["status"]["state"] == "CREATED" and task_obj["spec"]["resources"]["cpu"] == {"requests": "250m"}
    assert project.get_run(run.id).key == run.key


def watches(kube, plural: str, name: str) -> int:
    """How many times the emulator was asked to watch object ``name`` of ``plural`` in this test's namespace."""
    return sum(
        request.action == "WATCH"
        and request.resource is not None
        and request.resource.plural == plural
        and request.namespace == kube.namespace
        and request.params.get("fieldSelector") == f"metadata.name={name}"
        for request in list(kube.emulator)
    )


def test_wait_returns_on_the_event_when_another_client_completes_the_run(project, api, kube):
    run = project.new_function("double_it", code=CODE, handler="double").run("job")
    before = watches(kube, "runs", run.id)
    waiter = threading.Thread(target=run.wait, kwargs={"timeout": 300}, daemon=True)
    waiter.start()
    wait_for(lambda: watches(kube, "runs", run.id) > before, what="wait() to watch the run")
    set_state(api, kube, run.id, State.READY)
    set_state(api, kube, run.id, State.RUNNING, State.COMPLETED, results={"output_0": 42})
    # The update arrives as a watch event at once; had wait() missed it, it would go on watching for 300 s.
    waiter.join(60)
    assert not waiter.is_alive(), "wait() did not return on the update of the run"
    assert run.status.state == State.COMPLETED and run.results() == {"output_0": 42}
    assert [t.state for t in run.status.transitions] == ["CREATED", "READY", "RUNNING", "COMPLETED"]


def test_wait_times_out(project):
    run = project.new_function("double_it", code=CODE, handler="double").run("job")
    began = time.monotonic()
    with pytest.raises(TimeoutError, match=re.escape(run.key)):
        run.wait(timeout=1)
    assert time.monotonic() - began >= 1  # it gave the run the whole second (a lower bound: load cannot break it)
    assert run.refresh().status.state == State.CREATED


def test_concurrent_updates_retry_on_conflicts(store):
    run = store.create(
        Run(
            project="p",
            name="r1",
            id="r1",
            spec={
                "task": "store://p/task/python+job/t:1",
                "function": "store://p/function/python/f:1",
                "action": "job",
            },
        )
    )

    def writer(prefix: str) -> None:
        for i in range(8):

            def add(entity, key=f"{prefix}{i}", i=i):
                entity.status.results[key] = i
                return entity

            store.update(run.key, add)

    threads = [threading.Thread(target=writer, args=(prefix,)) for prefix in "abc"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(store.get_key(run.key).status.results) == sorted(f"{p}{i}" for p in "abc" for i in range(8))


def test_stop_moves_the_run_to_stopped_once(project, api, kube):
    running = project.new_function("double_it", code=CODE, handler="double").run("job")
    set_state(api, kube, running.id, State.READY)
    assert running.stop().status.state == State.STOPPED
    first = running.entity.model_copy(deep=True)
    assert running.stop().status.state == State.STOPPED
    assert [t.state for t in running.status.transitions] == ["CREATED", "READY", "STOPPED"]
    assert running.status == first.status and running.entity.metadata.updated == first.metadata.updated
    finished = project.get_function("double_it").run("job")
    set_state(api, kube, finished.id, State.READY, State.RUNNING, State.COMPLETED)
    assert finished.stop().status.state == State.COMPLETED


def test_logs_come_from_the_runs_pods(project, api, kube):
    run = project.new_function("double_it", code=CODE, handler="double").run("job")
    core = k8s.CoreV1Api(api)
    for pod, workload in (("run-a-1", f"run-{run.id}"), ("other", "run-other")):
        core.create_namespaced_pod(
            kube.namespace,
            {
                "metadata": {"name": pod, "labels": {"digitalhub.io/run": workload}},
                "spec": {"containers": [{"name": "runtime", "image": "python"}]},
            },
        )
        kube.emulator.pod_logs[(kube.namespace, pod)] = f"hello from {pod}\n"
    assert run.logs() == ""
    set_state(api, kube, run.id, State.READY, kubernetes={"job": f"run-{run.id}", "pods": []})
    assert run.logs() == "hello from run-a-1\n"


def test_hand_written_run_resolves_function_and_task_by_name(project, store, api, kube):
    fn = project.new_function("double_it", code=CODE, handler="double")
    sdk_run = fn.run("job")
    task = store.get_key(sdk_run.spec.task)
    newer = project.new_function("double_it", code=CODE.replace("2 *", "3 *"), handler="double")
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Run",
        "metadata": {"name": "nightly", "labels": {"digitalhub.io/project": "demo"}},
        "spec": {"function": "double_it", "task": task.name, "action": "job", "parameters": {"x": 1}},
    }
    created = k8s.CustomObjectsApi(api).create_namespaced_custom_object(GROUP, VERSION, kube.namespace, "runs", body)
    run = from_resource(Run, created)
    assert run.key == "store://demo/run/python+run/nightly:nightly"
    assert store.get_key(run.spec.function) == newer.entity
    assert store.get_key(run.spec.task).id == task.id
    assert sorted(r.name for r in project.list_runs()) == sorted(["nightly", sdk_run.name])


def test_unlabeled_resources_belong_to_the_namespace_project(store, api, kube):
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Function",
        "metadata": {"name": "hand-made"},
        "spec": {"code": CODE, "handler": "double"},
    }
    k8s.CustomObjectsApi(api).create_namespaced_custom_object(GROUP, VERSION, kube.namespace, "functions", body)
    function = store.get(Function, kube.namespace, "hand-made")
    assert function.key == f"store://{kube.namespace}/function/python/hand-made:hand-made"
    assert [f.name for f in store.list(Function, kube.namespace)] == ["hand-made"]
    assert store.list(Function, "demo") == []


def test_local_code_needs_an_artifact_store(project, tmp_path):
    (tmp_path / "main.py").write_text(CODE)
    fn = project.new_function("local_code", code_src=str(tmp_path / "main.py"), handler="double")
    with pytest.raises(SourceError, match="artifact_store"):
        fn.run("job")
    assert parse_key(fn.key).name == "local_code"


def test_project_is_a_resource_in_the_namespace(project, store):
    assert store.get(Project, "demo", "demo").spec == project.spec
    assert get_or_create_project("demo", backend="kubernetes").id == project.id


def test_files_need_shared_storage_on_this_backend(project, tmp_path):
    (tmp_path / "data.csv").write_text("a\n1\n")
    with pytest.raises(SpecError, match="spec.artifact_store"):
        project.log_artifact("data", source=tmp_path / "data.csv")


def test_hand_written_function_with_a_project_label_is_its_latest_version(store, api, kube):
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Function",
        "metadata": {"name": "train", "labels": {"digitalhub.io/project": "demo"}},
        "spec": {"code": CODE, "handler": "double"},
    }
    k8s.CustomObjectsApi(api).create_namespaced_custom_object(GROUP, VERSION, kube.namespace, "functions", body)
    assert store.get(Function, "demo", "train").key == "store://demo/function/python/train:train"
    assert store.list(Function, kube.namespace) == []


def test_updates_keep_finalizers_owners_and_foreign_annotations(store, api, kube):
    run = store.create(
        Run(
            project="p",
            name="r2",
            id="r2",
            spec={
                "task": "store://p/task/python+job/t:1",
                "function": "store://p/function/python/f:1",
                "action": "job",
            },
        )
    )
    custom = k8s.CustomObjectsApi(api)
    custom.patch_namespaced_custom_object(
        GROUP,
        VERSION,
        kube.namespace,
        "runs",
        "r2",
        {
            "metadata": {
                "finalizers": ["kopf.zalando.org/KopfFinalizerMarker"],
                "annotations": {"kopf.zalando.org/last-handled": "{}"},
                "labels": {"team": "a"},
            }
        },
    )

    def relate(entity):
        entity.metadata.relationships.append(Relationship(type="consumes", dest="store://p/dataitem/table/d:1"))
        entity.status.message = "related"
        return entity

    updated = store.update(run.key, relate)
    assert updated.metadata.relationships and updated.status.message == "related"
    meta = custom.get_namespaced_custom_object(GROUP, VERSION, kube.namespace, "runs", "r2")["metadata"]
    assert meta["finalizers"] == ["kopf.zalando.org/KopfFinalizerMarker"]
    assert meta["annotations"]["kopf.zalando.org/last-handled"] == "{}" and meta["labels"]["team"] == "a"
    assert meta["labels"]["digitalhub.io/id"] == "r2"
