"""The SDK's listings page and filter in the store (list_runs, iter_runs, the other list_* calls), and pruning run
history: dry run, then for real (logs and lone outputs gone, every other run intact)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.models.base import now
from digitalhub_runtime_python.models.states import State
from digitalhub_runtime_python.stores.base import LogRecord
from tests.history import BASE, make_run


def seed(project: dh.Project, *runs) -> list:
    return [project.backend.store.create(run) for run in runs]


def ids(objects) -> list[str]:
    return [obj.id for obj in objects]


def test_list_runs_is_a_page_with_a_continuation(project: dh.Project) -> None:
    made = seed(project, *(make_run(n, project="demo") for n in range(7)))
    newest = [run.id for run in reversed(made)]
    everything = dh.list_runs("demo")
    assert isinstance(everything, list) and isinstance(everything, dh.Page)
    assert ids(everything) == newest and everything.continuation is None and everything.total is None
    first = dh.list_runs("demo", limit=3, count=True)
    assert ids(first) == newest[:3] and first.total == 7 and first.continuation
    second = dh.list_runs("demo", limit=3, continuation=first.continuation)
    last = project.list_runs(limit=3, continuation=second.continuation)
    assert ids(second) == newest[3:6] and ids(last) == newest[6:] and last.continuation is None
    assert ids(dh.list_runs("demo", continuation=first.continuation)) == newest[3:]  # the rest, without a limit
    assert ids(dh.list_runs("demo", limit=2, order="oldest")) == newest[::-1][:2]
    assert [type(run) for run in first] == [dh.Run] * 3
    with pytest.raises(dh.SpecError, match="limit: 0: give a positive number"):
        dh.list_runs("demo", limit=0)


def test_list_runs_filters_with_digitalhub_and_new_arguments(project: dh.Project) -> None:
    recent = now() - timedelta(minutes=30)
    made = seed(
        project,
        make_run(1, project="demo", state=State.ERROR, labels=("nightly",)),
        make_run(2, "score", "s1", project="demo"),
        make_run(3, action="serve", state=State.RUNNING, project="demo", created=recent),
        make_run(4, version="v2", project="demo", labels=("nightly", "gpu"), created=recent + timedelta(minutes=1)),
    )
    one, two, three, four = (run.id for run in made)
    assert ids(dh.list_runs("demo", state="ERROR")) == [one]
    assert ids(dh.list_runs("demo", function="train")) == [four, three, one]
    assert ids(dh.list_runs("demo", function="store://demo/function/python/train:v2")) == [four]
    assert ids(dh.list_runs("demo", action="serve")) == [three]
    assert ids(dh.list_runs("demo", task=made[1].spec.task)) == [two]
    assert ids(dh.list_runs("demo", since="2h")) == [four, three]
    assert ids(dh.list_runs("demo", since=timedelta(hours=2), until=recent + timedelta(seconds=1))) == [three]
    assert ids(dh.list_runs("demo", until=BASE + timedelta(minutes=2))) == [one]
    start, end = (BASE + timedelta(minutes=1)).isoformat(), (BASE + timedelta(minutes=3)).isoformat()
    assert ids(dh.list_runs("demo", created=f"{start},{end}")) == [two, one]  # START included, END not
    assert ids(dh.list_runs("demo", labels="nightly")) == [four, one]
    assert ids(dh.list_runs("demo", labels=["nightly", "gpu"])) == [four]
    assert ids(dh.list_runs("demo", q=four[-3:], kind="python+run")) == [four]
    assert ids(dh.list_runs("demo", state="COMPLETED", function="train", limit=1)) == [four]
    with pytest.raises(dh.SpecError, match="created: give created"):
        dh.list_runs("demo", created=start, since="1h")
    with pytest.raises(dh.SpecError, match="since: 'last week' is not a time: give how long ago"):
        dh.list_runs("demo", since="last week")
    with pytest.raises(dh.SpecError, match="state: 'FAILED': use one of"):
        dh.list_runs("demo", state="FAILED")


def test_iter_runs_reads_page_by_page(project: dh.Project, monkeypatch: pytest.MonkeyPatch) -> None:
    from digitalhub_runtime_python.entities import catalog

    made = seed(
        project, *(make_run(n, project="demo", state=State.ERROR if n % 2 else State.COMPLETED) for n in range(9))
    )
    monkeypatch.setattr(catalog, "PAGE_SIZE", 2)
    pages = []
    original = project.backend.store.page
    monkeypatch.setattr(project.backend.store, "page", lambda *a, **k: pages.append(k["limit"]) or original(*a, **k))
    found = dh.iter_runs("demo", state="ERROR")
    assert pages == []  # nothing read before the iteration starts
    assert next(found).id == made[7].id and len(pages) == 1
    assert [run.id for run in found] == [made[5].id, made[3].id, made[1].id] and pages == [
        2,
        2,
    ]  # 4 runs: no empty third page
    assert [run.id for run in dh.iter_runs("demo", order="oldest")][:2] == [made[0].id, made[1].id]


def test_other_listings_page_and_filter_too(project: dh.Project) -> None:
    first = project.new_function("a", code="def f(): pass", handler="f", labels=["x"])
    project.new_function("b", code="def f(): pass", handler="f")
    latest = project.new_function("a", code="def f(): return 1", handler="f")
    assert ids(project.list_functions(limit=1)) == [latest.id]
    page = dh.list_functions("demo", limit=1, count=True)
    assert page.total == 2 and len(dh.list_functions("demo", continuation=page.continuation)) == 1
    assert ids(dh.list_functions("demo", versions="all", labels="x")) == [first.id]
    task = first.run("job", wait=True).spec.task
    assert ids(dh.list_tasks("demo", function=first.key, limit=5)) == [task.rpartition(":")[2]]


def test_prune_dry_run_counts_and_deletes_nothing(project: dh.Project) -> None:
    old = now() - timedelta(days=40)
    seed(project, *(make_run(n, project="demo", created=old + timedelta(minutes=n)) for n in range(3)))
    plan = dh.prune_runs("demo", older_than="30d")
    assert isinstance(plan, dh.Pruning) and not plan.deleted and len(plan.runs) == 3
    assert len(dh.list_runs("demo")) == 3
    with pytest.raises(dh.SpecError, match="older_than: give older_than and/or keep_last"):
        dh.prune_runs("demo")
    with pytest.raises(dh.SpecError, match="state: 'RUNNING': only finished runs are pruned"):
        dh.prune_runs("demo", older_than="1d", state="RUNNING")


def test_prune_deletes_old_finished_runs_with_logs_keeping_the_rest(project: dh.Project, tmp_path: Path) -> None:
    store = project.backend.store
    old = now() - timedelta(days=40)
    made = seed(
        project,
        *(make_run(n, project="demo", created=old + timedelta(minutes=n)) for n in range(4)),  # old, done
        make_run(4, project="demo", state=State.ERROR, created=old + timedelta(minutes=4)),  # old, failed
        make_run(5, project="demo", state=State.RUNNING, created=old),  # old, still going: never pruned
        make_run(6, project="demo", created=old - timedelta(days=1)),  # the oldest
        make_run(7, project="demo", created=now()),  # new
    )
    for run in made:
        store.append_logs(run.key, [LogRecord(now(), "stdout", f"log of {run.id}\n")])
    plan = project.prune_runs(older_than="30d", keep_last=2, state="COMPLETED", dry_run=False)
    # COMPLETED runs, newest first: 7, 3, 2, 1, 0, 6; the newest two stay whatever their age
    pruned = [made[n] for n in (2, 1, 0, 6)]
    assert plan.deleted and plan.runs == [run.key for run in pruned]
    assert ids(dh.list_runs("demo")) == [made[n].id for n in (7, 4, 3, 5)]
    for run in pruned:
        assert store.read_logs(run.key) == []  # logs gone with their runs
    for run in (made[n] for n in (7, 4, 3, 5)):
        assert store.read_logs(run.key)[0].text == f"log of {run.id}\n"  # the others' logs intact
    project.prune_runs(older_than="30d", dry_run=False)
    assert ids(dh.list_runs("demo")) == [made[7].id, made[5].id]


def test_prune_deletes_outputs_only_pruned_runs_used(project: dh.Project, tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"weights")
    (tmp_path / "data.csv").write_text("a\n1\n")
    lone = project.log_artifact("model", source=str(tmp_path / "model.bin"))
    shared = project.log_artifact("data", source=str(tmp_path / "data.csv"))
    old = now() - timedelta(days=40)
    produced = make_run(1, project="demo", created=old)
    produced.status.outputs = {"model": lone.key, "data": shared.key}
    user = make_run(2, project="demo", created=now())
    user.spec.inputs = {"data": shared.key}
    seed(project, produced, user)
    kept_file = Path(shared.spec.path.removeprefix("file://"))
    gone_file = Path(lone.spec.path.removeprefix("file://"))
    assert project.prune_runs(older_than="30d").outputs == []  # outputs are only selected when asked for
    plan = project.prune_runs(older_than="30d", outputs=True)
    assert plan.runs == [produced.key] and plan.outputs == [lone.key]
    plan.delete()
    assert ids(project.list_artifacts()) == [shared.id] and kept_file.exists() and not gone_file.exists()
    assert ids(dh.list_runs("demo")) == [user.id]
