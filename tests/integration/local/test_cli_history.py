"""``dhrun get runs`` on a long history (newest 50, footer, filters, --limit, --all, streamed json/yaml) and
``dhrun prune runs``."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import yaml
from click.testing import CliRunner

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.cli import main
from digitalhub_runtime_python.models.base import now
from digitalhub_runtime_python.models.states import State
from tests.history import make_run


@pytest.fixture
def cli(project: dh.Project):
    runner = CliRunner()
    return lambda *args: runner.invoke(main, ["--project", "demo", *args], catch_exceptions=False)


@pytest.fixture
def sixty(project: dh.Project) -> list:
    """60 runs, a minute apart, the newest a minute old: every 3rd in ERROR, every 4th of function ``score``."""
    start = now() - timedelta(hours=1)
    return [
        project.backend.store.create(
            make_run(
                n,
                "score" if n % 4 == 0 else "train",
                "s1" if n % 4 == 0 else "v1",
                state=State.ERROR if n % 3 == 0 else State.COMPLETED,
                created=start + timedelta(minutes=n),
                project="demo",
            )
        )
        for n in range(60)
    ]


def rows(table: str) -> list[str]:
    """The short ids of a run table's rows."""
    return re.findall(r"^ (run-\d+)", table, re.MULTILINE)


def test_get_runs_shows_the_newest_50_with_a_footer(cli, sixty) -> None:
    result = cli("get", "runs")
    assert result.exit_code == 0, result.output
    assert rows(result.stdout) == [run.id for run in reversed(sixty)][:50]
    assert result.stdout.splitlines()[-1].strip() == "50 of 60 · --limit N · --all"
    limited = cli("get", "runs", "--limit", "5").stdout
    assert rows(limited) == ["run-059", "run-058", "run-057", "run-056", "run-055"]
    assert limited.splitlines()[-1].strip() == "5 of 60 · --limit N · --all"
    everything = cli("get", "runs", "--all").stdout
    assert len(rows(everything)) == 60 and "--all" not in everything  # all shown: no footer
    assert "of" not in cli("get", "runs", "--limit", "60").stdout.splitlines()[-1]


def test_get_runs_filters(cli, sixty) -> None:
    failed = cli("get", "runs", "--state", "ERROR", "--all").stdout
    assert rows(failed) == [f"run-{n:03d}" for n in range(57, -1, -3)] and "COMPLETED" not in failed
    scored = cli("get", "runs", "--function", "score", "--state", "ERROR").stdout
    assert rows(scored) == [f"run-{n:03d}" for n in (48, 36, 24, 12, 0)]
    assert cli("get", "runs", "--since", "2h").stdout.splitlines()[-1].strip() == "50 of 60 · --limit N · --all"
    cut = (sixty[50].metadata.created - timedelta(seconds=30)).isoformat()
    assert rows(cli("get", "runs", "--since", cut).stdout) == [f"run-{n:03d}" for n in range(59, 49, -1)]
    assert rows(cli("get", "runs", "--action", "serve").stdout) == []
    refused = cli("get", "functions", "--state", "ERROR")
    assert refused.exit_code == 2 and "--state" in refused.stderr and "dhrun get runs" in refused.stderr
    bad_time = cli("get", "runs", "--since", "yesterday")
    assert bad_time.exit_code == 2 and bad_time.stderr.startswith("error: invalid listing:")


def test_json_and_yaml_are_one_list_streamed_with_the_footer_on_stderr(cli, sixty) -> None:
    page = cli("get", "runs", "-o", "json")
    assert [run["id"] for run in json.loads(page.stdout)] == [run.id for run in reversed(sixty)][:50]
    assert page.stderr.strip() == "50 of 60 · --limit N · --all"
    everything = cli("get", "runs", "--all", "-o", "json")
    documents = json.loads(everything.stdout)
    assert len(documents) == 60 and everything.stderr == ""
    assert everything.stdout == json.dumps(documents, indent=2) + "\n"  # the same text as one json.dumps
    listed = yaml.safe_load(cli("get", "runs", "--all", "-o", "yaml").stdout)
    assert isinstance(listed, list) and len(listed) == 60
    assert json.loads(cli("get", "runs", "--state", "RUNNING", "-o", "json").stdout) == []
    assert yaml.safe_load(cli("get", "runs", "--state", "RUNNING", "-o", "yaml").stdout) == []


def test_prune_counts_then_deletes_with_yes(cli, project: dh.Project, sixty) -> None:
    cut = (sixty[30].metadata.created - timedelta(seconds=30)).isoformat()  # between two runs: no race with time
    dry = cli("prune", "runs", "--older-than", cut, "--state", "ERROR")
    assert dry.exit_code == 0, dry.output
    old_failed = [run for run in sixty if run.status.state == State.ERROR and int(run.id[-3:]) < 30]
    assert dry.stdout == (
        f"would delete {len(old_failed)} runs of project demo: nothing deleted (dry run); add --yes to delete\n"
    )
    assert len(dh.list_runs("demo")) == 60
    done = cli("prune", "runs", "--older-than", cut, "--state", "ERROR", "--yes")
    assert done.stdout.splitlines() == [
        f"deleting {len(old_failed)} runs of project demo",
        f"deleted {len(old_failed)} runs",
    ]
    assert {run.id for run in dh.list_runs("demo")} == {run.id for run in sixty} - {run.id for run in old_failed}
    kept = cli("prune", "runs", "--keep-last", "5", "--outputs", "--yes")
    assert kept.stdout.splitlines()[-1] == f"deleted {60 - len(old_failed) - 5} runs and 0 outputs"
    assert rows(cli("get", "runs").stdout) == ["run-059", "run-058", "run-057", "run-056", "run-055"]
    refused = cli("prune", "runs", "--state", "COMPLETED")
    assert refused.exit_code == 2 and "older_than: give older_than and/or keep_last" in refused.stderr
