"""examples/*.yaml, the custom resources users apply by hand, validate against the chart's CRDs and load as entities."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from digitalhub_runtime_python.models.crds import json_schema
from digitalhub_runtime_python.models.resources import API_VERSION, RESOURCE_TYPES, from_resource

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CRDS = ROOT / "charts" / "digitalhub" / "crds"
MANIFESTS = ["function.yaml", "task.yaml", "run.yaml", "scheduled-task.yaml"]


def documents(name: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((EXAMPLES / name).read_text()) if doc]


def crd_schema(kind: str) -> dict[str, Any]:
    plural = next(rt.plural for rt in RESOURCE_TYPES.values() if rt.kind == kind)
    crd = yaml.safe_load((CRDS / f"{plural}.digitalhub.io.yaml").read_text())
    return json_schema(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])


def test_every_example_manifest_is_checked():
    assert sorted(p.name for p in EXAMPLES.glob("*.yaml")) == sorted(MANIFESTS)


@pytest.mark.parametrize(
    "name",
    MANIFESTS,
)
def test_example_validates_against_its_crd_and_loads(name):
    for doc in documents(name):
        assert doc["apiVersion"] == API_VERSION
        jsonschema.Draft4Validator(crd_schema(doc["kind"])).validate(doc)  # refuses fields the server would prune
        model = next(rt.model for rt in RESOURCE_TYPES.values() if rt.kind == doc["kind"])
        entity = from_resource(model, {**doc, "metadata": {**doc["metadata"], "namespace": "team-a"}})
        assert entity.project == "team-a" and entity.name == doc["metadata"]["name"]


def test_the_run_names_the_example_function_and_task():
    (function,), (task,), (run,) = documents("function.yaml"), documents("task.yaml"), documents("run.yaml")
    assert run["spec"]["function"] == task["spec"]["function"] == function["metadata"]["name"]
    assert run["spec"]["task"] == task["metadata"]["name"] and run["spec"]["action"] == task["spec"]["action"]
    scheduled_task, schedule = documents("scheduled-task.yaml")
    assert scheduled_task["spec"]["function"] == schedule["spec"]["function"] == function["metadata"]["name"]
    assert schedule["spec"]["task"] == scheduled_task["metadata"]["name"] and schedule["spec"]["schedule"]
