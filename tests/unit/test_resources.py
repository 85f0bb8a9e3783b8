"""Entities <-> custom resources: names, labels, round trips and hand-written CRs."""

from __future__ import annotations

import re

import pytest

from digitalhub_runtime_python.models.errors import SpecError
from digitalhub_runtime_python.models.function import Function
from digitalhub_runtime_python.models.keys import parse_key
from digitalhub_runtime_python.models.project import Project
from digitalhub_runtime_python.models.resources import (
    LABEL_ID,
    LABEL_NAME,
    LABEL_PROJECT,
    cr_name,
    dns_name,
    from_resource,
    to_resource,
)
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.models.task import Task
from tests.kube.samples import sample_entities

DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


@pytest.mark.parametrize(
    "name, expected",
    [
        ("train", "train"),
        ("train_model", "train-model"),
        ("v1.2", "v1.2"),
        ("a._b", "a-b"),
        ("a.-b", "a-b"),
        ("x_.y", "x-y"),
    ],
)
def test_dns_names(name, expected):
    assert dns_name(name) == expected and DNS_SUBDOMAIN.match(expected)


def test_cr_names():
    assert cr_name("function", "train_model", "abc123") == "train-model-abc123"
    assert cr_name("run", "abc123", "abc123") == "abc123"
    assert cr_name("project", "my_project", None) == "my-project"
    with pytest.raises(ValueError, match="id 'Bad_Id' cannot name a custom resource"):
        cr_name("function", "f", "Bad_Id")


@pytest.mark.parametrize("entity", sample_entities(), ids=lambda e: f"{e.ENTITY_TYPE}-{e.kind}")
def test_round_trip(entity):
    resource = to_resource(entity, "team-a")
    meta = resource["metadata"]
    assert DNS_SUBDOMAIN.match(meta["name"]) and len(meta["name"]) <= 253
    assert meta["labels"][LABEL_PROJECT] == entity.project and meta["labels"][LABEL_NAME] == entity.name
    assert meta["labels"][LABEL_ID] == entity.id
    assert from_resource(type(entity), resource) == entity


def test_hand_written_run_refers_to_latest_function_and_task():
    run = from_resource(
        Run,
        {
            "apiVersion": "digitalhub.io/v1alpha1",
            "kind": "Run",
            "metadata": {"name": "nightly", "namespace": "team-a", "creationTimestamp": "2026-01-02T03:04:05Z"},
            "spec": {"function": "train", "task": "train-job", "action": "job", "parameters": {"n": 1}},
        },
    )
    assert (run.project, run.name, run.id) == ("team-a", "nightly", "nightly")
    assert run.spec.function == "store://team-a/function/python/train"
    assert parse_key(run.spec.function).id is None  # latest
    assert run.spec.task == "store://team-a/task/python+job/train-job"
    assert run.status.state == "CREATED" and run.metadata.created.year == 2026
    assert cr_name("run", run.name, run.id) == "nightly"


def test_hand_written_task_and_function_get_their_kind():
    task = from_resource(
        Task, {"metadata": {"name": "t", "namespace": "ns"}, "spec": {"function": "f", "action": "serve"}}
    )
    assert task.kind == "python+serve" and task.spec.function == "store://ns/function/python/f"
    function = from_resource(
        Function, {"metadata": {"name": "f", "namespace": "ns"}, "spec": {"code": "x=1", "handler": "f"}}
    )
    assert function.kind == "python" and function.key == "store://ns/function/python/f:f"


def test_project_without_labels_keeps_a_stable_id():
    obj = {"metadata": {"name": "team-a", "namespace": "team-a", "uid": "1234"}, "spec": {}}
    assert from_resource(Project, obj).id == from_resource(Project, obj).id == "1234"


def test_invalid_cr_names_the_resource_and_field():
    with pytest.raises(SpecError) as info:
        from_resource(Function, {"metadata": {"name": "f", "namespace": "ns"}, "spec": {"handler": "f"}})
    assert "Function ns/f" in str(info.value) and "give exactly one of code_src, code or base64" in str(info.value)


def test_hand_written_run_with_a_wrong_action_names_the_field():
    with pytest.raises(SpecError) as info:
        from_resource(
            Run,
            {"metadata": {"name": "r", "namespace": "ns"}, "spec": {"function": "f", "task": "t", "action": "jobb"}},
        )
    assert info.value.fields == ["spec.action"]


def test_broken_metadata_annotation_names_it():
    obj = to_resource(sample_entities()[1], "ns")
    obj["metadata"]["annotations"]["digitalhub.io/metadata"] = "{broken"
    with pytest.raises(SpecError) as info:
        from_resource(Function, obj)
    assert info.value.fields == ["metadata.annotations[digitalhub.io/metadata]"]
