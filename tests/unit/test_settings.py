"""Where the embedded store lives: DIGITALHUB_HOME, else ./.digitalhub when present, else a per-user folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from digitalhub_runtime_python.settings import Settings, locate_home


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with no .digitalhub, a HOME of its own, and neither DIGITALHUB_HOME nor XDG_DATA_HOME."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.delenv("DIGITALHUB_HOME", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    return tmp_path


def test_per_user_default(elsewhere: Path) -> None:
    assert locate_home() == (elsewhere / "user" / ".local" / "share" / "digitalhub", "per-user default")
    assert Settings.from_env().home == elsewhere / "user" / ".local" / "share" / "digitalhub"


def test_xdg_data_home(elsewhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(elsewhere / "data"))
    assert Settings.from_env().home == elsewhere / "data" / "digitalhub"


def test_a_digitalhub_folder_here_wins_over_the_per_user_one(elsewhere: Path) -> None:
    (elsewhere / ".digitalhub").mkdir()
    assert locate_home() == (Path(".digitalhub"), ".digitalhub in the current folder")
    assert Settings.from_env().home == elsewhere / ".digitalhub"


def test_digitalhub_home_wins_over_both(elsewhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (elsewhere / ".digitalhub").mkdir()
    monkeypatch.setenv("DIGITALHUB_HOME", str(elsewhere / "hub"))
    assert locate_home() == (elsewhere / "hub", "DIGITALHUB_HOME")
    assert Settings.from_env().home == elsewhere / "hub"
    assert Settings.from_env().environ()["DIGITALHUB_HOME"] == str(elsewhere / "hub")
