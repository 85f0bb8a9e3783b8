"""Artifact files on the local and S3 file stores: where downloads land, and progress of long transfers."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.stores import files, s3
from digitalhub_runtime_python.stores.progress import THRESHOLD_BYTES, Advance, transfer_progress

Transfer = tuple[str, int, list[int]]


@pytest.fixture(params=["local", "s3"])
def project(request: pytest.FixtureRequest, home: Path) -> dh.Project:
    """A project whose files go to $DIGITALHUB_HOME/files, or to a fresh S3 bucket."""
    if request.param == "local":
        return dh.get_or_create_project("demo")
    bucket = request.getfixturevalue("bucket")
    return dh.get_or_create_project("demo", artifact_store=f"s3://{bucket}/art")


@pytest.fixture
def artifact(project: dh.Project, write: Callable[[str, str], Path]) -> dh.Artifact:
    return project.log_artifact("big", source=write("big.bin", "data"))


@pytest.fixture
def model(project: dh.Project, write: Callable[[str, str], Path], tmp_path: Path) -> dh.Model:
    write("clf/weights.bin", "0101")
    write("clf/sub/config.json", "{}")
    return project.log_model("clf", source=tmp_path / "clf")


def test_a_file_lands_at_a_new_path(artifact: dh.Artifact, tmp_path: Path) -> None:
    assert artifact.download("dl.bin").resolve() == tmp_path / "dl.bin"
    assert (tmp_path / "dl.bin").read_text() == "data"
    assert artifact.download(tmp_path / "deeper" / "dl.bin") == tmp_path / "deeper" / "dl.bin"
    assert (tmp_path / "deeper" / "dl.bin").read_text() == "data"


def test_a_file_replaces_an_existing_file(artifact: dh.Artifact, tmp_path: Path) -> None:
    (tmp_path / "dl.bin").write_text("old content, longer than the new")
    artifact.download("dl.bin")
    assert (tmp_path / "dl.bin").read_text() == "data"


def test_a_file_goes_into_an_existing_folder(artifact: dh.Artifact, tmp_path: Path) -> None:
    (tmp_path / "existing").mkdir()
    assert artifact.download("existing").resolve() == tmp_path / "existing" / "big.bin"
    assert artifact.download(tmp_path / "existing") == tmp_path / "existing" / "big.bin"
    assert (tmp_path / "existing" / "big.bin").read_text() == "data"


@pytest.mark.parametrize("separator", sorted({"/", os.sep}))
def test_a_file_goes_into_a_new_folder_named_with_a_trailing_separator(
    artifact: dh.Artifact, tmp_path: Path, separator: str
) -> None:
    assert artifact.download(f"out{separator}").resolve() == tmp_path / "out" / "big.bin"
    assert (tmp_path / "out" / "big.bin").read_text() == "data"


def test_without_a_destination_a_file_goes_into_a_temporary_folder(artifact: dh.Artifact) -> None:
    path = artifact.download()
    assert path.name == "big.bin" and path.read_text() == "data"


@pytest.mark.parametrize("destination", ["models", "models/", "existing"])
def test_a_folder_goes_inside_the_destination_keeping_its_layout(
    model: dh.Model, tmp_path: Path, destination: str
) -> None:
    (tmp_path / "existing").mkdir()
    folder = model.download(destination).resolve()
    assert folder == tmp_path / destination.rstrip("/") / "clf"
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        "sub/config.json",
        "weights.bin",
    ]
    assert (folder / "weights.bin").read_text() == "0101"


@pytest.fixture
def transfers(monkeypatch: pytest.MonkeyPatch) -> list[Transfer]:
    """Every transfer the file stores report: (label, total, byte counts in order), passed on to the real one."""
    seen: list[Transfer] = []

    @contextmanager
    def recording(label: str, total: int) -> Iterator[Advance]:
        amounts: list[int] = []
        seen.append((label, total, amounts))
        with transfer_progress(label, total) as advance:

            def record(amount: int) -> None:
                amounts.append(amount)
                advance(amount)

            yield record

    recorder: Callable[[str, int], AbstractContextManager[Advance]] = recording
    for module in (files, s3):
        monkeypatch.setattr(module, "transfer_progress", recorder)
    return seen


def test_long_transfers_report_every_byte_and_log_tenths(
    project: dh.Project, transfers: list[Transfer], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    size = THRESHOLD_BYTES + 3 * 1024 * 1024 + 7
    big = tmp_path / "big.bin"
    big.touch()
    os.truncate(big, size)
    capsys.readouterr()
    artifact = project.log_artifact("big", source=big)
    assert artifact.download("back.bin").stat().st_size == size
    assert [(label, total) for label, total, _ in transfers] == [
        ("uploading big.bin", size),
        ("downloading big.bin", size),
    ]
    for _, _, amounts in transfers:
        running = [sum(amounts[: i + 1]) for i in range(len(amounts))]
        assert len(amounts) > 1 and running[-1] == size and max(running) == size
    lines = capsys.readouterr().err.splitlines()
    for action in ("uploading", "downloading"):
        mine = [line for line in lines if f"{action} big.bin: " in line]
        assert [line.split(": ")[-1].split("%")[0] for line in mine] == [str(p) for p in range(10, 101, 10)]
    assert "━" not in "".join(lines)
