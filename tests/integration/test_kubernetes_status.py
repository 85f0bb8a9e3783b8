"""What the Kubernetes store writes into a Run's status for cluster users: conditions with observedGeneration (what
``kubectl wait --for=condition=X`` reads), and the log tail that keeps ``run.logs()`` working after the pods."""

from __future__ import annotations

import jsonschema
import pytest
from kubernetes import client as k8s

from digitalhub_runtime_python import State, get_or_create_project
from digitalhub_runtime_python.models.crds import build_crds, json_schema
from digitalhub_runtime_python.models.resources import GROUP, VERSION
from digitalhub_runtime_python.models.run import KubernetesInfo, LogTail, Run
from digitalhub_runtime_python.stores.kubernetes import KubernetesStore

pytestmark = pytest.mark.integration

CODE = "def double(x):\n    return 2 * x\n"
RUN_SCHEMA = json_schema(
    next(c for c in build_crds() if c["spec"]["names"]["kind"] == "Run")["spec"]["versions"][0]["schema"][
        "openAPIV3Schema"
    ]
)


@pytest.fixture
def store(kube) -> KubernetesStore:
    return KubernetesStore(namespace=kube.namespace)  # the kubeconfig the kube fixture points KUBECONFIG at


@pytest.fixture
def run(kube) -> Run:
    project = get_or_create_project("demo", backend="kubernetes")
    return project.new_function("double_it", code=CODE, handler="double").run("job").entity


def run_cr(kube, run: Run) -> dict:
    with kube.api_client() as api:
        return k8s.CustomObjectsApi(api).get_namespaced_custom_object(GROUP, VERSION, kube.namespace, "runs", run.id)


def condition(cr: dict, kind: str) -> dict:
    return next(c for c in cr["status"]["conditions"] if c["type"] == kind)


def test_every_status_write_carries_conditions_for_the_current_generation(kube, store, run):
    created = run_cr(kube, run)
    generation = created["metadata"]["generation"]
    assert created["status"]["observedGeneration"] == generation
    assert {c["type"]: c["status"] for c in created["status"]["conditions"]} == {
        "Ready": "False",
        "Completed": "False",
        "Failed": "False",
        "Stopped": "False",
        "Finished": "False",
    }
    for state in (State.READY, State.RUNNING, State.COMPLETED):
        store.transition(run.key, state, f"now {state.value}")
    done = run_cr(kube, run)
    jsonschema.Draft4Validator(RUN_SCHEMA).validate(done)
    completed = condition(done, "Completed")
    assert (completed["status"], completed["reason"], completed["message"]) == ("True", "Completed", "now COMPLETED")
    assert completed["observedGeneration"] == done["metadata"]["generation"] == done["status"]["observedGeneration"]
    assert condition(done, "Ready")["status"] == "False"


def _with_tail(pod: str, text: str) -> KubernetesInfo:
    return KubernetesInfo(job="run-gone", pods=[pod], log_tail=LogTail(pod=pod, text=text, truncated=True))


def test_logs_fall_back_to_the_tail_kept_on_the_run_once_the_pod_is_gone(kube, store, run):
    def keep_tail(entity: Run) -> Run:
        entity.status.kubernetes = _with_tail("run-gone-x1", "last line\n")
        return entity

    store.update_run(run.key, keep_tail)
    [record] = store.read_logs(run.key)
    assert record.text == "[earlier lines of pod run-gone-x1 were not kept]\nlast line\n"


def test_a_live_pod_s_own_log_wins_over_its_tail(kube, store, run):
    pod = "run-live-x1"
    with kube.api_client() as api:
        k8s.CoreV1Api(api).create_namespaced_pod(
            kube.namespace,
            {"metadata": {"name": pod}, "spec": {"containers": [{"name": "runtime", "image": "python"}]}},
        )
    kube.emulator.pod_logs[(kube.namespace, pod)] = "the whole log\nlast line\n"

    def keep_tail(entity: Run) -> Run:
        entity.status.kubernetes = _with_tail(pod, "last line\n")
        return entity

    store.update_run(run.key, keep_tail)
    assert [record.text for record in store.read_logs(run.key)] == ["the whole log\nlast line\n"]
