"""Data entities' files as DigitalHub hands them out: as_file, get_file_paths, upload; tables as DataFrames
(as_df, write_df) and SQL (query, through DuckDB); on the local file store and on S3 (moto)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.stores.s3 import s3_client

DF = pd.DataFrame({"city": ["Trento", "Rovereto", "Bolzano"], "people": [118, 40, 107]})


def test_as_file_and_file_paths(project: dh.Project, write, tmp_path: Path) -> None:
    single = project.log_artifact("one", source=write("one.txt", "1"))
    [path] = single.as_file()
    assert Path(path).read_text() == "1" and single.get_file_paths() == ["one.txt"]
    write("tree/a.txt", "a")
    write("tree/sub/b.txt", "b")
    folder = project.log_artifact("tree", source=tmp_path / "tree")
    assert sorted(folder.get_file_paths()) == ["a.txt", "sub/b.txt"]
    files = folder.as_file()
    assert [Path(p).read_text() for p in files] == ["a", "b"]
    assert files[0].endswith("/tree/a.txt") and files[1].endswith("/tree/sub/b.txt")
    assert folder.as_file() != folder.as_file()  # a new temporary folder each time


def test_upload_to_a_registered_path(project: dh.Project, write, tmp_path: Path) -> None:
    target = tmp_path / "store" / "data.csv"
    item = project.new_dataitem("later", kind="table", path=str(target))
    assert item.get_file_paths() == [] and item.status.state == "CREATED"
    item.upload(write("local.csv", "a\n1\n2\n"))
    assert target.read_text() == "a\n1\n2\n"
    assert item.get_file_paths() == ["local.csv"] and item.status.state == "READY"
    assert dh.get_dataitem(item.key).as_df().to_dict("records") == [{"a": 1}, {"a": 2}]

    folder = project.new_artifact("bundle", path=str(tmp_path / "store" / "bundle"))
    folder.upload([write("x/one.txt", "1"), write("y/two.txt", "2")])
    assert sorted(p.name for p in (tmp_path / "store" / "bundle").iterdir()) == ["one.txt", "two.txt"]
    with pytest.raises(dh.SpecError, match="source: .*missing.txt"):
        folder.upload([tmp_path / "missing.txt"])


def test_tables_read_written_and_queried(project: dh.Project, tmp_path: Path) -> None:
    table = project.log_table("cities", data=DF)
    pd.testing.assert_frame_equal(table.as_df(), DF)
    pd.testing.assert_frame_equal(table.as_df(engine="pandas", columns=["people"]), DF[["people"]])
    big = table.query("SELECT city FROM cities WHERE people > 100 ORDER BY city").as_df()
    assert big["city"].tolist() == ["Bolzano", "Trento"]
    assert len(table.as_df()) == 3  # the query was for one as_df()
    with pytest.raises(dh.SpecError, match=r'(?s)query: .*"nope" not found.*the table is called "cities"'):
        table.query("SELECT nope FROM cities").as_df()

    csv_path = tmp_path / "out" / "cities.csv"
    csv_path.parent.mkdir()
    target = project.new_dataitem("as-csv", path=str(csv_path))
    assert target.write_df(DF) == csv_path.resolve().as_uri()
    assert csv_path.read_text().splitlines()[0] == "city,people"  # the index is dropped
    assert target.spec.rows == 3 and target.get_file_paths() == ["cities.csv"]
    assert target.query('SELECT sum(people) AS total FROM "as-csv"').as_df()["total"].tolist() == [265]

    json_path = tmp_path / "out" / "cities.data"
    as_json = project.new_dataitem("as-json", path=str(json_path))
    as_json.write_df(DF, extension="json")
    pd.testing.assert_frame_equal(as_json.as_df(file_format="json"), DF)
    with pytest.raises(dh.SpecError, match="file_format: 'xlsx' is not a table format"):
        as_json.as_df(file_format="xlsx")
    with pytest.raises(dh.SpecError, match="engine: 'polars' is not supported"):
        table.as_df(engine="polars")


def test_files_on_s3_upload_read_and_delete(home: Path, bucket: str, write) -> None:
    project = dh.get_or_create_project("cloud", artifact_store=f"s3://{bucket}/prefix")
    logged = project.log_table("cities", data=DF)
    assert logged.spec.path.startswith(f"s3://{bucket}/prefix/cloud/dataitem/cities/")
    pd.testing.assert_frame_equal(logged.query("SELECT * FROM cities").as_df(), DF)

    registered = project.new_artifact("placed", path=f"s3://{bucket}/placed/report.txt")
    registered.upload(write("report.txt", "hello"))
    [downloaded] = registered.as_file()
    assert Path(downloaded).read_text() == "hello"

    def keys() -> list[str]:
        return sorted(o["Key"] for o in s3_client().list_objects_v2(Bucket=bucket).get("Contents", []))

    assert len(keys()) == 2
    project.delete_dataitem(logged.key)  # cascade: its files go
    assert keys() == ["placed/report.txt"]
    project.delete_artifact(registered.key)  # uploaded through the entity, so written by the runtime: removed
    assert keys() == []
