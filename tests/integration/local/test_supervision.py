"""Local runs never stay unfinished when nothing executes them, and no process that is not a run's is signalled.

Real processes throughout: a launcher script started as a child of the test and killed with SIGKILL, runner and
server processes killed the same way, and a decoy process standing for a pid reused by another program.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.launchers.processes import HOST, alive
from digitalhub_runtime_python.models.run import ProcessInfo, RunSpec, RunStatus
from digitalhub_runtime_python.models.run import Run as RunModel
from digitalhub_runtime_python.models.states import State, Transition
from tests.waiting import wait_for

WAIT = 30
CLI = [sys.executable, "-m", "digitalhub_runtime_python.cli", "-P", "demo"]
EXITED = "the process running this run exited without reporting"
SLEEPER = "import time\ndef f():\n    print('started', flush=True)\n    time.sleep(600)\n"
LAUNCHER = """
import sys, time
import digitalhub_runtime_python as dh

project = dh.get_or_create_project("demo")
fn = project.new_function(name="sleeper", code={code!r}, handler="f")
fn.run(isolation=sys.argv[1])  # a subprocess run returns at once, an in-process one never does
time.sleep(600)
"""


@pytest.fixture
def launcher(project: dh.Project, tmp_path: Path) -> Iterator:
    """Start a launcher process that starts one sleeping run; the run, once it is RUNNING, and the process."""
    started: list[subprocess.Popen] = []

    def start(isolation: str) -> tuple[dh.Run, subprocess.Popen]:
        script = tmp_path / "launcher.py"
        script.write_text(LAUNCHER.format(code=SLEEPER))
        process = subprocess.Popen([sys.executable, str(script), isolation], start_new_session=True)
        started.append(process)
        run = wait_for(lambda: project.list_runs()[0], WAIT, "the launcher's run")
        wait_for(lambda: run.refresh().status.state == State.RUNNING and "started" in run.logs(), WAIT, "RUNNING")
        return run, process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def kill(info: ProcessInfo) -> None:
    assert alive(info), "the run's process should be running"
    os.kill(info.pid, signal.SIGKILL)
    wait_for(lambda: not alive(info), WAIT, f"process {info.pid} to be gone")


def test_launcher_then_runner_killed_the_run_ends_on_the_next_read(launcher, project: dh.Project) -> None:
    run, process = launcher("subprocess")
    runner = run.status.process
    assert runner.pid != process.pid and runner.host == HOST
    process.kill()
    process.wait()
    assert project.get_run(run.id).status.state == State.RUNNING  # its runner still runs: nothing to say yet
    kill(runner)
    ended = project.get_run(run.id)
    assert ended.status.state == State.ERROR
    assert ended.status.message == f"{EXITED} (exit code unknown)"
    assert run.wait().status.state == State.ERROR  # no timeout needed: it no longer hangs
    assert run.logs() == "started\n"


def test_a_killed_process_running_an_in_process_job_ends_it(launcher, project: dh.Project) -> None:
    run, process = launcher("inprocess")
    assert run.status.process.pid == process.pid  # the launching process executes it
    process.kill()
    process.wait()
    listed = subprocess.run([*CLI, "get", "runs"], capture_output=True, text=True, timeout=WAIT)
    assert listed.returncode == 0 and "ERROR" in listed.stdout
    assert run.refresh().status.message == f"{EXITED} (exit code unknown)"
    assert run.wait().status.state == State.ERROR


@pytest.mark.parametrize("fork", [True, False], ids=["forked", "popen"])
@pytest.mark.parametrize(("how", "code"), [("_exit", 7), ("abort", -signal.SIGABRT)])
def test_a_crashed_runner_keeps_its_output(project: dh.Project, fork: bool, how: str, code: int) -> None:
    project.backend.launcher("job", True).fork = fork
    source = (
        "import os, sys, time\n"
        "def f(how):\n"
        "    print('before the pause')\n"
        "    time.sleep(1.5)  # the logs are handed to the store every second: this part is saved\n"
        "    print('after the pause')\n"
        "    sys.stderr.write('last words\\n')\n"
        "    os._exit(7) if how == '_exit' else os.abort()\n"
    )
    run = project.new_function(name="crash", code=source, handler="f").run(
        parameters={"how": how}, isolation="subprocess"
    )
    assert run.wait(WAIT).status.state == State.ERROR
    assert run.status.message == f"{EXITED} (exit code {code})"
    assert run.logs() == "before the pause\nafter the pause\nlast words\n"  # all of it, once


def test_a_runner_killed_while_its_launcher_lives(project: dh.Project) -> None:
    run = project.new_function(name="sleeper", code=SLEEPER, handler="f").run(isolation="subprocess")
    wait_for(lambda: "started" in run.logs(), WAIT, "the runner to start")
    kill(run.refresh().status.process)  # as the OOM killer would
    assert run.wait(WAIT).status.message == f"{EXITED} (exit code -9)"
    assert run.logs() == "started\n"


@pytest.fixture
def decoy() -> Iterator[psutil.Process]:
    """An unrelated process leading its own session: what a reused pid may belong to."""
    process = subprocess.Popen(["sleep", "300"], start_new_session=True)
    yield psutil.Process(process.pid)
    process.kill()
    process.wait()


def stale_run(project: dh.Project, pid: int, started: float, host: str = HOST) -> dh.Run:
    """A RUNNING run whose recorded process is ``pid`` started at ``started``: what is left when the process that
    ran it is gone and its pid was given to another process."""
    function = project.new_function(name="gone", code="def f():\n    return 1\n", handler="f")
    status = RunStatus(
        state=State.RUNNING,
        transitions=[Transition(state=State.CREATED), Transition(state=State.READY), Transition(state=State.RUNNING)],
        process=ProcessInfo(pid=pid, started=started, host=host),
    )
    spec = RunSpec(task="", function=function.key, action="job", local_execution=True, isolation="subprocess")
    entity = project.backend.store.create(RunModel(project="demo", name="stale", id="stale", spec=spec, status=status))
    return dh.Run(entity, project.backend)


def test_a_reused_pid_is_never_signalled(project: dh.Project, decoy: psutil.Process) -> None:
    stale_run(project, decoy.pid, decoy.create_time() - 100)
    stopped = subprocess.run([*CLI, "stop", "stale"], capture_output=True, text=True, timeout=WAIT)
    assert stopped.returncode == 0, stopped.stderr
    assert "ERROR" in stopped.stdout  # the read before stopping found its process gone
    assert decoy.is_running() and decoy.status() != psutil.STATUS_ZOMBIE
    assert project.get_run("stale").status.message == f"{EXITED} (exit code unknown)"


def test_the_sdk_never_signals_a_reused_pid_either(project: dh.Project, decoy: psutil.Process) -> None:
    run = stale_run(project, decoy.pid, decoy.create_time() + 5)
    assert run.stop().status.state == State.ERROR
    assert decoy.is_running()


def test_a_run_on_another_host_is_left_alone(project: dh.Project) -> None:
    run = stale_run(project, os.getpid(), 0.0, host="elsewhere")
    assert project.get_run("stale").status.state == State.RUNNING  # it cannot be checked from here
    with pytest.raises(RuntimeError, match="executes on host elsewhere, not here .*: stop it from there"):
        run.stop()


def test_an_in_process_run_cannot_be_stopped_and_says_so(project: dh.Project, tmp_path: Path) -> None:
    flag = tmp_path / "go"
    source = (
        "import pathlib, time\ndef f(flag):\n    while not pathlib.Path(flag).exists():\n        time.sleep(0.02)\n"
    )
    function = project.new_function(name="inline", code=source, handler="f")
    with ThreadPoolExecutor(1) as pool:
        done = pool.submit(function.run, parameters={"flag": str(flag)})
        run = wait_for(lambda: project.list_runs()[0], WAIT, "the run")
        wait_for(lambda: run.refresh().status.state == State.RUNNING, WAIT, "RUNNING")
        with pytest.raises(RuntimeError, match=r"executes in-process .* isolation='subprocess'"):
            run.stop()
        stop = subprocess.run([*CLI, "stop", run.id], capture_output=True, text=True, timeout=WAIT)
        assert stop.returncode == 2 and "a thread cannot be stopped from outside" in stop.stderr
        assert run.refresh().status.state == State.RUNNING  # never STOPPED while its code runs on
        flag.touch()
        assert done.result(WAIT).status.state == State.COMPLETED


def test_a_served_run_whose_server_died_after_dhrun_exited(project: dh.Project, write) -> None:
    write("svc.py", "def echo(event):\n    return event.body\n")
    started = subprocess.run([*CLI, "run", "svc.py:echo", "--action", "serve"], capture_output=True, text=True)
    assert started.returncode == 0, started.stderr
    [run] = project.list_runs()
    kill(run.status.process)
    invoked = subprocess.run([*CLI, "invoke", run.id, "--json", "1"], capture_output=True, text=True, timeout=WAIT)
    assert invoked.returncode == 2
    assert invoked.stderr.startswith(f"error: run {run.id} is not serving (state ERROR): {EXITED}")
    assert "Traceback" not in invoked.stderr and len(invoked.stderr.splitlines()) == 1
    listed = json.loads(subprocess.run([*CLI, "get", "runs", "-o", "json"], capture_output=True, text=True).stdout)
    assert listed[0]["status"]["state"] == "ERROR"
