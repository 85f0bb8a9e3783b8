"""Run history at scale: every listing filter and paging, on the embedded store and on Kubernetes (the emulator,
official client), the embedded store's migration and query plans, and the Kubernetes index labels."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from kubernetes import client as k8s

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.backends.kubernetes import KubernetesBackend
from digitalhub_runtime_python.models.base import Metadata, now
from digitalhub_runtime_python.models.errors import SpecError
from digitalhub_runtime_python.models.function import Function
from digitalhub_runtime_python.models.resources import GROUP, LABEL_STATE, VERSION, to_resource
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.models.states import State
from digitalhub_runtime_python.stores.base import LogRecord, Store
from digitalhub_runtime_python.stores.kubernetes import KubernetesStore
from digitalhub_runtime_python.stores.local import SCHEMA, LocalStore
from digitalhub_runtime_python.stores.query import Query
from tests.history import BASE, history, make_run

pytestmark = pytest.mark.integration


@pytest.fixture(params=["local", "kubernetes"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """Each store, empty; Kubernetes reads in chunks of 4 objects, so listings cross the API's list pages."""
    if request.param == "local":
        return LocalStore(tmp_path / "home")
    kube = request.getfixturevalue("kube")
    api = kube.api_client()
    request.addfinalizer(api.close)
    return KubernetesStore(api_client=api, namespace=kube.namespace, chunk=4)


@pytest.fixture
def seeded(store: Store) -> list[Run]:
    runs = history()
    for run in runs:
        store.create(run)
    return runs


def ids(entities) -> list[str]:
    return [entity.id for entity in entities]


def newest_first(runs: list[Run], keep) -> list[str]:
    return [run.id for run in reversed(runs) if keep(run)]


FILTERS = {
    "state": (Query(state="ERROR"), lambda r: r.status.state == "ERROR"),
    "function name": (Query(function="train"), lambda r: "/train:" in r.spec.function),
    "function key": (
        Query(function="store://p/function/python/train:v2"),
        lambda r: r.spec.function.endswith("train:v2"),
    ),
    "task": (
        Query(task="store://p/task/python+job/score-job:t-s1-job"),
        lambda r: r.spec.task.endswith("score-job:t-s1-job"),
    ),
    "action": (Query(action="serve"), lambda r: r.spec.action == "serve"),
    "since": (Query(since=BASE + timedelta(minutes=9)), lambda r: int(r.id[-3:]) >= 9),
    "until": (Query(until=BASE + timedelta(minutes=2)), lambda r: int(r.id[-3:]) < 2),
    "since and until": (
        Query(since=BASE + timedelta(minutes=3), until=BASE + timedelta(minutes=6)),
        lambda r: 3 <= int(r.id[-3:]) < 6,
    ),
    "updated": (
        Query(updated_since=BASE + timedelta(minutes=10, seconds=30)),
        lambda r: int(r.id[-3:]) >= 10,
    ),
    "labels": (Query(labels=("nightly",)), lambda r: "nightly" in r.metadata.labels),
    "two labels": (Query(labels=("nightly", "other")), lambda r: False),
    "q": (Query(q="-01"), lambda r: "-01" in r.id),
    "name": (Query(name="run-005"), lambda r: r.id == "run-005"),
    "id": (Query(id="run-007"), lambda r: r.id == "run-007"),
    "kind": (Query(kind="python+run"), lambda r: True),
    "state and function": (
        Query(state="COMPLETED", function="score"),
        lambda r: r.status.state == "COMPLETED" and "/score:" in r.spec.function,
    ),
}


@pytest.mark.parametrize("name", FILTERS)
def test_each_filter_selects_newest_first_and_counts(store: Store, seeded: list[Run], name: str) -> None:
    query, keep = FILTERS[name]
    expected = newest_first(seeded, keep)
    assert ids(store.scan(Run, "p", query)) == expected
    assert store.count(Run, "p", query) == len(expected)
    assert ids(store.scan(Run, "p", query, order="oldest")) == expected[::-1]
    assert ids(store.scan(Run, "other", query)) == []  # another project's listing


def test_pages_follow_each_other_in_both_orders(store: Store, seeded: list[Run]) -> None:
    for order, expected in (("newest", newest_first(seeded, bool)), ("oldest", [r.id for r in seeded])):
        pages, after = [], None
        while True:
            page = store.page(Run, "p", Query(), limit=5, order=order, after=after)
            pages.append(ids(page))
            if page.continuation is None:
                break
            after = page.continuation
        assert pages == [expected[:5], expected[5:10], expected[10:]]
    completed = store.page(Run, "p", Query(state="COMPLETED"), limit=2)
    rest = store.page(Run, "p", Query(state="COMPLETED"), limit=10, after=completed.continuation)
    assert ids(completed) + ids(rest) == newest_first(seeded, lambda r: r.status.state == "COMPLETED")
    assert rest.continuation is None
    exact = store.page(Run, "p", Query(), limit=12)
    assert len(exact) == 12 and exact.continuation is None  # nothing follows: no empty last page
    with pytest.raises(SpecError, match="continuation: not a continuation of this listing"):
        store.page(Run, "p", Query(state="ERROR"), limit=2, after=completed.continuation)
    with pytest.raises(SpecError, match="continuation"):
        store.page(Run, "p", Query(), limit=2, after="garbage")
    with pytest.raises(SpecError, match="order: 'sideways': use one of newest, oldest"):
        store.page(Run, "p", Query(), limit=2, order="sideways")  # type: ignore[arg-type]


def test_pages_hold_while_runs_come_and_go(store: Store, seeded: list[Run]) -> None:
    first = store.page(Run, "p", Query(), limit=4)
    store.create(make_run(50, created=BASE + timedelta(hours=5)))  # newer than every page: not in the next ones
    store.delete(first[-1].key)  # the run the continuation points after is gone: the next page still follows it
    store.delete(seeded[6].key)  # one of the next page goes
    second = store.page(Run, "p", Query(), limit=4, after=first.continuation)
    assert ids(second) == ["run-007", "run-005", "run-004", "run-003"]


def test_latest_versions_filter_and_page(store: Store) -> None:
    for number, name in enumerate(["a", "b", "a", "c", "b", "a"]):
        created = BASE + timedelta(minutes=number)
        store.create(
            Function(
                project="p",
                name=name,
                id=f"{name}{number}",
                metadata=Metadata(created=created, updated=created),
                spec={"code": f"x = {number}", "handler": "f"},
            )
        )
    assert ids(store.scan(Function, "p", Query(latest=True))) == ["a5", "b4", "c3"]
    assert ids(store.scan(Function, "p", Query(latest=True, since=BASE + timedelta(minutes=4)))) == ["a5", "b4"]
    first = store.page(Function, "p", Query(latest=True), limit=2)
    assert ids(first) + ids(store.page(Function, "p", Query(latest=True), limit=2, after=first.continuation)) == [
        "a5",
        "b4",
        "c3",
    ]
    assert ids(store.scan(Function, "p", Query(name="a"))) == ["a5", "a2", "a0"]
    assert store.count(Function, "p", Query(latest=True)) == 3


def test_query_refuses_unknown_values_by_name() -> None:
    with pytest.raises(SpecError, match="state: 'DONE': use one of CREATED, READY, RUNNING, COMPLETED"):
        Query(state="DONE")
    with pytest.raises(SpecError, match="action: 'train': use one of job, serve, build"):
        Query(action="train")
    with pytest.raises(SpecError, match="since: .*give a datetime with a time zone"):
        Query(since=datetime(2025, 1, 1))


# -- the embedded store


def old_store(home: Path, runs: list[Run]) -> Path:
    """A store file as the version before the listing columns wrote it (schema version 0)."""
    home.mkdir(parents=True)
    path = home / "store.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA)
        db.executemany(
            "INSERT INTO entities (key, project, type, name, id, document) VALUES (?, ?, ?, ?, ?, ?)",
            [(r.key, r.project, "run", r.name, r.id, r.model_dump_json()) for r in runs],
        )
        db.execute(
            "INSERT INTO entities (key, project, type, name, id, document) VALUES ('k', 'p', 'run', 'x', 'x', '{')"
        )
    return path


def test_an_old_store_file_is_migrated_once_and_lists_with_filters(tmp_path: Path) -> None:
    runs = history()
    path = old_store(tmp_path / "home", runs)
    store = LocalStore(tmp_path / "home")
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (1,)
        indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert {"entities_created", "entities_state", "entities_function", "entities_action"} <= indexes
        db.execute("UPDATE entities SET state='tampered' WHERE name='run-000'")
    assert ids(store.scan(Run, "p", Query(state="ERROR"))) == newest_first(runs, lambda r: r.status.state == "ERROR")
    assert ids(store.scan(Run, "p", Query(function="score"), order="oldest"))[:2] == ["run-002", "run-005"]
    # the damaged document kept empty columns: it lists last and no filter selects it
    assert store.count(Run, "p", Query()) == 13 and store.count(Run, "p", Query(kind="python+run")) == 12
    store.close()
    LocalStore(tmp_path / "home").close()  # opened again: no second backfill (it would undo the tampering)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT state FROM entities WHERE name='run-000'").fetchone() == ("tampered",)


def test_filtered_pages_use_the_indexes_and_parse_only_the_page(tmp_path: Path, monkeypatch) -> None:
    from digitalhub_runtime_python.stores import local_query
    from digitalhub_runtime_python.stores.query import Listing

    store = LocalStore(tmp_path / "home")
    for run in history():
        store.create(run)
    for query, index in (
        (Query(), "entities_created"),
        (Query(state="ERROR"), "entities_state"),
        (Query(function="train"), "entities_function"),
        (Query(action="serve"), "entities_action"),
    ):
        listing = Listing("run", "p", query)
        second_page = listing.start(store.page(Run, "p", query, limit=1).continuation)
        sql, args = local_query.page_sql(listing, second_page, 50)
        plan = " ".join(row[-1] for row in store._connection().execute(f"EXPLAIN QUERY PLAN {sql}", args))
        assert f"USING INDEX {index}" in plan and "TEMP B-TREE" not in plan, plan  # no sort, no table scan
    parsed = []
    original = Run.model_validate_json
    monkeypatch.setattr(Run, "model_validate_json", lambda doc: parsed.append(1) or original(doc))
    assert len(store.page(Run, "p", Query(), limit=3)) == 3 and len(parsed) == 3


def test_updates_keep_the_state_column_in_step(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "home")
    run = store.create(make_run(1, state=State.CREATED))
    store.transition(run.key, State.READY)
    assert ids(store.scan(Run, "p", Query(state="READY"))) == [run.id]
    assert store.count(Run, "p", Query(state="CREATED")) == 0


# -- Kubernetes


@pytest.fixture
def recorded(kube, tmp_path: Path):
    """A Kubernetes store whose API calls are recorded (its own token), reading in chunks of 2."""
    token = f"history-{kube.namespace}"
    calls = kube.emulator.record_calls(token)
    kubeconfig = kube.server.kubeconfig(tmp_path / "kubeconfig-recorded", kube.namespace, token=token)
    from kubernetes import config

    api = config.new_client_from_config(config_file=str(kubeconfig))
    yield KubernetesStore(api_client=api, namespace=kube.namespace, chunk=2), calls
    api.close()


def test_filters_go_to_the_api_as_label_selectors_read_in_chunks(recorded) -> None:
    store, calls = recorded
    runs = history()
    for run in runs:
        store.create(run)
    calls.clear()
    page = store.page(Run, "p", Query(state="COMPLETED", function="train", action="job"), limit=2)
    expected = newest_first(runs, lambda r: r.status.state == "COMPLETED" and r.spec.action == "job")
    assert ids(page) == [run_id for run_id in expected if run_id not in ("run-002", "run-008")][:2]
    lists = [call.params for call in calls if call.method == "GET" and call.path.endswith("/runs")]
    selected = lists[0]["labelSelector"].split(",")
    for label in ("digitalhub.io/project=p", "digitalhub.io/state=COMPLETED", "digitalhub.io/function=train"):
        assert label in selected
    assert "digitalhub.io/action=job" in selected
    assert all(params["limit"] == "2" for params in lists)
    assert any("continue" in params for params in lists)  # more than a chunk matched: the next chunk was asked for
    assert lists[-1]["labelSelector"] == f"!{LABEL_STATE}"  # CRs without index labels are looked at too


def test_state_label_follows_every_status_write(recorded, kube) -> None:
    store, _ = recorded
    run = store.create(make_run(1, state=State.CREATED))
    store.transition(run.key, State.READY)
    store.transition(run.key, State.RUNNING, process=None)
    store.update_run(run.key, lambda r: r)  # nothing changed: nothing written
    store.transition(run.key, State.COMPLETED, results={"output_0": 1})
    with kube.api_client() as api:
        obj = k8s.CustomObjectsApi(api).get_namespaced_custom_object(GROUP, VERSION, kube.namespace, "runs", run.id)
    labels = obj["metadata"]["labels"]
    assert labels[LABEL_STATE] == "COMPLETED" and labels["digitalhub.io/function"] == "train"
    assert labels["digitalhub.io/function-id"] == "v1" and labels["digitalhub.io/action"] == "job"
    assert ids(store.scan(Run, "p", Query(state="COMPLETED"))) == [run.id]
    assert ids(store.scan(Run, "p", Query(state="RUNNING"))) == []


def test_resources_without_index_labels_are_still_selected(recorded, kube) -> None:
    store, _ = recorded
    labelled = store.create(make_run(1, state=State.ERROR))
    body = to_resource(make_run(2, state=State.ERROR), kube.namespace)
    status = body.pop("status")
    body["metadata"]["labels"] = {"digitalhub.io/project": "p", "digitalhub.io/name": "run-002"}  # as before
    with kube.api_client() as api:
        custom = k8s.CustomObjectsApi(api)
        custom.create_namespaced_custom_object(GROUP, VERSION, kube.namespace, "runs", body)
        custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, kube.namespace, "runs", "run-002", {"status": status}
        )
    assert ids(store.scan(Run, "p", Query(state="ERROR"))) == ["run-002", labelled.id]
    assert ids(store.scan(Run, "p", Query(state="COMPLETED"))) == []

    def add_result(run: Run) -> Run:
        run.status.results["seen"] = True
        return run

    store.update_run("store://p/run/python+run/run-002:run-002", add_result)  # a status write labels it
    with kube.api_client() as api:
        obj = k8s.CustomObjectsApi(api).get_namespaced_custom_object(GROUP, VERSION, kube.namespace, "runs", "run-002")
    assert obj["metadata"]["labels"][LABEL_STATE] == "ERROR" and obj["metadata"]["labels"]["digitalhub.io/id"]


def test_continuations_do_not_cross_stores_or_projects(store: Store, seeded: list[Run]) -> None:
    page = store.page(Run, "p", Query(), limit=3)
    with pytest.raises(SpecError, match="continuation"):
        store.page(Run, "other", Query(), limit=3, after=page.continuation)
    with pytest.raises(SpecError, match="continuation"):
        store.page(Function, "p", Query(), limit=3, after=page.continuation)


def test_prune_on_kubernetes_deletes_resources_and_the_logs_of_runs_executed_here(kube, tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITALHUB_HOME", str(tmp_path / "home"))
    project = dh.get_or_create_project("p", backend="kubernetes")
    backend = project.backend
    assert isinstance(backend, KubernetesBackend)
    here, remote = make_run(1), make_run(2)
    here.spec.local_execution = True
    fresh = make_run(3, created=now())
    fresh.spec.local_execution = True
    for run in (here, remote, fresh):
        backend.store.create(run)
        backend.local_logs.append_logs(run.key, [LogRecord(now(), "stdout", "hello\n")])
    plan = project.prune_runs(older_than="30d")
    assert plan.runs == [remote.key, here.key] and not plan.deleted
    plan.delete()
    assert ids(project.list_runs()) == [fresh.id]
    assert backend.local_logs.read_logs(here.key) == []  # the output of the run executed here went with it
    assert backend.local_logs.read_logs(fresh.key)[0].text == "hello\n"
