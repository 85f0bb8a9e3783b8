"""The embedded store never loses history silently: an emptied, missing or damaged database is refused by name."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.stores.local import DamagedStore, LocalStore

CLI = [sys.executable, "-m", "digitalhub_runtime_python.cli", "-P", "demo"]


@pytest.fixture
def history(project: dh.Project, home: Path) -> Path:
    """A store with a few runs in it, its connections closed and its WAL folded into the database file."""
    function = project.new_function(name="one", code="def f(i):\n    return i\n", handler="f")
    for i in range(40):
        function.run(parameters={"i": "x" * 2000 + str(i)})
    project.backend.close()
    database = home / "store.sqlite"
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return database


def dhrun(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60)


def assert_refused(database: Path, what: str) -> None:
    with pytest.raises(DamagedStore) as raised:
        LocalStore(database.parent)
    assert str(database) in str(raised.value) and what in str(raised.value)
    assert "restore store.sqlite from a backup" in str(raised.value)
    listed = dhrun("get", "runs")
    assert listed.returncode == 2 and "Traceback" not in listed.stderr
    assert listed.stderr.startswith(f"error: the store {database} {what}")


def test_an_emptied_store_is_refused_not_replaced(history: Path) -> None:
    os.truncate(history, 0)
    assert_refused(history, "is empty (0 bytes), but a store was created in")
    assert history.stat().st_size == 0  # nothing was written over it


def test_a_missing_store_is_refused(history: Path) -> None:
    history.unlink()
    assert_refused(history, "is missing, but a store was created in")
    assert not history.exists()


def test_a_file_that_is_not_a_database_is_refused(history: Path) -> None:
    history.write_bytes(b"\0" * 8192)
    assert_refused(history, "is not a SQLite database")


def test_damaged_pages_are_reported_with_the_path(history: Path) -> None:
    data = bytearray(history.read_bytes())
    for start in range(4096 * 2, len(data) - 4096, 4096):
        data[start + 16 : start + 4096] = b"\xff" * (4096 - 16)
    history.write_bytes(bytes(data))
    listed = dhrun("get", "runs")
    assert listed.returncode == 2 and "Traceback" not in listed.stderr, listed.stderr
    assert listed.stderr.startswith(f"error: the store {history} is damaged (")
    assert "sqlite3 " in listed.stderr and ".recover" in listed.stderr


def test_a_new_folder_gets_a_new_store_and_its_marker(home: Path) -> None:
    LocalStore(home).close()
    assert (home / "store.sqlite").stat().st_size > 0 and (home / "store.sqlite.created").exists()


def test_a_store_from_before_the_marker_is_adopted(history: Path) -> None:
    marker = history.with_name("store.sqlite.created")
    marker.unlink()
    LocalStore(history.parent).close()
    assert marker.exists()
    assert "one" in dhrun("get", "functions").stdout
