"""Sessions on this machine, through the SDK: every mode against a real kernel, ends, isolation and the token."""

from __future__ import annotations

import http.client
import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.entities.backend import ACCESS_FILE
from digitalhub_runtime_python.entities.session import Session, SessionError
from digitalhub_runtime_python.models.states import State
from digitalhub_runtime_python.stores.base import NotFound
from tests.integration import session_checks as checks
from tests.waiting import wait_for

HELPERS = "def double(x):\n    return 2 * x\n"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sessions") / "home"


@pytest.fixture(scope="module")
def project(home: Path) -> dh.Project:
    return dh.get_or_create_project("sessions", home=home)


@pytest.fixture(scope="module")
def function(project: dh.Project, home: Path) -> dh.Function:
    code = home.parent / "code"
    code.mkdir()
    (code / "helpers.py").write_text(HELPERS)
    return project.new_function("helpers", code_src=str(code), handler="helpers:double")


@pytest.fixture(scope="module")
def session(project: dh.Project, function: dh.Function) -> Iterator[Session]:
    """One session shared by the checks that leave it usable."""
    session = project.new_session(function, name="shared")
    yield session
    session.destroy()


def test_a_new_session_is_a_running_run_of_the_function(session: Session, project: dh.Project) -> None:
    assert session.status.state == State.RUNNING and session.spec.action == "session"
    assert session.spec.local_execution and session.session_name == "shared"
    assert project.get_run(session.id).spec.action == "session"
    assert session.id in [run.id for run in project.list_runs(action="session")]
    assert project.get_session(session.id).key == session.key
    assert [s.id for s in project.list_sessions(active=True)] == [session.id]
    with pytest.raises(NotFound, match="not a session"):
        project.get_session(project.functions.get("helpers").run("job", parameters={"x": 1}).id)


@pytest.mark.parametrize("check", checks.LOOP.values(), ids=list(checks.LOOP))
def test_the_session_loop(session: Session, check: Callable[[Session, Path], None], tmp_path: Path) -> None:
    check(session, tmp_path)


def test_the_kernel_runs_in_the_function_code_and_the_session_folder(session: Session, home: Path) -> None:
    checks.function_code_and_folder(session, "helpers", "helpers.double(21)", "42")
    assert (home / "sessions" / session.id / "work").is_dir()


def test_a_kernel_that_dies_while_idle_is_reported_by_the_next_run(session: Session) -> None:
    pid = int(checks.text(checks.finished(session, "import os\nprint(os.getpid())")[1]))
    os.kill(pid, signal.SIGKILL)
    _result, records = checks.finished(session, "print('after')")  # sent before or after the death was noticed
    assert "the kernel died (signal SIGKILL)" in checks.text(records, "stderr")
    assert checks.text(checks.finished(session, "print('after')")[1]) == "after\n"


def test_continued_of_an_unknown_run_and_bad_requests_say_what_to_do(session: Session) -> None:
    with pytest.raises(SessionError, match="no run 'nope' in this session"):
        session.execute(run_id="nope", mode="continued")
    with pytest.raises(SessionError, match="runId is required"):
        session.execute(mode="continued")
    with pytest.raises(SessionError, match="is not waiting for input"):
        session.execute(run_id=session.execute(code="1")["runId"], code="x", mode="input")
    with pytest.raises(SessionError, match="batch mode needs options.exec"):
        session.execute(mode="batch")
    with pytest.raises(SessionError, match="not a mode"):
        session.execute(code="1", mode="eval")


def test_the_token_stays_out_of_the_run_and_is_required(session: Session, home: Path) -> None:
    access_file = home / "sessions" / session.id / ACCESS_FILE
    assert stat.S_IMODE(access_file.stat().st_mode) == 0o600
    access = json.loads(access_file.read_text())
    assert access["token"] not in json.dumps(session.refresh().to_dict())
    host, port = access["url"].removeprefix("http://").split(":")
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("POST", "/execute", json.dumps({"code": "print(1)"}), headers)
        response = connection.getresponse()
        assert response.status == 401 and b"needs its token" in response.read()
        connection.close()


def test_a_named_session_is_found_from_another_process(session: Session, home: Path) -> None:
    checks.finished(session, "shared_value = 'from the first process'")
    script = (
        "import digitalhub_runtime_python as dh\n"
        f"project = dh.get_or_create_project('sessions', home={str(home)!r})\n"
        "session = project.get_or_create_session('shared')\n"
        "print(session.id)\n"
        "print(session.execute(code='print(shared_value)')['console'])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [session.id, "[['stdout', 'from the first process\\n']]"]


def test_get_or_create_session_needs_a_function_for_a_new_name(project: dh.Project) -> None:
    with pytest.raises(NotFound, match="give function= to start one"):
        project.get_or_create_session("never-started")


def test_sessions_do_not_share_state(project: dh.Project, function: dh.Function, session: Session) -> None:
    checks.finished(session, "only_here = 1")
    other = project.new_session(function)
    try:
        result, records = checks.finished(other, "print('only_here' in globals())")
        assert checks.text(records) == "False\n"
        assert other.id != session.id
    finally:
        other.destroy()


def test_destroy_ends_the_session_and_its_kernel(project: dh.Project, function: dh.Function, home: Path) -> None:
    session = project.new_session(function)
    pid = session.status.process.pid
    checks.destroy(session)
    wait_for(lambda: not _alive(pid), what="the session's process to exit")
    assert not (home / "sessions" / session.id / ACCESS_FILE).exists()


def test_the_idle_timeout_ends_the_session(project: dh.Project, function: dh.Function) -> None:
    session = project.new_session(function, idle_timeout=1)
    assert session.execute(code="print('busy')")["console"] == [["stdout", "busy\n"]]
    ended = session.backend.store.wait_run(session.key, lambda run: run.status.state == State.STOPPED, timeout=60)
    assert ended.status.message == "no request for 1 s: the session ended"
    with pytest.raises(SessionError, match="STOPPED: no request for 1 s"):
        session.execute(code="print(1)")


def test_stop_from_outside(project: dh.Project, function: dh.Function, home: Path) -> None:
    session = project.new_session(function)
    kernel = int(checks.text(checks.finished(session, "import os\nprint(os.getpid())")[1]))
    session.stop()  # SIGTERM: the server shuts its kernel down and cleans up before it exits
    assert session.refresh().status.state == State.STOPPED
    assert not (home / "sessions" / session.id / ACCESS_FILE).exists()
    wait_for(lambda: not _alive(kernel), what="the kernel to exit")
    with pytest.raises(NotImplementedError, match="start a new session"):
        session.resume()


def test_a_session_runs_in_its_function_environment(project: dh.Project, index_env: object, home: Path) -> None:
    fn = project.new_function(name="tiny", code="def f():\n    return 1\n", handler="f", requirements=["tinypkg==1.0"])
    code = "import sys, tinypkg\nprint(tinypkg.VALUE)\nprint(sys.prefix)"
    built = []
    for _ in range(2):  # the first session builds the environment and re-executes there, the second starts there
        session = project.new_session(fn)
        try:
            _result, records = checks.finished(session, code)
            value, prefix = checks.text(records).splitlines()
            environment = session.refresh().status.environment
            assert value == "1.0" and environment is not None
            assert Path(prefix) == home / "envs" / environment.key
            built.append(environment.built)
        finally:
            session.destroy()
    assert built == [True, False]


def test_a_kernel_that_does_not_start_fails_the_session(project: dh.Project, function: dh.Function, tmp_path: Path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "ipykernel_launcher.py").write_text("raise SystemExit(3)\n")
    pythonpath = os.pathsep.join([str(broken), os.environ.get("PYTHONPATH", "")])
    with pytest.raises(SessionError, match="did not start: the session's kernel does not start"):
        project.new_session(function, envs={"PYTHONPATH": pythonpath})
    failed = [run for run in project.list_sessions() if run.status.state == State.ERROR]
    assert len(failed) == 1 and "code 3" in failed[0].status.message


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
