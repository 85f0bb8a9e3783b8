"""DigitalHub's module-level SDK and Project methods on the embedded store: projects, functions, tasks, runs and
data entities created, found by name, key or id, listed, updated, imported, loaded and deleted (with cascade);
DigitalHub arguments that mean nothing here refused by name."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.cli import main
from digitalhub_runtime_python.models.states import State
from digitalhub_runtime_python.stores.base import AlreadyExists, NotFound

CODE = "def f(x=1):\n    return x\n"
UUID = "3f2c1d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"


def iso(moment: datetime) -> str:
    return moment.isoformat()


# Projects


def test_project_lifecycle(home: Path, tmp_path: Path) -> None:
    created = dh.new_project("alpha", description="first", labels=["team-a"], source=str(tmp_path / "ctx"))
    assert created.spec.description == "first" and created.metadata.labels == ["team-a"]
    assert created.spec.source == str(tmp_path / "ctx")
    with pytest.raises(AlreadyExists):
        dh.new_project("alpha")
    assert dh.get_or_create_project("alpha").id == created.id
    dh.get_or_create_project("beta", "second", ["team-b"], context=str(tmp_path))
    assert [p.name for p in dh.list_projects()] == ["beta", "alpha"]

    alpha = dh.get_project("alpha")
    alpha.spec.description = "renamed"
    alpha.metadata.labels.append("reviewed")
    dh.update_project(alpha)
    assert dh.get_project("alpha").spec.description == "renamed"
    assert dh.get_project("alpha").metadata.labels == ["team-a", "reviewed"]

    dh.delete_project("beta")
    with pytest.raises(NotFound):
        dh.get_project("beta")


def test_delete_project_cascades_to_runs_and_files(home: Path, write) -> None:
    project = dh.new_project("doomed")
    run = project.new_function("f", code=CODE, handler="f").run(parameters={"x": 2})
    artifact = project.log_artifact("report", source=write("r.txt", "hello"))
    stored = Path(artifact.as_file()[0])
    assert run.status.state == State.COMPLETED and stored.exists()
    with pytest.raises(dh.SpecError, match="cascade: project 'doomed' still holds entities"):
        dh.delete_project("doomed", cascade=False)
    files = Path(artifact.spec.path.removeprefix("file://"))
    assert files.exists()
    dh.delete_project("doomed", cascade=True, clean_context=True)
    assert not files.exists()
    with pytest.raises(NotFound):
        dh.get_run(run.key)
    with pytest.raises(NotFound):
        dh.get_project("doomed")


def test_arguments_with_no_meaning_here_are_refused_by_name(home: Path, project: dh.Project) -> None:
    fn = project.new_function("f", code=CODE, handler="f")
    cases = [
        ("config", lambda: dh.new_project("x", config={"endpoint": "http://core"})),
        ("setup_kwargs", lambda: dh.get_project("demo", setup_kwargs={"a": 1})),
        ("profile", lambda: fn.run(profile="1xa100")),
        ("extensions", lambda: fn.run(extensions=[{"kind": "x"}])),
        ("share", lambda: project.share("alice")),
        ("user", lambda: project.list_functions(user="alice")),
        ("workflow", lambda: project.new_task("python+job", function="f", workflow="wf")),
        ("sql", lambda: project.log_table("t", sql="select 1")),
        ("extensions", lambda: project.new_artifact("a", path="/tmp/x", extensions=[{}])),
        ("engine", lambda: project.log_table("t", data=pd.DataFrame({"a": [1]}), engine="polars")),
        ("workflow", lambda: project.run(workflow="pipeline")),
    ]
    for argument, call in cases:
        with pytest.raises(dh.SpecError) as caught:
            call()
        assert caught.value.fields == [argument], (argument, str(caught.value))
    assert project.list_runs() == []  # nothing ran


# Functions


def test_function_metadata_parameters_are_stored_and_validated(project: dh.Project) -> None:
    fn = dh.new_function(
        project="demo",
        name="f",
        kind="python",
        uuid=UUID,
        description="doubles",
        labels=["math"],
        embedded=True,
        git_source="https://example.com/repo.git",
        code=CODE,
        handler="f",
    )
    assert fn.id == UUID and fn.key == f"store://demo/function/python/f:{UUID}"
    stored = dh.get_function(fn.key)
    assert stored.metadata.description == "doubles" and stored.metadata.labels == ["math"]
    assert stored.metadata.embedded is True and stored.metadata.git_source == "https://example.com/repo.git"
    assert stored.to_dict()["metadata"]["git_source"] == "https://example.com/repo.git"
    described = CliRunner().invoke(main, ["describe", fn.key, "-o", "json"], catch_exceptions=False)
    shown = json.loads(described.output)["metadata"]
    assert shown["embedded"] is True and shown["git_source"] == "https://example.com/repo.git"
    assert shown["description"] == "doubles" and shown["labels"] == ["math"]
    with pytest.raises(AlreadyExists):
        dh.new_function(project="demo", name="f", uuid=UUID, code="def f():\n    return 2\n", handler="f")
    with pytest.raises(dh.SpecError) as caught:
        dh.new_function(project="demo", name="g", uuid="Not An Id!", code=CODE, handler="f")
    assert caught.value.fields == ["uuid"] and "not a valid id" in str(caught.value)
    with pytest.raises(dh.SpecError, match="kind"):
        dh.new_function(project="demo", name="g", kind="container", code=CODE, handler="f")


def test_functions_by_name_key_and_id_versions_and_filters(project: dh.Project) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    v1 = dh.new_function("demo", "f", code=CODE, handler="f")
    v2 = dh.new_function("demo", "f", code="def f(x=1):\n    return 2 * x\n", handler="f")
    other = project.new_function("other", code=CODE, handler="f", labels=["x"])
    assert dh.get_function("f", project="demo").id == v2.id
    assert dh.get_function("f", project="demo", entity_id=v1.id).id == v1.id
    assert dh.get_function(v1.key).id == v1.id
    assert project.get_function(v1.key).id == v1.id
    assert [f.id for f in dh.get_function_versions("f", project="demo")] == [v2.id, v1.id]
    assert [f.id for f in project.get_function_versions(v2.key)] == [v2.id, v1.id]
    with pytest.raises(dh.SpecError, match="project: 'f' is a name: give project= too"):
        dh.get_function("f")
    with pytest.raises(NotFound, match="is a dataitem key, not a function key"):
        project.get_function("store://demo/dataitem/table/x")

    assert [f.id for f in dh.list_functions("demo")] == [other.id, v2.id]
    assert [f.id for f in dh.list_functions("demo", versions="all")] == [other.id, v2.id, v1.id]
    assert [f.id for f in project.list_functions(all_versions=True)] == [other.id, v2.id, v1.id]
    assert [f.name for f in dh.list_functions("demo", name="f")] == ["f"]
    assert [f.name for f in dh.list_functions("demo", q="oth")] == ["other"]
    assert [f.name for f in dh.list_functions("demo", q=v1.id[:10], versions="all")] == ["f"]
    assert len(dh.list_functions("demo", kind="python", state="CREATED")) == 2
    assert len(dh.list_functions("demo", created=iso(before))) == 2
    assert dh.list_functions("demo", created=f"{iso(before)},{iso(before + timedelta(microseconds=1))}") == []
    assert len(dh.list_functions("demo", updated=iso(before))) == 2
    with pytest.raises(dh.SpecError, match="created: 'yesterday' is not START or START,END"):
        dh.list_functions("demo", created="yesterday")
    with pytest.raises(dh.SpecError, match="versions"):
        dh.list_functions("demo", versions="some")


def test_update_function_writes_metadata_and_refuses_a_spec_change(project: dh.Project) -> None:
    fn = project.new_function("f", code=CODE, handler="f")
    fn.metadata.description = "now described"
    fn.metadata.labels = ["reviewed"]
    updated = dh.update_function(fn)
    assert updated.metadata.description == "now described"
    assert project.get_function("f").metadata.labels == ["reviewed"]
    assert project.update_function(fn).metadata.labels == ["reviewed"]
    fn.entity.spec.handler = "g"
    with pytest.raises(dh.SpecError, match="spec: .* a stored spec cannot change"):
        dh.update_function(fn)


def test_delete_function_cascades_to_tasks_and_runs(project: dh.Project) -> None:
    v1 = project.new_function("f", code=CODE, handler="f")
    run = v1.run(parameters={"x": 3})
    v2 = project.new_function("f", code="def f(x=1):\n    return -x\n", handler="f")
    with pytest.raises(dh.SpecError, match="identifier: 'f' is a name: give a key or entity_id"):
        dh.delete_function("f", project="demo")
    dh.delete_function(v1.key)
    with pytest.raises(NotFound):
        dh.get_run(run.key)
    with pytest.raises(NotFound):
        dh.get_task(run.spec.task)
    assert [f.id for f in project.get_function_versions("f")] == [v2.id]

    kept = v2.run()
    dh.delete_function("f", project="demo", entity_id=v2.id, cascade=False)
    assert dh.get_run(kept.key).status.state == State.COMPLETED  # cascade=False: the run stays
    project.new_function("f", code=CODE, handler="f")
    project.new_function("f", code="def f():\n    return 0\n", handler="f")
    project.delete_function("f", delete_all_versions=True)
    assert project.list_functions() == []


# Tasks and runs


def test_tasks_and_runs(project: dh.Project) -> None:
    fn = project.new_function("f", code=CODE, handler="f")
    task = dh.new_task("demo", "python+job", labels=["nightly"], function="f", backoff_limit=2)
    assert task.kind == "python+job" and task.spec.function == fn.key and task.spec.backoff_limit == 2
    assert dh.get_task(task.key).id == task.id
    assert dh.get_task(task.id, project="demo").id == task.id
    with pytest.raises(dh.SpecError, match="kind"):
        dh.new_task("demo", "python+dance", function="f")

    run = dh.new_run("demo", "python+run", uuid=UUID, labels=["first"], task=task.key, parameters={"x": 5})
    assert run.id == UUID and run.status.state == State.COMPLETED and run.result("output_0") == 5
    second = project.new_run(task=task.id, parameters={"x": 6}, wait=True)
    assert second.result("output_0") == 6
    with pytest.raises(dh.SpecError, match="kind"):
        dh.new_run("demo", "python+job", task=task.key)
    with pytest.raises(dh.SpecError, match="colour"):
        dh.new_run("demo", task=task.key, colour="blue")

    assert dh.get_run(run.key).id == run.id
    assert dh.get_run(UUID, project="demo").metadata.labels == ["first"]
    assert {r.id for r in dh.list_runs("demo")} == {run.id, second.id}
    assert {r.id for r in dh.list_runs("demo", function="f", action="job", state="COMPLETED")} == {run.id, second.id}
    assert {r.id for r in dh.list_runs("demo", function=fn.key, task=task.key)} == {run.id, second.id}
    assert dh.list_runs("demo", action="serve") == []
    assert [t.id for t in dh.list_tasks("demo", function="f")] == [task.id]

    run.metadata.labels = ["first", "kept"]
    assert dh.update_run(run).metadata.labels == ["first", "kept"]
    task.metadata.labels = ["weekly"]
    assert dh.update_task(task).metadata.labels == ["weekly"]

    dh.delete_run(second.key)
    with pytest.raises(NotFound):
        dh.get_run(second.key)
    dh.delete_task(task.key)  # cascade: its runs
    with pytest.raises(NotFound):
        dh.get_run(run.key)


# Data entities


def test_log_and_find_data_entities(project: dh.Project, write, tmp_path: Path) -> None:
    report = write("report.txt", "hello")
    a1 = dh.log_artifact("demo", "report", "artifact", source=str(report), description="v1", labels=["weekly"])
    a2 = project.log_artifact("report", source_path=report)  # this runtime's spelling
    assert dh.get_artifact("report", project="demo").id == a2.id
    assert dh.get_artifact(a1.key).metadata.description == "v1"
    assert [a.id for a in dh.get_artifact_versions("report", project="demo")] == [a2.id, a1.id]
    assert [a.id for a in dh.list_artifacts("demo", versions="all")] == [a2.id, a1.id]

    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    table = dh.log_dataitem("demo", "frame", "table", data=df)
    dtypes = {str(column): str(dtype) for column, dtype in df.dtypes.items()}
    assert table.spec.columns == dtypes and table.spec.rows == 3
    pd.testing.assert_frame_equal(dh.get_dataitem(table.key).as_df(), df)
    assert project.log_dataitem("frame2", df=df).spec.rows == 3  # this runtime's spelling
    csv_table = dh.log_table("demo", "csv", source=str(write("t.csv", "a,b\n1,x\n")))
    assert csv_table.spec.columns == dtypes and csv_table.spec.rows == 1
    generic = project.log_dataitem("raw", kind="dataitem", source=write("raw.bin", "0101"))
    assert generic.kind == "dataitem" and generic.spec.columns is None
    with pytest.raises(dh.SpecError, match="data: give one of data or df, not both"):
        project.log_dataitem("x", data=df, df=df)
    with pytest.raises(dh.SpecError, match="kind: .* looks like a path"):
        project.log_artifact("x", str(report))

    model = dh.log_model("demo", "clf", "sklearn", source=str(report), framework="sklearn", metrics={"f1": 0.9})
    assert model.kind == "sklearn" and model.spec.metrics == {"f1": 0.9}
    assert [m.name for m in dh.list_models("demo", kind="sklearn")] == ["clf"]
    assert dh.get_model_versions(model.key)[0].id == model.id

    registered = dh.new_dataitem("demo", "external", "table", path=str(write("ext.csv", "a\n1\n")))
    assert registered.as_df().to_dict("records") == [{"a": 1}]
    assert registered.spec.path == str(tmp_path / "ext.csv")
    with pytest.raises(dh.SpecError, match="path: give where the data is"):
        dh.new_artifact("demo", "nowhere")


def test_log_options_lists_paths_and_drop_existing(project: dh.Project, write, tmp_path: Path) -> None:
    one, two = write("in/a/one.txt", "1"), write("in/b/two.txt", "2")
    flat = project.log_artifact("pair", source=[one, two])
    assert sorted(flat.get_file_paths()) == ["one.txt", "two.txt"]
    nested = project.log_artifact("pair", source=[str(one), str(two)], keep_dir_structure=True)
    assert sorted(nested.get_file_paths()) == ["a/one.txt", "b/two.txt"]
    assert len(project.get_artifact_versions("pair")) == 2

    dropped = project.log_artifact("pair", source=one, drop_existing=True)
    assert [a.id for a in project.get_artifact_versions("pair")] == [dropped.id]

    target = tmp_path / "elsewhere" / "copy.txt"
    placed = project.log_artifact("placed", source=one, path=str(target))
    assert target.read_text() == "1" and placed.spec.path == target.resolve().as_uri()


def test_update_and_delete_data_entities(project: dh.Project, write) -> None:
    report = write("report.txt", "hello")
    artifact = project.log_artifact("report", source=report)
    artifact.metadata.labels = ["final"]
    assert dh.update_artifact(artifact).metadata.labels == ["final"]

    stored = Path(artifact.spec.path.removeprefix("file://"))
    kept = project.log_artifact("report", source=report)
    dh.delete_artifact(artifact.key, cascade=False)
    assert stored.exists()  # cascade=False: the record goes, the files stay
    dh.delete_artifact(kept.key)
    assert not Path(kept.spec.path.removeprefix("file://")).exists()

    registered = dh.new_dataitem("demo", "external", path=str(report))
    dh.delete_dataitem(registered.key)
    assert report.exists()  # data only registered by path is the user's: never deleted

    model = project.log_model("m", source=report)
    dh.delete_model("m", project="demo", delete_all_versions=True)
    assert project.list_models() == [] and not Path(model.spec.path.removeprefix("file://")).exists()


# Import, load, export


def test_import_and_load_entities(project: dh.Project, tmp_path: Path) -> None:
    dh.new_project("other")
    fn = project.new_function("f", code=CODE, handler="f", description="original")
    exported = Path(fn.export())
    assert exported == Path(f"functions-{fn.id}.yaml")  # in the project's context folder: here, the current one
    copy = dh.import_function(str(exported), context="other")
    assert copy.project == "other" and copy.id == fn.id and copy.spec == fn.spec
    with pytest.raises(AlreadyExists, match="load it to update it"):
        dh.import_function(str(exported))
    fresh = dh.import_function(key=fn.key, reset_id=True)
    assert fresh.id != fn.id and fresh.spec == fn.spec and fresh.project == "demo"
    assert project.import_function(key=fn.key).id != fn.id  # the Project method resets ids by default

    document = yaml.safe_load(exported.read_text())
    document["metadata"]["description"] = "loaded"
    exported.write_text(yaml.safe_dump(document))
    assert dh.load_function(str(exported)).metadata.description == "loaded"
    assert dh.get_function(fn.key).metadata.description == "loaded"
    document["spec"]["handler"] = "g"
    exported.write_text(yaml.safe_dump(document))
    with pytest.raises(dh.SpecError, match="versions are immutable"):
        dh.load_function(str(exported))
    with pytest.raises(dh.SpecError, match="holds function, not artifact"):
        dh.import_artifact(str(exported))

    finished = fn.run(parameters={"x": 4})
    run_file = Path(finished.export())
    dh.delete_run(finished.key)
    assert dh.import_run(str(run_file)).result("output_0") == 4
    assert dh.load_run(str(run_file)).id == finished.id


def test_project_export_and_import_round_trip(home: Path, tmp_path: Path, write, monkeypatch) -> None:
    context = tmp_path / "context"
    project = dh.new_project("proj", description="exported", source=str(context))
    v1 = project.new_function("f", code=CODE, handler="f", labels=["a"])
    v2 = project.new_function("f", code="def f(x=1):\n    return x + 1\n", handler="f", embedded=True)
    g = project.new_function("g", code_src=str(write("src/g.py", "def g():\n    return 'g'\n")), handler="g")
    artifact = project.log_artifact("report", source=write("report.txt", "hello"))

    path = Path(project.export())
    assert path == context / "projects-proj.yaml"
    document = yaml.safe_load(path.read_text())
    functions = document["spec"]["functions"]
    assert [f["id"] for f in functions] == [v1.id, v2.id, g.id]  # every version, oldest first
    assert functions[0]["metadata"] == {"embedded": False, "ref": f"functions-{v1.id}.yaml"}
    assert functions[1]["spec"]["code"] == v2.spec.code  # embedded: inline
    assert (context / f"functions-{v1.id}.yaml").is_file()

    monkeypatch.setenv("DIGITALHUB_HOME", str(tmp_path / "elsewhere"))  # a fresh store
    imported = dh.import_project(str(path))
    assert imported.spec.description == "exported"
    assert [f.id for f in imported.get_function_versions("f")] == [v2.id, v1.id]
    assert imported.get_function("f").id == v2.id  # the latest is the latest again
    for original in (v1, v2, g):
        copy = imported.get_function(original.key)
        assert copy.spec == original.spec and copy.metadata.labels == original.metadata.labels
    assert imported.get_function("f", v2.id).metadata.embedded is True
    assert imported.get_artifact("report").as_file()  # the record points at the same files
    assert imported.get_function("g").run().result("output_0") == "g"
    assert imported.get_artifact("report").id == artifact.id

    with pytest.raises(AlreadyExists, match="load_project updates it"):
        dh.import_project(str(path))
    reloaded = dh.load_project(str(path))
    assert len(reloaded.list_functions(versions="all")) == 3
    with pytest.warns(UserWarning, match="new ids"):
        dh.import_project(str(path), reset_id=True)
    assert len(reloaded.list_functions(versions="all")) == 6
