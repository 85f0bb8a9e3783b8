"""Runs in a child process (the pod's entrypoint), stopping them, and a child that dies."""

from __future__ import annotations

import pytest

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.launchers.processes import alive
from digitalhub_runtime_python.models.states import State

WAIT = 30


def test_subprocess_run_matches_in_process(project: dh.Project) -> None:
    fn = project.new_function(
        name="add", code="import os\ndef add(a, b):\n    print(os.getpid())\n    return a + b\n", handler="add"
    )
    inline = fn.run(parameters={"a": 1, "b": 2})
    child = fn.run(parameters={"a": 1, "b": 2}, isolation="subprocess").wait(WAIT)
    assert child.status.state == inline.status.state == State.COMPLETED
    assert child.results() == inline.results() == {"output_0": 3}
    assert child.status.process and child.logs().strip() == str(child.status.process.pid)


def test_subprocess_error_carries_traceback(project: dh.Project) -> None:
    fn = project.new_function(name="boom", code="def f():\n    raise ValueError('bad value')\n", handler="f")
    run = fn.run(isolation="subprocess").wait(WAIT)
    assert run.status.state == State.ERROR
    assert run.status.message == "ValueError: bad value"
    assert "line 2, in f" in run.status.error.traceback


def test_stop_a_running_subprocess(project: dh.Project) -> None:
    fn = project.new_function(
        name="forever", code="import time\ndef f():\n    while True:\n        time.sleep(0.05)\n", handler="f"
    )
    run = fn.run(isolation="subprocess")
    project.backend.store.wait(run.key, lambda r: r.status.state == State.RUNNING, WAIT)
    run.stop()
    assert run.status.state == State.STOPPED
    assert run.wait(WAIT).status.state == State.STOPPED
    assert run.status.transitions[-1].message == "stopped by user"


@pytest.mark.parametrize(
    ("code", "state"), [("def f(): return 1", State.COMPLETED), ("def f(): raise ValueError('no')", State.ERROR)]
)
def test_stopping_a_finished_run_changes_nothing(project: dh.Project, code: str, state: State) -> None:
    run = project.new_function(name="quick", code=code, handler="f").run()
    before = project.backend.store.get_key(run.key)
    assert before.status.state == state
    assert run.stop().status.state == state
    after = project.backend.store.get_key(run.key)
    assert after.status == before.status  # transitions, message, error, results
    assert after.metadata.updated == before.metadata.updated


def test_child_that_dies_puts_run_in_error(project: dh.Project) -> None:
    fn = project.new_function(name="crash", code="import os\ndef f():\n    os._exit(3)\n", handler="f")
    run = fn.run(isolation="subprocess").wait(WAIT)
    assert run.status.state == State.ERROR
    assert run.status.message == "the process running this run exited without reporting (exit code 3)"


@pytest.mark.parametrize("isolation", ["inprocess", "subprocess"])
def test_keyboard_interrupt_is_not_swallowed_in_process(project: dh.Project, isolation: str) -> None:
    fn = project.new_function(name="interrupt", code="def f():\n    raise KeyboardInterrupt\n", handler="f")
    if isolation == "inprocess":
        with pytest.raises(KeyboardInterrupt):
            fn.run()
        run = project.list_runs()[0]
    else:
        run = fn.run(isolation="subprocess").wait(WAIT)
    assert run.status.state == State.STOPPED


def test_stop_kills_a_job_that_ignores_sigterm(project: dh.Project) -> None:
    code = (
        "import signal, time\n"
        "def f():\n    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n    print('ignoring', flush=True)\n"
        "    while True:\n        time.sleep(0.05)\n"
    )
    project.backend.launcher("job", True).stop_grace = 0.5
    run = project.new_function(name="stubborn", code=code, handler="f").run(isolation="subprocess")
    project.backend.store.wait(run.key, lambda r: "ignoring" in run.logs() and r.status.state == State.RUNNING, WAIT)
    process = run.refresh().status.process
    run.stop()
    assert run.status.state == State.STOPPED
    assert not alive(process)  # stop() returns once the process group is gone (SIGKILL after the grace period)
