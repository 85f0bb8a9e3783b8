"""The session runtime's pure parts: console records from Jupyter messages, an execution's result, upload names,
the default build, and the session task's own field."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from digitalhub_runtime_python.models.errors import SpecError, validate
from digitalhub_runtime_python.models.task import TaskSpec
from digitalhub_runtime_python.sessions.batch import default_build
from digitalhub_runtime_python.sessions.executions import Execution
from digitalhub_runtime_python.sessions.records import Console, display_record, traceback_text
from digitalhub_runtime_python.sessions.runtime import RequestError, SessionRuntime


def test_a_display_becomes_one_record_of_its_richest_type():
    bundle = {"text/plain": "<Figure>", "image/png": "iVBORw0K\nGgo=\n", "text/html": "<img>"}
    assert display_record(bundle) == ["image/png", "data:image/png;base64,iVBORw0KGgo="]
    table = {"text/plain": "df", "text/html": ["<table>", "</table>"]}
    assert display_record(table) == ["text/html", "<table></table>"]
    assert display_record({"image/svg+xml": "<svg/>", "text/plain": "x"}) == ["image/svg+xml", "<svg/>"]
    assert display_record({"application/json": {"a": 1}}) == ["application/json", '{"a": 1}']
    assert display_record({"text/plain": "42"}) == ["stdout", "42\n"]
    assert display_record({"application/x-unknown": "?"}) is None


def test_a_traceback_is_plain_text():
    content = {"ename": "ValueError", "evalue": "bad", "traceback": ["\x1b[0;31mValueError\x1b[0m: bad", "line"]}
    assert traceback_text(content) == "ValueError: bad\nline\n"
    assert traceback_text({"ename": "E", "evalue": "v"}) == "E: v\n"


def test_the_console_merges_text_of_one_stream_and_says_what_it_dropped():
    console = Console(limit=10)
    console.add("stdout", "a")
    console.add("stdout", "b")
    console.add("image/png", "data:x")
    console.add("stdout", "c")
    console.add("stderr", "this is too long")
    assert console.take() == [
        ["stdout", "ab"],
        ["image/png", "data:x"],
        ["stdout", "c"],
        ["stderr", "[16 characters of output dropped: fetch it with mode 'continued']\n"],
    ]
    assert console.take() == []


def test_an_execution_reports_what_it_is_doing():
    execution = Execution("run-1")
    execution.output("stdout", "x")
    assert execution.result() == {
        "runId": "run-1",
        "status": "continued",
        "exitCode": None,
        "console": [["stdout", "x"]],
        "options": {},
    }
    execution.ask("who? ", password=True)
    assert execution.result()["status"] == "waiting-input"
    assert execution.result()["options"] == {"prompt": "who? ", "is_password": True}
    asyncio.run(execution.settle(60))  # waiting for input: settled, returns at once
    execution.answered()
    execution.finish(1, error={"name": "E", "value": "v"})
    execution.finish(0)  # the first end counts
    assert execution.result() == {
        "runId": "run-1",
        "status": "finished",
        "exitCode": 1,
        "console": [],
        "options": {"error": {"name": "E", "value": "v"}},
    }


def test_upload_names_stay_inside_the_session_folder(tmp_path: Path):
    runtime = SessionRuntime("python", tmp_path, None, {}, 60, lambda: None)
    assert runtime.upload_path("src/pkg/mod.py") == tmp_path / "work" / "src" / "pkg" / "mod.py"
    for name in ("../escape.py", "/etc/passwd", "a/../../b", "", "a\\b"):
        with pytest.raises(RequestError, match="must be a relative path"):
            runtime.upload_path(name)


def test_the_default_build_follows_the_uploaded_files(tmp_path: Path):
    packages = tmp_path / "packages"
    assert default_build(tmp_path, "/py/bin/python", packages) == []
    (tmp_path / "requirements.txt").write_text("requests\n")
    (tmp_path / "setup.py").write_text("")
    pip = f"/py/bin/python -m pip install --disable-pip-version-check --upgrade --target {packages}"
    assert default_build(tmp_path, "/py/bin/python", packages) == [f"{pip} -r requirements.txt", f"{pip} ."]


def test_idle_timeout_belongs_to_session_tasks():
    spec = validate(TaskSpec, {"function": "store://p/function/python/f:1", "action": "session", "idle_timeout": 60})
    assert spec.idle_timeout == 60
    with pytest.raises(SpecError, match="idle_timeout applies to session tasks only, not job: remove it"):
        validate(TaskSpec, {"function": "store://p/function/python/f:1", "action": "job", "idle_timeout": 60})
    with pytest.raises(SpecError, match="idle_timeout"):
        validate(TaskSpec, {"function": "store://p/function/python/f:1", "action": "session", "idle_timeout": 0})


def test_the_kernel_process_names_the_contracts_session_variables() -> None:
    from digitalhub_runtime_python.contract import ENV_SESSION_PREFIX
    from digitalhub_runtime_python.sessions.process import SESSION_VARIABLES

    assert SESSION_VARIABLES == ENV_SESSION_PREFIX
