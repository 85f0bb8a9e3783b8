"""Schedules in the SDK and the CLI: refused here with a message saying what to do, checked before anything is
stored, and made into a schedule run on the kubernetes backend (the operator's side is in the operator tests)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.cli import main
from digitalhub_runtime_python.models.errors import SpecError
from digitalhub_runtime_python.models.states import State

pytestmark = pytest.mark.integration

CODE = "def double(x=1):\n    return 2 * x\n"


def test_a_local_schedule_is_refused_before_anything_is_stored(project: dh.Project) -> None:
    function = project.new_function("double", code=CODE, handler="double")
    with pytest.raises(NotImplementedError, match="kubernetes backend.*cron or a systemd timer"):
        function.run("job", schedule="0 3 * * *")
    assert project.list_runs() == []


def test_dhrun_run_schedule_is_refused_locally_in_one_line(home: Path, tmp_path: Path) -> None:
    (tmp_path / "f.py").write_text(CODE)
    result = CliRunner().invoke(main, ["run", "f.py:double", "--schedule", "0 3 * * *"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: schedule: scheduled runs need the kubernetes backend")


def test_dhrun_run_schedule_is_for_jobs_that_return_at_once(home: Path, tmp_path: Path) -> None:
    (tmp_path / "f.py").write_text(CODE)
    result = CliRunner().invoke(main, ["run", "f.py:double", "--schedule", "@daily", "--action", "serve"])
    assert result.exit_code == 2 and "--schedule is for jobs" in result.stderr


def test_a_schedule_on_kubernetes_is_a_run_that_the_operator_schedules(kube) -> None:
    project = dh.get_or_create_project("demo", backend="kubernetes")
    function = project.new_function("double", code=CODE, handler="double")
    with pytest.raises(SpecError) as error:
        function.run("job", schedule="every night")
    assert "schedule" in str(error.value)
    with pytest.raises(SpecError, match="schedule applies to job runs only"):
        function.run("serve", schedule="@daily")
    run = function.run("job", schedule="0 3 * * *", parameters={"x": 4}, concurrency_policy="Forbid")
    assert run.spec.schedule == "0 3 * * *" and run.status.state == State.CREATED
    task = project.backend.store.get_key(run.spec.task)
    assert task.spec.concurrency_policy == "Forbid"
    run.stop()
    run.resume()  # a schedule resumes, as a serve run does (the operator schedules it again)
    assert run.refresh().status.state == State.READY
