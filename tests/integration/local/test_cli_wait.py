"""``dhrun run --timeout / --stop-on-timeout / --no-wait``, and Ctrl-C while waiting: the run outlives the wait."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.cli import main
from digitalhub_runtime_python.models.states import State
from tests.waiting import wait_for

WAIT = 60
# The job waits for a flag file the test creates: it cannot finish before the test says so.
UNTIL = """
import pathlib, time

def until(flag):
    while not pathlib.Path(flag).exists():
        time.sleep(0.02)
    return "done"
"""
CLI = [sys.executable, "-m", "digitalhub_runtime_python.cli"]


@pytest.fixture
def job(write, tmp_path: Path) -> tuple[str, Path]:
    write("until.py", UNTIL)
    return "until.py:until", tmp_path / "flag"


def only_run(project: dh.Project) -> dh.Run:
    [run] = project.list_runs()
    return run


def test_timeout_returns_with_one_line_and_exit_3_and_the_run_goes_on(project: dh.Project, job) -> None:
    target, flag = job
    result = CliRunner().invoke(main, ["-P", "demo", "run", target, "-p", f"flag={flag}", "--timeout", "0.2"])
    assert result.exit_code == 3, result.output
    run = only_run(project)
    short = run.id[:8]
    assert re.fullmatch(
        rf"timeout: run {short} still (CREATED|READY|RUNNING) after 0.2 s, and it goes on; "
        rf"follow it: dhrun logs {short} -P demo, dhrun describe {short} -P demo\n",
        result.stderr,
    )
    assert result.stdout == ""
    assert run.spec.isolation == "subprocess"  # so that it can go on without dhrun
    flag.touch()
    assert run.wait(WAIT).status.state == State.COMPLETED
    assert run.results() == {"output_0": "done"}


def test_stop_on_timeout_stops_the_run(project: dh.Project, job) -> None:
    target, flag = job
    result = CliRunner().invoke(
        main, ["run", target, "-p", f"flag={flag}", "--timeout", "0.2", "--stop-on-timeout", "-P", "demo"]
    )
    assert result.exit_code == 3, result.output
    run = only_run(project)
    short = run.id[:8]
    assert result.stderr == (
        f"timeout: run {short} stopped after 0.2 s (--stop-on-timeout); its logs: dhrun logs {short} -P demo\n"
    )
    assert run.refresh().status.state == State.STOPPED


def test_a_job_done_within_the_timeout_shows_its_results(project: dh.Project, job) -> None:
    target, flag = job
    flag.touch()
    result = CliRunner().invoke(main, ["-P", "demo", "run", target, "-p", f"flag={flag}", "--timeout", "60"])
    assert result.exit_code == 0, result.output
    assert "COMPLETED" in result.stdout and '"done"' in result.stdout


def test_stop_on_timeout_needs_a_timeout(home: Path, job) -> None:
    result = CliRunner().invoke(main, ["run", job[0], "--stop-on-timeout"])
    assert result.exit_code == 2 and "--stop-on-timeout needs --timeout SECONDS" in result.output


def test_no_wait_returns_at_once_and_the_run_outlives_dhrun(project: dh.Project, job) -> None:
    target, flag = job
    done = subprocess.run(
        [*CLI, "run", target, "-p", f"flag={flag}", "--no-wait", "-P", "demo"],
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert done.returncode == 0, done.stderr
    run = only_run(project)
    short = run.id[:8]
    assert done.stdout == (
        f"run {short} started in a child process; follow it: dhrun logs {short} -P demo, "
        f"dhrun describe {short} -P demo\n"
    )
    assert not flag.exists() and run.refresh().status.state != State.COMPLETED  # dhrun did not wait for it
    flag.touch()  # dhrun has exited: the child finishes the run on its own
    assert run.wait(WAIT).status.state == State.COMPLETED


def test_ctrl_c_while_waiting_leaves_the_run_going(project: dh.Project, job) -> None:
    target, flag = job
    process = subprocess.Popen(
        [*CLI, "-P", "demo", "run", target, "-p", f"flag={flag}", "--timeout", "600"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: only_run(project).status.state == State.RUNNING, WAIT, "the run to start")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=WAIT)
    finally:
        if process.poll() is None:
            process.kill()
    run = only_run(project)
    short = run.id[:8]
    assert process.returncode == 130
    assert out == ""
    assert err == (
        f"interrupted: run {short} goes on in its child process; "
        f"dhrun logs {short} -P demo, dhrun stop {short} -P demo\n"
    )
    flag.touch()
    assert run.wait(WAIT).status.state == State.COMPLETED
