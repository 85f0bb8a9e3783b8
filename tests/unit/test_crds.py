"""CRDs generated from the models: committed files up to date, valid for Kubernetes, accepting every entity."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from digitalhub_runtime_python.models.crds import build_crds, json_schema, main, render_crds
from digitalhub_runtime_python.models.resources import RESOURCE_TYPES, to_resource
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
    run_columns = [c["name"] for c in crds["Run"]["spec"]["versions"][0]["additionalPrinterColumns"]]
    assert [c for c in run_columns if c != "Message"] == ["State", "Function", "Action", "Age"]


def test_schemas_are_structural():
    def walk(node: dict, path: str) -> None:
        assert "$ref" not in node and "anyOf" not in node and "title" not in node and "default" not in node, path
        assert "type" in node or node.get("x-kubernetes-preserve-unknown-fields"), f"{path} has no type"
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
