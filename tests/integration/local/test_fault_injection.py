"""Fault injection: 50 subprocess runs, their launcher and runners killed at random points.

Every run is terminal on the first read once no process of it runs any more, and no process that is not a run's
is ever signalled: decoy processes stand for pids reused by other programs, and runs are pointed at them.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.launchers.processes import HOST, alive
from digitalhub_runtime_python.models.run import ProcessInfo
from digitalhub_runtime_python.models.run import Run as RunModel
from digitalhub_runtime_python.models.states import State, is_final
from tests.waiting import wait_for

RUNS = 50
LAUNCHER = """
import random, sys
import digitalhub_runtime_python as dh

source = "import time\\ndef f(pause):\\n    print('start', flush=True)\\n    time.sleep(pause)\\n    print('end')\\n"
function = dh.get_or_create_project("demo").new_function(name="victim", code=source, handler="f")
for i in range({runs}):
    function.run(parameters={{"pause": random.uniform(0, 2)}}, isolation="subprocess")
print("launched", flush=True)
sys.stdin.read()  # until the test kills this process
"""
EXITED = "the process running this run exited without reporting"


@pytest.fixture
def decoys() -> Iterator[list[psutil.Process]]:
    """Unrelated processes, each leading its own session (what a reused pid may now belong to)."""
    started = [subprocess.Popen(["sleep", "600"], start_new_session=True) for _ in range(5)]
    yield [psutil.Process(process.pid) for process in started]
    for process in started:
        process.kill()
        process.wait()


def test_runs_killed_at_random_points_all_end_and_only_their_processes_are_signalled(
    project: dh.Project, tmp_path: Path, decoys: list[psutil.Process]
) -> None:
    chance = random.Random(int(os.environ.get("FAULT_SEED", time.time_ns())))
    script = tmp_path / "launcher.py"
    script.write_text(LAUNCHER.format(runs=RUNS))
    launcher = subprocess.Popen(
        [sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    killed: dict[str, ProcessInfo] = {}
    try:
        # while runs are being launched and run, kill runners at random moments, always checking who they are
        while launcher.poll() is None and len(project.list_runs()) < RUNS:
            for run in project.list_runs():
                info = run.status.process
                if run.id in killed or info is None or info.pid == launcher.pid or chance.random() < 0.5:
                    continue
                if alive(info):
                    os.kill(info.pid, signal.SIGKILL)
                killed[run.id] = info
            time.sleep(chance.uniform(0, 0.2))
        assert launcher.stdout is not None and launcher.stdout.readline() == "launched\n"
    finally:
        launcher.kill()  # the launcher goes too: its reaper threads can no longer record anything
        launcher.wait()
    runs = project.list_runs()
    assert len(runs) == RUNS
    for run in chance.sample(runs, RUNS // 2):
        info = run.status.process
        if run.id not in killed and alive(info) and chance.random() < 0.5:
            os.kill(info.pid, signal.SIGKILL)
            killed[run.id] = info
    # some of the killed runs' pids now "belong" to the decoys: stop and read them, the decoys must live on
    store = project.backend.store
    for decoy, run_id in zip(decoys, chance.sample(sorted(killed), min(len(decoys), len(killed))), strict=False):
        fake = ProcessInfo(pid=decoy.pid, started=decoy.create_time() - 1, host=HOST)
        store.update_run(f"store://demo/run/python+run/{run_id}:{run_id}", lambda r, p=fake: _with(r, p))
    for run in project.list_runs():
        run.stop()  # a run still going is stopped (its own process group only), a dead one ends in ERROR
    for run in runs:
        info = store.get_run(run.key).status.process
        if info is not None:
            wait_for(lambda i=info: not alive(i), 60, f"the process of run {run.id} to be gone")
    for run in runs:
        state = project.get_run(run.id).status  # the first read after the processes are gone
        assert is_final(state.state), (run.id, state.state, state.message)
        assert state.state != State.ERROR or state.message.startswith(EXITED), state.message
    assert all(decoy.is_running() and decoy.status() != psutil.STATUS_ZOMBIE for decoy in decoys)


def _with(run: RunModel, process: ProcessInfo) -> RunModel:
    run.status.process = process
    return run
