"""Runs as DigitalHub hands them out: result/output/outputs/inputs, the injected ``run`` argument, and metrics
logged from inside a handler (through ``run`` or ``context``) and after, shown by dhrun describe and compared by
dhrun get runs --metrics."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.cli import main
from digitalhub_runtime_python.models.metrics import merge_metric
from digitalhub_runtime_python.models.states import State

TRAIN = """
import pandas as pd
from digitalhub_runtime_python import handler

@handler(outputs=["scores", "best"])
def train(run, context, data, epochs: int):
    for epoch in range(epochs):
        run.log_metric("loss", 1.0 / (epoch + 1))
    context.log_metrics({"acc": 0.9, "epochs": epochs})
    context.log_metric("acc", 0.95)
    return pd.DataFrame({"epoch": list(range(epochs))}), run.id
"""


@pytest.fixture
def trained(project: dh.Project, write) -> dh.Run:
    data = project.log_dataitem("data", data=pd.DataFrame({"x": [1, 2]}))
    fn = project.new_function("train", code_src=str(write("train.py", TRAIN)), handler="train")
    run = fn.run(inputs={"data": data.key}, parameters={"epochs": 3}, outputs={"scores": "epoch-scores"})
    assert run.status.state == State.COMPLETED, run.status.message
    return run


def test_results_outputs_and_inputs(trained: dh.Run, project: dh.Project) -> None:
    assert trained.result("best") == trained.id  # the handler got its own Run as `run`
    assert trained.result("missing") is None
    scores = project.get_dataitem("epoch-scores")
    assert trained.output("epoch-scores").key == scores.key
    assert trained.output("epoch-scores", as_key=True) == scores.key
    assert trained.output("epoch-scores", as_dict=True)["spec"]["rows"] == 3
    assert trained.output("nothing") is None
    assert {name: obj.key for name, obj in trained.outputs().items()} == {"epoch-scores": scores.key}
    assert trained.outputs(as_key=True) == {"epoch-scores": scores.key}
    assert trained.outputs(as_dict=True)["epoch-scores"]["key"] == scores.key
    assert trained.inputs()["data"].key == project.get_dataitem("data").key
    assert trained.inputs(as_dict=True)["data"]["name"] == "data"


def test_metrics_logged_inside_and_after(trained: dh.Run) -> None:
    assert trained.metrics == {"loss": [1.0, 0.5, 1 / 3], "acc": [0.9, 0.95], "epochs": 3}
    trained.log_metric("loss", [0.2, 0.1])
    trained.log_metric("f1", 0.8, single_value=True)
    trained.log_metric("f1", 0.9, single_value=True)  # a single value is set once
    trained.log_metrics({"epochs": 5, "lr": [0.1, 0.01]}, overwrite=True)
    again = dh.get_run(trained.key)
    assert again.metrics == {
        "loss": [1.0, 0.5, 1 / 3, 0.2, 0.1],
        "acc": [0.9, 0.95],
        "epochs": 5,
        "f1": 0.8,
        "lr": [0.1, 0.01],
    }
    with pytest.raises(dh.SpecError, match="metric 'bad': 'high' is not a metric value"):
        trained.log_metric("bad", "high")
    with pytest.raises(dh.SpecError, match="not a metric value"):
        trained.log_metrics({"nan": float("nan")})
    assert "bad" not in trained.metrics and "nan" not in trained.metrics


def test_metric_merging_follows_digitalhub() -> None:
    assert merge_metric({}, "a", 1) == {"a": [1]}
    assert merge_metric({"a": 1}, "a", 2) == {"a": [1, 2]}
    assert merge_metric({"a": [1]}, "a", [2, 3]) == {"a": [1, 2, 3]}
    assert merge_metric({"a": [1]}, "a", [5], overwrite=True) == {"a": [5]}
    assert merge_metric({}, "a", 1, single_value=True) == {"a": 1}
    assert merge_metric({"a": 1}, "a", 2, single_value=True) == {"a": 1}
    assert merge_metric({"a": 1}, "a", 2, overwrite=True, single_value=True) == {"a": 2}
    for bad in (True, "1", None, float("inf"), [1, "x"]):
        with pytest.raises(ValueError, match="not a metric value"):
            merge_metric({}, "a", bad)


def test_run_is_a_reserved_argument(project: dh.Project) -> None:
    fn = project.new_function("f", code="def f(run):\n    return run.key\n", handler="f")
    run = fn.run()
    assert run.result("output_0") == run.key
    refused = fn.run(parameters={"run": "mine"})
    assert refused.status.state == State.ERROR and "reserved names" in refused.status.message


def test_a_run_in_a_child_process_logs_metrics_too(project: dh.Project, write) -> None:
    fn = project.new_function(
        "f", code="def f(run):\n    run.log_metric('step', 1)\n    run.log_metric('step', 2)\n", handler="f"
    )
    run = fn.run(isolation="subprocess", wait=True)
    assert run.status.state == State.COMPLETED and run.metrics == {"step": [1, 2]}


def test_describe_shows_metrics_and_get_runs_compares_them(home: Path, trained: dh.Run, project: dh.Project) -> None:
    other = project.new_function("g", code="def g(run):\n    run.log_metric('acc', 0.5)\n", handler="g").run()
    runner = CliRunner()
    described = runner.invoke(main, ["-P", "demo", "describe", trained.id], catch_exceptions=False)
    assert yaml.safe_load(described.output)["status"]["metrics"]["acc"] == [0.9, 0.95]

    table = runner.invoke(main, ["-P", "demo", "get", "runs", "--metrics", "acc,loss"], catch_exceptions=False)
    assert table.exit_code == 0, table.output
    header, *rows = [line for line in table.output.splitlines() if line.strip()]
    edges = {name: header.index(name) + len(name) for name in ("ACC", "LOSS")}  # metric columns align right

    def cell(row: str, column: str) -> str:
        edge = edges[column]
        return "" if row[edge - 1] == " " else row[:edge].split()[-1]

    by_id = {row.split()[0]: row for row in rows}
    assert [cell(by_id[trained.id[:8]], c) for c in edges] == ["0.95", "0.333333"]  # the last of each series
    assert [cell(by_id[other.id[:8]], c) for c in edges] == ["0.5", ""]  # no loss logged: blank
    refused = runner.invoke(main, ["-P", "demo", "get", "functions", "--metrics", "acc"])
    assert refused.exit_code == 2 and "--metrics" in refused.output
