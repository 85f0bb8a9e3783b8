"""The dhrun command line, through click's runner and once as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from digitalhub_runtime_python.cli import main, split_target


@pytest.fixture
def cli(home: Path):
    runner = CliRunner()

    def invoke(*args: str) -> click.testing.Result:
        return runner.invoke(main, ["--project", "demo", *args], catch_exceptions=False)

    return invoke


def test_run_get_logs_describe(cli, write) -> None:
    write("src/add.py", "def add(a, b):\n    print('adding', a, b)\n    return a + b\n")
    result = cli("run", "src/add.py:add", "-p", "a=40", "-p", "b=2")
    assert result.exit_code == 0, result.output
    assert "COMPLETED" in result.output and "42" in result.output
    runs = json.loads(cli("get", "runs", "-o", "json").output)
    run = runs if isinstance(runs, dict) else runs[0]
    assert run["status"]["results"] == {"output_0": 42}
    assert cli("logs", run["id"]).output == "adding 40 2\n"
    assert cli("logs", run["key"]).output == "adding 40 2\n"
    described = cli("describe", run["id"])
    assert f"key: {run['key']}" in described.output
    table = cli("get", "runs").output
    assert run["id"] in table and "COMPLETED" in table
    assert "add" in cli("get", "functions").output


def test_failed_run_exits_1_with_message(cli, write) -> None:
    write("src/add.py", "def add(a, b):\n    return a + b\n")
    result = cli("run", "src/add.py:add", "-p", "a=1")
    assert result.exit_code == 1
    assert "missing required argument(s) 'b'" in result.output


def test_folder_target_and_string_parameters(cli, write) -> None:
    write("app/tools/greet.py", "def hello(name):\n    return 'hi ' + name\n")
    write("app/tools/__init__.py", "")
    result = cli("run", "app:tools.greet:hello", "-p", "name=ann")
    assert result.exit_code == 0, result.output
    assert '"hi ann"' in result.output


def test_split_target(home: Path, write) -> None:
    write("src/a.py", "")
    assert split_target("src/a.py:f") == ("src/a.py", "f")
    assert split_target("src:a:f") == ("src", "a:f")
    with pytest.raises(click.BadParameter, match="not PATH:HANDLER"):
        split_target("missing.py:f")


def test_bad_parameter_syntax(cli, write) -> None:
    write("a.py", "def f(): pass")
    result = CliRunner().invoke(main, ["run", "a.py:f", "-p", "novalue"])
    assert result.exit_code == 2 and "'novalue' is not NAME=VALUE" in result.output


def test_real_process_reports_spec_errors_in_one_line(home: Path, write) -> None:
    write("a.py", "def f(): pass")
    done = subprocess.run(
        [sys.executable, "-m", "digitalhub_runtime_python.cli", "run", "a.py:f", "--python-version", "PY2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "spec.python_version" in done.stderr and "Traceback" not in done.stderr


def test_serve_invoke_stop_resume(cli, write) -> None:
    write("svc.py", "def echo(event):\n    return {'got': event.body}\n")
    started = cli("run", "svc.py:echo", "--action", "serve")
    run_id = json.loads(cli("get", "runs", "-o", "json").output)["id"]
    try:
        assert started.exit_code == 0, started.output
        assert "RUNNING" in started.output and "endpoint" in started.output
        answer = cli("invoke", run_id, "--json", '{"x": 1}')
        assert answer.exit_code == 0, answer.output
        assert json.loads(answer.output) == {"got": {"x": 1}}
        assert "STOPPED" in cli("stop", run_id).output
        assert "RUNNING" in cli("resume", run_id).output
        assert json.loads(cli("invoke", run_id, "--data", "plain").output) == {"got": "plain"}
    finally:
        cli("stop", run_id)


def test_crds_command(cli, tmp_path: Path) -> None:
    result = cli("crds", str(tmp_path / "crds"))
    assert result.exit_code == 0
    assert (tmp_path / "crds" / "runs.digitalhub.io.yaml").exists()
