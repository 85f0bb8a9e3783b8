"""The CRDs' CEL rules (``x-kubernetes-validations``), evaluated with a CEL implementation (cel-python): they are
where the models say, and they refuse exactly what the SDK refuses (the test emulator evaluates no CEL)."""

from __future__ import annotations

from typing import Any

import celpy
import pytest

from digitalhub_runtime_python.models.cel import IMMUTABLE_SPEC
from digitalhub_runtime_python.models.crds import build_crds
from digitalhub_runtime_python.models.errors import SpecError, validate
from digitalhub_runtime_python.models.run import RunSpec
from digitalhub_runtime_python.models.task import ACTION_ONLY, TaskSpec

ENV = celpy.Environment()
SAMPLE_VALUES: dict[str, Any] = {
    "backoff_limit": 1,
    "active_deadline_seconds": 60,
    "concurrency_policy": "Forbid",
    "suspend": True,
    "successful_jobs_history_limit": 2,
    "failed_jobs_history_limit": 1,
    "replicas": 2,
    "service_type": "NodePort",
    "service_name": "svc",
    "instructions": ["RUN pip install x"],
    "job_store": {"url": "redis://redis:6379/0"},
    "idle_timeout": 600,
}


def spec_rules(kind: str) -> list[dict[str, Any]]:
    crd = next(c for c in build_crds() if c["spec"]["names"]["kind"] == kind)
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    return spec.get("x-kubernetes-validations", [])


def failing(rules: list[dict[str, Any]], new: dict[str, Any], old: dict[str, Any] | None = None) -> list[str]:
    """Messages of the rules ``new`` breaks (transition rules only when there is an ``old``, as on update)."""
    broken = []
    for entry in rules:
        if "oldSelf" in entry["rule"] and old is None:
            continue
        activation = {"self": celpy.json_to_cel(new)}
        if old is not None:
            activation["oldSelf"] = celpy.json_to_cel(old)
        if not ENV.program(ENV.compile(entry["rule"])).evaluate(activation):
            broken.append(entry["message"])
    return broken


def sdk_refuses(model: type, document: dict[str, Any]) -> bool:
    try:
        validate(model, document)
    except SpecError:
        return False
    return True


@pytest.mark.parametrize("kind", ["Function", "Task", "Run"])
def test_specs_of_versions_and_runs_are_immutable(kind):
    rules = spec_rules(kind)
    assert rules[0]["rule"] == IMMUTABLE_SPEC and "immutable" in rules[0]["message"]
    spec = {"function": "f", "action": "job", "handler": "main", "parameters": {"n": 1}}
    assert failing(rules[:1], spec, dict(spec)) == []
    assert failing(rules[:1], {**spec, "handler": "other"}, spec) == [rules[0]["message"]]


@pytest.mark.parametrize("kind", ["Project", "Dataitem", "Artifact", "Model"])
def test_other_specs_stay_editable(kind):
    assert all(entry["rule"] != IMMUTABLE_SPEC for entry in spec_rules(kind))


def test_every_action_only_task_field_has_a_rule_reporting_at_the_field():
    paths = {entry.get("fieldPath") for entry in spec_rules("Task")}
    assert {f".{field}" for field in ACTION_ONLY} <= paths
    assert set(SAMPLE_VALUES) == set(ACTION_ONLY)


@pytest.mark.parametrize("field", sorted(ACTION_ONLY))
@pytest.mark.parametrize("action", ["job", "serve", "build", "session"])
def test_task_rules_refuse_what_the_sdk_refuses(field, action):
    spec = {"function": "store://demo/function/python/f", "action": action, field: SAMPLE_VALUES[field]}
    broken = failing(spec_rules("Task"), spec)
    allowed = ACTION_ONLY[field].value == action
    assert (broken == []) is allowed, broken
    assert sdk_refuses(TaskSpec, spec) is allowed
    if not allowed:
        assert field in broken[0]


def test_an_empty_list_counts_as_unset():
    assert failing(spec_rules("Task"), {"function": "f", "action": "job", "instructions": []}) == []


@pytest.mark.parametrize(
    ("extra", "allowed"),
    [
        ({}, True),
        ({"schedule": "0 3 * * *"}, True),
        ({"schedule": "0 3 * * *", "action": "serve"}, False),
        ({"schedule": "@daily", "local_execution": True}, False),
        ({"local_execution": True}, True),
    ],
)
def test_run_rules_refuse_what_the_sdk_refuses(extra, allowed):
    spec = {"task": "store://demo/task/python+job/t", "function": "store://demo/function/python/f", "action": "job"}
    spec.update(extra)
    assert (failing(spec_rules("Run"), spec) == []) is allowed
    assert sdk_refuses(RunSpec, spec) is allowed
