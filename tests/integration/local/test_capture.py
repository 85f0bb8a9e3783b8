"""Each run's console output is its own, and bounded: in-process runs in threads, and children that print a lot."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.models.states import State

WAIT = 60
TALKER = (
    "import pathlib, sys, time\n"
    "def talk(name, lines, rendezvous):\n"
    "    folder = pathlib.Path(rendezvous)\n"
    "    (folder / name).touch()\n"
    "    while len(list(folder.iterdir())) < 2:  # both runs print at the same time\n"
    "        time.sleep(0.005)\n"
    "    for i in range(lines):\n"
    "        print(f'{name} {i}')\n"
    "        sys.stderr.write(f'{name} err {i}\\n')\n"
    "        time.sleep(0.0005)\n"
)


def test_two_in_process_runs_in_two_threads_keep_their_own_lines(project: dh.Project, tmp_path: Path) -> None:
    lines = 300
    rendezvous = tmp_path / "rendezvous"
    rendezvous.mkdir()
    function = project.new_function(name="talk", code=TALKER, handler="talk")
    runs: dict[str, dh.Run] = {}

    def run(name: str) -> None:
        runs[name] = function.run(parameters={"name": name, "lines": lines, "rendezvous": str(rendezvous)})

    threads = [threading.Thread(target=run, args=(name,)) for name in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    for name, other in (("A", "B"), ("B", "A")):
        assert runs[name].status.state == State.COMPLETED, runs[name].status.message
        logs = runs[name].logs().splitlines()
        assert not [line for line in logs if line.startswith(other)]
        assert [line for line in logs if " err " not in line] == [f"{name} {i}" for i in range(lines)]
        assert [line for line in logs if " err " in line] == [f"{name} err {i}" for i in range(lines)]


def test_output_outside_any_run_is_not_captured(project: dh.Project, capsys) -> None:
    run = project.new_function(name="quiet", code="def f():\n    print('inside')\n", handler="f").run()
    print("outside")
    assert run.logs() == "inside\n"
    assert sys.stdout is not None and type(sys.stdout).__name__ != "_Router"  # the streams are the process's again
    assert "outside" in capsys.readouterr().out


@pytest.mark.parametrize("isolation", ["inprocess", "subprocess"])
def test_a_run_printing_a_lot_keeps_its_head_and_tail(
    home: Path, monkeypatch: pytest.MonkeyPatch, isolation: str
) -> None:
    limit = 64 * 1024
    monkeypatch.setenv("DIGITALHUB_LOG_LIMIT", str(limit))
    project = dh.get_or_create_project("capped")
    source = "def f():\n    for i in range(5000):\n        print(f'line {i:05d} ' + 'x' * 1000)\n"
    run = project.new_function(name="chatty", code=source, handler="f").run(isolation=isolation).wait(WAIT)
    assert run.status.state == State.COMPLETED
    logs = run.logs()
    assert logs.startswith("line 00000 ") and logs.endswith(f"line 04999 {'x' * 1000}\n")
    dropped = 5000 * 1012 - limit
    assert f"[... {dropped} characters of output dropped: a run keeps {limit} (DIGITALHUB_LOG_LIMIT) ...]" in logs
    assert len(logs) < limit + 200
    stored = sum(path.stat().st_size for path in home.glob("store.sqlite*"))
    assert stored < 2 * 1024 * 1024  # 5 MB printed; what is kept is the limit


def test_the_log_limit_must_be_a_size(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGITALHUB_LOG_LIMIT", "lots")
    with pytest.raises(ValueError, match="DIGITALHUB_LOG_LIMIT='lots': give bytes, at least 1024"):
        dh.get_or_create_project("capped")
