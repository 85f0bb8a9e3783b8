"""The dhrun command line, through click's runner and once as a real process."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from digitalhub_runtime_python.cli import main, short_ids, split_target
from digitalhub_runtime_python.models.crds import build_crds, render_crds


@pytest.fixture
def cli(home: Path):
    runner = CliRunner()

    def invoke(*args: str) -> click.testing.Result:
        return runner.invoke(main, ["--project", "demo", *args], catch_exceptions=False)

    return invoke


@pytest.fixture
def run_ids(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Runs get the ids pushed onto the returned list, in order (so tests can make prefixes collide)."""
    queue: list[str] = []
    fallback = (f"{n:032x}" for n in itertools.count(1))
    monkeypatch.setattr(
        "digitalhub_runtime_python.entities.task.new_id", lambda: queue.pop(0) if queue else next(fallback)
    )
    return queue


def test_run_get_logs_describe(cli, write) -> None:
    write("src/add.py", "def add(a, b):\n    print('adding', a, b)\n    return a + b\n")
    result = cli("run", "src/add.py:add", "-p", "a=40", "-p", "b=2")
    assert result.exit_code == 0, result.output
    assert "COMPLETED" in result.output and "42" in result.output
    assert "adding" not in result.output  # the run's output is in its logs, for in-process runs as for children
    [run] = json.loads(cli("get", "runs", "-o", "json").output)
    assert run["status"]["results"] == {"output_0": 42}
    assert cli("logs", run["id"]).output == "adding 40 2\n"
    assert cli("logs", run["key"]).output == "adding 40 2\n"
    described = cli("describe", run["id"])
    assert f"key: {run['key']}" in described.output
    table = cli("get", "runs").output
    assert run["id"][:8] in table and run["id"] not in table and "COMPLETED" in table
    assert "add" in cli("get", "functions").output


def test_failed_run_exits_1_with_message(cli, write) -> None:
    write("src/add.py", "def add(a, b):\n    return a + b\n")
    result = cli("run", "src/add.py:add", "-p", "a=1")
    assert result.exit_code == 1
    assert "missing required argument(s) 'b'" in result.output


def test_argument_typo_names_the_unknown_and_the_missing_and_suggests(cli, write) -> None:
    write("add.py", "def add(a, b):\n    return a + b\n")
    result = cli("run", "add.py:add", "-p", "a=40", "-p", "bb=2")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: ArgumentError: handler has no argument(s) 'bb'; missing required argument(s) 'b': "
        "did you mean 'b' instead of 'bb'?\n"
    )


@pytest.mark.parametrize("isolation", [[], ["--subprocess"]])
def test_a_failure_is_shown_once_the_same_way_in_process_and_in_a_child(cli, write, isolation) -> None:
    write("boom.py", "def boom():\n    print('about to fail')\n    return 1 / 0\n")
    result = cli("run", "boom.py:boom", *isolation)
    assert result.exit_code == 1
    [run] = json.loads(cli("get", "runs", "-o", "json").output)
    short = run["id"][:8]
    assert result.stdout.split() == ["run", short, "state", "ERROR"]
    assert result.stderr == f"error: ZeroDivisionError: division by zero (traceback: dhrun logs {short} -P demo)\n"
    logs = cli("logs", short).output
    assert logs.startswith("about to fail\nTraceback") and logs.count("ZeroDivisionError: division by zero") == 1


@pytest.mark.parametrize("isolation", [[], ["--subprocess"]])
def test_a_spec_problem_is_one_line(cli, write, isolation) -> None:
    write("f.py", "def f(a):\n    return a\n")
    result = cli("run", "f.py:f", *isolation)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: ArgumentError: missing required argument(s) 'a': pass them in parameters or inputs\n"
    )


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


def test_json_and_yaml_are_a_list_for_get_and_an_object_for_describe(cli, write) -> None:
    write("f.py", "def f():\n    return 1\n")
    for count in range(3):
        runs = json.loads(cli("get", "runs", "-o", "json").output)
        assert isinstance(runs, list) and len(runs) == count
        listed = yaml.safe_load(cli("get", "runs", "-o", "yaml").output)
        assert isinstance(listed, list) and len(listed) == count
        cli("run", "f.py:f")
    run_id = runs[0]["id"]
    described = json.loads(cli("describe", run_id, "-o", "json").output)
    assert isinstance(described, dict) and described["id"] == run_id
    assert yaml.safe_load(cli("describe", run_id).output)["id"] == run_id


def test_project_option_before_or_after_the_subcommand(home: Path, write) -> None:
    write("f.py", "def f():\n    return 1\n")
    runner = CliRunner()

    def runs(*args: str) -> list[dict]:
        result = runner.invoke(main, [*args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    assert runner.invoke(main, ["run", "f.py:f", "--project", "after"]).exit_code == 0
    assert runner.invoke(main, ["-P", "before", "run", "f.py:f"]).exit_code == 0
    assert [r["project"] for r in runs("get", "runs", "-o", "json", "--project", "after")] == ["after"]
    assert [r["project"] for r in runs("--project", "before", "get", "runs", "-o", "json")] == ["before"]
    assert [r["project"] for r in runs("-P", "before", "get", "runs", "-o", "json", "-P", "after")] == ["after"]
    assert runs("get", "runs", "-o", "json") == []  # the default project has none


def test_short_ids_in_tables_and_messages_and_prefixes_as_run(cli, write, run_ids: list[str]) -> None:
    write("f.py", "def f():\n    print('hi')\n    return 1\n")
    run_ids.extend(["abcdef0123" + "0" * 22, "abcdef0124" + "0" * 22, "99999999" + "0" * 24])
    for _ in range(3):
        assert cli("run", "f.py:f").exit_code == 0
    table = cli("get", "runs").output
    assert re.findall(r"^ (\S+) ", table, re.MULTILINE)[1:] == ["99999999", "abcdef0124", "abcdef0123"]
    assert cli("logs", "abcdef01240").output == "hi\n"
    assert cli("logs", "9999").output == "hi\n"
    assert "key: store://demo/run/python+run/99999999" in cli("describe", "999").output
    ambiguous = cli("logs", "abcdef")
    assert ambiguous.exit_code == 2
    assert ambiguous.stderr == "error: 'abcdef' is the start of 2 runs (abcdef0123, abcdef0124): give more characters\n"
    missing = cli("logs", "deadbeef")
    assert missing.stderr == "error: no run 'deadbeef' in project 'demo': `dhrun get runs` lists them\n"
    assert cli("stop", "9999").output == "99999999: COMPLETED\n"


def test_short_ids_are_unique_prefixes_of_at_least_8() -> None:
    ids = ["aaaaaaaa11", "aaaaaaaa12", "aaaaaaab00", "b" * 10, "c" * 4]
    assert short_ids(ids) == {
        "aaaaaaaa11": "aaaaaaaa11",
        "aaaaaaaa12": "aaaaaaaa12",
        "aaaaaaab00": "aaaaaaab",
        "b" * 10: "b" * 8,
        "c" * 4: "c" * 4,
    }


def test_serve_invoke_stop_resume(cli, write) -> None:
    write("svc.py", "def echo(event):\n    return {'method': event.method, 'got': event.body}\n")
    started = cli("run", "svc.py:echo", "--action", "serve")
    run_id = json.loads(cli("get", "runs", "-o", "json").output)[0]["id"]
    try:
        assert started.exit_code == 0, started.output
        assert "RUNNING" in started.output and "endpoint" in started.output
        answer = cli("invoke", run_id, "--json", '{"x": 1}')
        assert answer.exit_code == 0, answer.output
        assert json.loads(answer.output) == {"method": "POST", "got": {"x": 1}}
        meta = cli("invoke", run_id[:8], "meta")  # no body: GET
        assert meta.exit_code == 0, meta.output
        assert json.loads(meta.output)["handler"]["name"] == "echo"
        assert cli("invoke", run_id, "meta", "-X", "post").exit_code == 1  # -X still wins: 405
        assert json.loads(cli("invoke", run_id, "-X", "PUT").output) == {"method": "PUT", "got": None}
        assert cli("stop", run_id).output == f"{run_id[:8]}: STOPPED\n"
        assert "RUNNING" in cli("resume", run_id).output
        assert json.loads(cli("invoke", run_id, "--data", "plain").output) == {"method": "POST", "got": "plain"}
    finally:
        cli("stop", run_id)


def test_serve_refuses_no_wait_and_timeout(cli, write) -> None:
    write("svc.py", "def echo(event):\n    return 1\n")
    for option in (["--no-wait"], ["--timeout", "5"]):
        result = cli("run", "svc.py:echo", "--action", "serve", *option)
        assert result.exit_code == 2
        assert "--no-wait and --timeout are for jobs: a serve run returns once it serves or failed" in result.output
    assert json.loads(cli("get", "runs", "-o", "json").output) == []


def test_build_takes_instructions_and_refuses_what_is_for_jobs(cli, write, monkeypatch, tmp_path: Path) -> None:
    write("train.py", "def train():\n    return 1\n")
    for option in (["--no-wait"], ["--timeout", "5"], ["--subprocess"]):
        result = cli("run", "train.py:train", "--action", "build", *option)
        assert result.exit_code == 2 and "are for jobs: a build returns once it ended" in result.output
    assert cli("run", "train.py:train", "--instruction", "true").exit_code == 2  # a job has no instructions
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/absent.sock")
    args = ["--base-image", "python:3.12-slim", "--python-version", "PYTHON3_12", "--instruction", "apt-get update"]
    result = cli("run", "train.py:train", "--action", "build", *args)
    assert result.exit_code == 1 and "cannot reach a Docker engine" in result.stderr
    [run] = json.loads(cli("get", "runs", "-o", "json").output)
    dockerfile = run["status"]["build"]["dockerfile"]
    assert "FROM python:3.12-slim\n" in dockerfile and "RUN apt-get update\n" in dockerfile


def test_crds_print_to_stdout_for_kubectl(cli, tmp_path: Path) -> None:
    result = cli("crds")
    assert result.exit_code == 0
    assert list(yaml.safe_load_all(result.output)) == build_crds()
    assert not (tmp_path / "charts").exists()


def test_crds_written_into_a_folder_when_given(cli, tmp_path: Path) -> None:
    result = cli("crds", str(tmp_path / "crds"))
    assert result.exit_code == 0
    written = {path.name: path.read_text() for path in (tmp_path / "crds").iterdir()}
    assert written == render_crds() and "runs.digitalhub.io.yaml" in written
    assert str(tmp_path / "crds" / "runs.digitalhub.io.yaml") in result.output


def test_info_shows_backend_store_project_versions_and_extras(cli, home: Path, monkeypatch) -> None:
    monkeypatch.setattr("digitalhub_runtime_python.cli.console.width", 300)  # paths on one line
    result = cli("info")
    assert result.exit_code == 0
    assert re.search(r"^ backend +local *$", result.output, re.MULTILINE)
    assert re.search(rf"^ store +{re.escape(str(home))} \(DIGITALHUB_HOME\) *$", result.output, re.MULTILINE)
    assert re.search(r"^ project +demo *$", result.output, re.MULTILINE)
    assert re.search(r"^ version +digitalhub-runtime-python \S+, Python 3\.\d+\.\d+ *$", result.output, re.MULTILINE)
    assert re.search(r"^ extra serve +yes *$", result.output, re.MULTILINE)


def test_every_help_shows_an_example() -> None:
    runner = CliRunner()
    for command in [[], *([name] for name in main.commands)]:
        text = runner.invoke(main, [*command, "--help"]).output
        assert text.startswith(f"Usage: dhrun {' '.join(command)}".rstrip() + " [OPTIONS]"), text
        assert "Examples:\n    dhrun " + " ".join(command) in text, command
    assert "Exit codes:\n    0 " in runner.invoke(main, ["run", "--help"]).output
