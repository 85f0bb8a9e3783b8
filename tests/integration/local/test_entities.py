"""Project API: versioning, data entities, download, listing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.stores.base import NotFound


def test_function_versions(project: dh.Project) -> None:
    v1 = project.new_function(name="f", code="def f(): return 1", handler="f")
    assert project.new_function(name="f", code="def f(): return 1", handler="f").id == v1.id
    v2 = project.new_function(name="f", code="def f(): return 2", handler="f")
    assert v2.id != v1.id
    assert project.get_function("f").id == v2.id
    assert project.get_function("f", v1.id).spec.code == "def f(): return 1"
    assert [f.id for f in project.list_functions(all_versions=True)] == [v2.id, v1.id]
    assert [f.id for f in project.list_functions()] == [v2.id]
    assert project.get_entity("store://demo/function/python/f:latest").id == v2.id
    assert v1.run().results() == {"output_0": 1}


def test_local_code_src_is_stored_absolute(project: dh.Project, write, tmp_path: Path) -> None:
    write("src/a.py", "def f(): return 1")
    fn = project.new_function(name="a", code_src="src/a.py", handler="f")
    assert fn.spec.code_src == str(tmp_path / "src" / "a.py")


def test_artifact_round_trip(project: dh.Project, write, tmp_path: Path) -> None:
    source = write("report.txt", "hello")
    v1 = project.log_artifact("report", source=source, description="first", labels=["weekly"])
    source.write_text("hello again")
    v2 = project.log_artifact("report", source=source)
    assert project.get_artifact("report").id == v2.id
    assert v1.metadata.labels == ["weekly"] and v1.metadata.description == "first"
    assert v1.status.files[0].size == 5
    assert v1.download(tmp_path / "out1").read_text() == "hello"
    assert v2.download(tmp_path / "out2").read_text() == "hello again"
    assert [a.id for a in project.list_artifacts(all_versions=True)] == [v2.id, v1.id]


def test_folder_artifact(project: dh.Project, write, tmp_path: Path) -> None:
    write("model/weights.bin", "0101")
    write("model/config.json", "{}")
    model = project.log_model(
        "clf", source=tmp_path / "model", framework="sklearn", parameters={"c": 1}, metrics={"f1": 0.9}
    )
    assert sorted(f.path for f in model.status.files) == ["config.json", "weights.bin"]
    target = model.download(tmp_path / "restored")
    assert (target / "weights.bin").read_text() == "0101"
    assert project.get_model("clf").spec.framework == "sklearn"


def test_dataitem_from_df_and_from_file(project: dh.Project, write) -> None:
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    item = project.log_dataitem("frame", df=df)
    pd.testing.assert_frame_equal(item.as_df(), df)
    csv = write("data.csv", "a,b\n1,x\n")
    from_file = project.log_dataitem("csv", source_path=csv)
    assert from_file.as_df().to_dict("records") == [{"a": 1, "b": "x"}]
    registered = project.new_dataitem("external", path=item.spec.path)
    pd.testing.assert_frame_equal(registered.as_df(), df)
    assert {d.name for d in project.list_dataitems()} == {"frame", "csv", "external"}


def test_bad_data_input(project: dh.Project, tmp_path: Path) -> None:
    with pytest.raises(dh.SpecError, match="source: .*nope.txt does not exist"):
        project.log_artifact("missing", source=tmp_path / "nope.txt")
    with pytest.raises(dh.SpecError, match=r"give exactly one of data \(a DataFrame; or df=\) or source"):
        project.log_dataitem("nothing")
    with pytest.raises(dh.SpecError, match="is not a valid name"):
        project.log_artifact("Bad Name", source=__file__)


def test_lookups_fail_clearly(project: dh.Project) -> None:
    with pytest.raises(NotFound, match="no function ghost in project demo"):
        project.get_function("ghost")
    with pytest.raises(NotFound, match="belongs to project 'other'"):
        project.get_entity("store://other/function/python/f:1")


def test_projects_are_shared_by_name(home: Path) -> None:
    first = dh.get_or_create_project("shared", description="d")
    assert dh.get_or_create_project("shared").id == first.id
    assert dh.get_project("shared").spec.description == "d"
    with pytest.raises(NotFound):
        dh.get_project("absent")
