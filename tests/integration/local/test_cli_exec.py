"""``dhrun exec``: an interactive prompt on a session, as a real process (piped input, and a pseudo-terminal for
Ctrl-C)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.models.states import State

DHRUN = [sys.executable, "-m", "digitalhub_runtime_python.cli", "--project", "demo"]


@pytest.fixture
def function(project: dh.Project, write) -> dh.Function:
    path = write("code/helpers.py", "def double(x):\n    return 2 * x\n")
    return project.new_function("double", code_src=str(path.parent), handler="helpers:double")


def dhrun_exec(home: Path, cwd: Path, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DIGITALHUB_HOME": str(home)}
    return subprocess.run(
        [*DHRUN, "exec", *args], input=stdin, cwd=cwd, env=env, capture_output=True, text=True, timeout=180
    )


def test_exec_runs_code_streams_answers_input_and_saves_media(function, project, home, tmp_path) -> None:
    code = (
        "x = 21\n"
        "print(helpers_double := __import__('helpers').double(x))\n"
        "for i in range(2):\n"
        "    print('line', i)\n"
        "\n"
        "import matplotlib.pyplot as plt; plt.plot([1, 2]); plt.show()\n"
        "name = input('who? ')\n"
        "alice\n"
        "print('hello', name)\n"
        "1 / 0\n"
    )
    done = dhrun_exec(home, tmp_path, code, "double", "--media-dir", "plots")
    assert done.returncode == 0, done.stderr
    assert "42\n" in done.stdout and "line 0\nline 1\n" in done.stdout and "hello alice\n" in done.stdout
    assert "ZeroDivisionError" in done.stderr
    [saved] = list((tmp_path / "plots").iterdir())
    assert f"[image/png saved to plots/{saved.name}]" in done.stderr
    assert saved.read_bytes().startswith(b"\x89PNG")
    [session] = project.list_sessions()
    assert session.status.state == State.STOPPED and session.status.message == "destroyed by user"


def test_a_named_session_outlives_the_prompt(function, project, home, tmp_path) -> None:
    first = dhrun_exec(home, tmp_path, "kept = 'still here'\n", "double", "--session", "nb")
    assert first.returncode == 0 and "goes on; end it with: dhrun stop" in first.stderr, first.stderr
    second = dhrun_exec(home, tmp_path, "print(kept)\n", "double", "--session", "nb")
    assert second.returncode == 0 and second.stdout.count("still here\n") == 1, second.stderr
    [session] = project.list_sessions(active=True)
    assert session.session_name == "nb"
    session.destroy()


def test_ctrl_c_interrupts_the_running_code_and_the_prompt_goes_on(function, project, home, tmp_path) -> None:
    env = {**os.environ, "DIGITALHUB_HOME": str(home), "TERM": "dumb"}
    child = pexpect.spawn(
        DHRUN[0], [*DHRUN[1:], "exec", "double"], cwd=str(tmp_path), env=env, encoding="utf-8", timeout=120
    )
    try:
        child.expect_exact("In [1]: ")
        child.sendline("import time; print('sleeping', flush=True); time.sleep(300)")
        child.expect_exact("sleeping")
        child.sendintr()
        child.expect_exact("KeyboardInterrupt")
        child.expect_exact("In [2]: ")
        child.sendline("print('alive')")
        child.expect_exact("alive")
        child.expect_exact("In [3]: ")
        child.sendintr()  # at the prompt: the line is dropped
        child.expect_exact("In [4]: ")
        child.sendeof()
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    [session] = project.list_sessions()
    assert session.status.state == State.STOPPED
