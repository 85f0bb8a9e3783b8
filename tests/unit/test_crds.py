"""CRDs generated from the models: committed files up to date, valid for Kubernetes, accepting every entity."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from digitalhub_runtime_python.models.crds import build_crds, json_schema, main, render_crds
from digitalhub_runtime_python.models.errors import SpecError
from digitalhub_runtime_python.models.resources import RESOURCE_TYPES, from_resource, to_resource
from digitalhub_runtime_python.models.task import Task
from tests.kube.samples import sample_entities

CRD_FOLDER = Path(__file__).resolve().parents[2] / "charts" / "digitalhub" / "crds"
ENTITY_KINDS = {"Project", "Function", "Task", "Run", "Dataitem", "Artifact", "Model"}


def crd_of(kind: str) -> dict:
    return next(crd for crd in build_crds() if crd["spec"]["names"]["kind"] == kind)


def validator(kind: str) -> jsonschema.Draft4Validator:
    schema = json_schema(crd_of(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def test_committed_crds_match_the_models():
    committed = {path.name: path.read_text() for path in CRD_FOLDER.glob("*.digitalhub.io.yaml")}  # not kopf's
    rendered = render_crds()
    assert sorted(committed) == sorted(rendered), (
        "run: python -m digitalhub_runtime_python.models.crds charts/digitalhub/crds"
    )
    for name, text in rendered.items():
        assert committed[name] == text, (
            f"{name} is out of date: run python -m digitalhub_runtime_python.models.crds charts/digitalhub/crds"
        )


@pytest.mark.parametrize("version", ["1.29", "1.33"])
def test_crds_are_valid_kubernetes_objects(version):
    crds = build_crds()
    assert sorted(crd["spec"]["names"]["kind"] for crd in crds) == sorted(ENTITY_KINDS)
    for crd in crds:
        kubernetes_validate.validate(crd, version, strict=True)


def test_one_crd_per_entity_type_with_status_and_columns():
    crds = {crd["spec"]["names"]["kind"]: crd for crd in build_crds()}
    assert set(crds) == ENTITY_KINDS
    for crd in crds.values():
        spec = crd["spec"]
        assert spec["group"] == "digitalhub.io" and spec["scope"] == "Namespaced"
        assert spec["names"]["shortNames"] and spec["names"]["categories"] == ["digitalhub"]
        (version,) = spec["versions"]
        assert version["name"] == "v1alpha1" and version["subresources"] == {"status": {}}
    run_columns = {c["name"]: c for c in crds["Run"]["spec"]["versions"][0]["additionalPrinterColumns"]}
    assert [c for c in run_columns if c != "Message"] == ["State", "Ready", "Function", "Action", "Age"]
    assert run_columns["Ready"]["jsonPath"] == '.status.conditions[?(@.type=="Ready")].status'


INT_OR_STRING = [{"type": "integer"}, {"type": "string"}]
# What a structural schema may not say under anyOf / allOf / oneOf / not (apiextensions' structural rules).
FORBIDDEN_IN_JUNCTORS = {"type", "description", "default", "additionalProperties", "nullable", "title"}


def _junctor_is_structural(node: dict, path: str) -> None:
    assert not FORBIDDEN_IN_JUNCTORS & set(node), f"{path} sets {FORBIDDEN_IN_JUNCTORS & set(node)}"
    assert not [key for key in node if key.startswith("x-kubernetes")], path
    assert "properties" not in node and "items" not in node, f"{path}: fields in junctors must also be outside"
    for key in ("anyOf", "allOf", "oneOf"):
        for index, sub in enumerate(node.get(key, [])):
            _junctor_is_structural(sub, f"{path}.{key}[{index}]")
    if "not" in node:
        _junctor_is_structural(node["not"], f"{path}.not")


def test_schemas_are_structural():
    def walk(node: dict, path: str) -> None:
        assert "$ref" not in node and "title" not in node and "default" not in node, path
        int_or_string = node.get("x-kubernetes-int-or-string")
        assert "type" in node or int_or_string or node.get("x-kubernetes-preserve-unknown-fields"), f"{path}: no type"
        assert not (int_or_string and node.get("x-kubernetes-preserve-unknown-fields")), path
        if int_or_string:
            assert node["anyOf"] == INT_OR_STRING and "type" not in node, path
        else:
            for index, sub in enumerate(node.get("anyOf", [])):
                _junctor_is_structural(sub, f"{path}.anyOf[{index}]")
        if "not" in node:
            _junctor_is_structural(node["not"], f"{path}.not")
        if "properties" in node:
            assert "additionalProperties" not in node, path
            for name, sub in node["properties"].items():
                walk(sub, f"{path}.{name}")
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                walk(node[key], f"{path}[{key}]")

    for crd in build_crds():
        walk(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"], crd["metadata"]["name"])
    task = crd_of("Task")["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    assert task["affinity"] == {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "nullable": True}
    assert task["active_deadline_seconds"]["exclusiveMinimum"] is True


@pytest.mark.parametrize("entity", sample_entities(), ids=lambda e: f"{e.ENTITY_TYPE}-{e.kind}")
def test_every_entity_validates_against_its_crd(entity):
    document = to_resource(entity, "team-a")
    kind = RESOURCE_TYPES[entity.ENTITY_TYPE].kind
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator(kind).iter_errors(document)]
    assert errors == []


def _task_cr(resources: dict) -> dict:
    return {
        "apiVersion": "digitalhub.io/v1alpha1",
        "kind": "Task",
        "metadata": {"name": "train-job", "namespace": "team-a"},
        "spec": {"function": "train", "action": "job", "resources": resources},
    }


def _sdk_accepts(document: dict) -> bool:
    try:
        from_resource(Task, document)
    except SpecError:
        return False
    return True


ACCEPTED_RESOURCES = [
    {"cpu": "500m"},
    {"cpu": 2},
    {"cpu": 0},
    {"cpu": "1.5", "mem": "512Mi", "gpu": 1},
    {"cpu": "1e3"},
    {"cpu": None},
    {"cpu": {}},
    {"cpu": {"limits": 2}},
    {"cpu": {"requests": "250m", "limits": 1}},
    {"mem": {"requests": "1Gi", "limits": "2Gi"}},
]
REFUSED_RESOURCES = [
    {"cpu": "lots"},
    {"cpu": "-1"},
    {"cpu": -1},
    {"cpu": 0.5},  # fractions are strings: "0.5" or "500m"
    {"cpu": True},
    {"cpu": [1]},
    {"cpu": []},
    {"cpu": {"request": "1"}},
    {"cpu": {"requests": "1", "limits": "2", "burst": "3"}},
    {"cpu": {"requests": "lots"}},
    {"cpu": {"limits": 0.5}},
    {"cpu": {"limits": -2}},
    {"cpu": {"requests": True}},
    {"cpus": "1"},
]


@pytest.mark.parametrize("resources", ACCEPTED_RESOURCES, ids=repr)
def test_task_crd_accepts_every_resources_form_the_sdk_accepts(resources):
    document = _task_cr(resources)
    assert _sdk_accepts(document)
    assert [e.message for e in validator("Task").iter_errors(document)] == []


@pytest.mark.parametrize("resources", REFUSED_RESOURCES, ids=repr)
def test_task_crd_refuses_every_resources_form_the_sdk_refuses(resources):
    document = _task_cr(resources)
    assert not _sdk_accepts(document)
    assert list(validator("Task").iter_errors(document)), f"the CRD accepts {resources!r}"


def test_volume_size_limits_are_quantities_in_both():
    volume = {"name": "tmp", "volume_type": "empty_dir", "mount_path": "/tmp/x"}
    for size, ok in (("1Gi", True), (1024, True), ("big", False), (1.5, False)):
        document = _task_cr({})
        document["spec"]["volumes"] = [{**volume, "size_limit": size}]
        assert _sdk_accepts(document) is ok, size
        assert (not list(validator("Task").iter_errors(document))) is ok, size


def test_fields_the_server_would_prune_are_refused():
    document = to_resource(sample_entities()[1], "team-a")
    document["spec"]["handlr"] = "typo"
    errors = list(validator("Function").iter_errors(document))
    assert errors and "handlr" in errors[0].message


def test_command_writes_the_crd_files(tmp_path, capsys):
    (tmp_path / "gone.digitalhub.io.yaml").write_text("stale")
    assert main([str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.glob("*.yaml"))
    assert written == sorted(render_crds())
    assert yaml.safe_load((tmp_path / "runs.digitalhub.io.yaml").read_text())["spec"]["names"]["plural"] == "runs"
    assert main([]) == 2
