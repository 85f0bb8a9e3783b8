"""Builders for the operator's pure-function tests: a run, its task and function as the store holds them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from digitalhub_operator.manifests.common import Owner, Workload
from digitalhub_operator.settings import OperatorSettings
from digitalhub_runtime_python.models.errors import validate
from digitalhub_runtime_python.models.function import Function
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.models.task import Task, task_kind

MakeWorkload = Callable[..., Workload]


def build_workload(
    action: str = "job",
    function_spec: dict[str, Any] | None = None,
    settings: OperatorSettings | None = None,
    run_spec: dict[str, Any] | None = None,
    **task_fields: Any,
) -> Workload:
    function = validate(
        Function,
        {
            "project": "demo",
            "name": "train",
            "spec": {
                "code": "def main():\n    return 1\n",
                "handler": "main",
                "python_version": "PYTHON3_11",
                **(function_spec or {}),
            },
        },
    )
    task = validate(
        Task,
        {
            "project": "demo",
            "name": f"train-{action}",
            "kind": task_kind(action),
            "spec": {"function": function.key, "action": action, **task_fields},
        },
    )
    run = validate(
        Run,
        {
            "project": "demo",
            "name": "0123abcd",
            "id": "0123abcd",
            "spec": {"task": task.key, "function": function.key, "action": action, **(run_spec or {})},
        },
    )
    owner = Owner("digitalhub.io/v1", "Run", "run-0123abcd", "0e6b6c1a-5f8e-4d57-b1d6-3f2f0e0f9a11")
    return Workload(run, task, function, "team-a", owner, settings or OperatorSettings(priority=1))


@pytest.fixture
def make_workload() -> MakeWorkload:
    return build_workload
