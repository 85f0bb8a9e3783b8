"""CustomResourceDefinitions generated from the entity models: the models are the one source of truth.

``python -m digitalhub_runtime_python.models.crds charts/digitalhub/crds`` writes one YAML file per CRD.

Each spec/status schema is pydantic's JSON schema turned structural (what apiextensions.k8s.io/v1 requires):
``$ref`` inlined, ``anyOf [X, null]`` made ``X`` + ``nullable``, ``const`` made a one-value ``enum``,
``exclusiveMinimum: n`` made ``minimum: n`` + ``exclusiveMinimum: true``, titles/defaults/``additionalProperties:
false`` dropped (the API server prunes unknown fields; the SDK fills defaults), and free-form values (``dict[str,
Any]``, ``Any``) marked ``x-kubernetes-preserve-unknown-fields``. What a model states in structural terms itself
is kept: ``x-kubernetes-*`` extensions (int-or-string quantities, CEL rules, list types) and value validations
(``anyOf``/``not`` without types). Specs of immutable entities get the CEL rule ``self == oldSelf``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel

from digitalhub_runtime_python.models.cel import immutable
from digitalhub_runtime_python.models.resources import CATEGORY, GROUP, RESOURCE_TYPES, VERSION, ResourceType

Schema = dict[str, Any]

_KEEP = {
    "type",
    "description",
    "enum",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "required",
    "nullable",
    "multipleOf",
    "maxProperties",
    "not",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-int-or-string",
    "x-kubernetes-validations",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
}
_FREE_FORM: Schema = {"x-kubernetes-preserve-unknown-fields": True}
AGE_COLUMN = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
PRINTER_COLUMNS: dict[str, list[dict[str, Any]]] = {
    "project": [{"name": "Description", "type": "string", "jsonPath": ".spec.description"}],
    "function": [
        {"name": "Handler", "type": "string", "jsonPath": ".spec.handler"},
        {"name": "Source", "type": "string", "jsonPath": ".spec.code_src", "priority": 1},
    ],
    "task": [
        {"name": "Action", "type": "string", "jsonPath": ".spec.action"},
        {"name": "Function", "type": "string", "jsonPath": ".spec.function"},
    ],
    "run": [
        {"name": "State", "type": "string", "jsonPath": ".status.state"},
        {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
        {"name": "Function", "type": "string", "jsonPath": ".spec.function"},
        {"name": "Action", "type": "string", "jsonPath": ".spec.action"},
        {"name": "Message", "type": "string", "jsonPath": ".status.message", "priority": 1},
    ],
}
_DATA_COLUMNS = [
    {"name": "State", "type": "string", "jsonPath": ".status.state"},
    {"name": "Path", "type": "string", "jsonPath": ".spec.path"},
]


def _is_union(schema: Schema) -> bool:
    """``anyOf`` listing types (pydantic's ``X | None``, unions), not value validations or int-or-string."""
    options = schema.get("anyOf") or []
    return not schema.get("x-kubernetes-int-or-string") and any("type" in o or "$ref" in o for o in options)


def structural(schema: Schema, defs: dict[str, Schema]) -> Schema:
    """Turn one pydantic JSON-schema node into a structural OpenAPI v3 schema node."""
    if "$ref" in schema:
        target = defs[schema["$ref"].rsplit("/", 1)[-1]]
        return structural({**target, **{k: v for k, v in schema.items() if k != "$ref"}}, defs)
    if _is_union(schema):
        options = [option for option in schema["anyOf"] if option.get("type") != "null"]
        node = structural(options[0], defs) if len(options) == 1 else dict(_FREE_FORM)
        if len(options) < len(schema["anyOf"]):
            node["nullable"] = True
        if "description" in schema:
            node["description"] = schema["description"]
        return node
    node = {key: value for key, value in schema.items() if key in _KEEP or key == "anyOf"}
    if "const" in schema:
        node["enum"] = [schema["const"]]
    if "exclusiveMinimum" in schema:
        node.update(minimum=schema["exclusiveMinimum"], exclusiveMinimum=True)
    if "properties" in schema:
        node["properties"] = {name: structural(sub, defs) for name, sub in schema["properties"].items()}
    extra = schema.get("additionalProperties")
    if extra is True or extra == {}:
        node.update(_FREE_FORM)
    elif isinstance(extra, dict):
        node["additionalProperties"] = structural(extra, defs)
    if "items" in schema:
        node["items"] = structural(schema["items"], defs)
    if "type" not in node and not {"x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string"} & set(node):
        node.update(_FREE_FORM)  # Any: no type to declare
    return node


def model_schema(model: type[BaseModel]) -> Schema:
    """The structural schema of a pydantic model."""
    schema = model.model_json_schema()
    return structural(schema, schema.get("$defs", {}))


def _columns(rt: ResourceType) -> list[dict[str, Any]]:
    return PRINTER_COLUMNS.get(rt.model.ENTITY_TYPE, _DATA_COLUMNS) + [AGE_COLUMN]


def build_crd(rt: ResourceType) -> dict[str, Any]:
    """The CustomResourceDefinition of one entity type."""
    fields = rt.model.model_fields
    spec_schema = model_schema(cast(type[BaseModel], fields["spec"].annotation))
    status_schema = model_schema(cast(type[BaseModel], fields["status"].annotation))
    if rt.model.IMMUTABLE_SPEC:
        spec_schema["x-kubernetes-validations"] = [immutable(rt.kind), *spec_schema.get("x-kubernetes-validations", [])]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": rt.crd_name, "labels": {"app.kubernetes.io/part-of": "digitalhub"}},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": rt.kind,
                "plural": rt.plural,
                "singular": rt.singular,
                "listKind": f"{rt.kind}List",
                "shortNames": [rt.short_name],
                "categories": [CATEGORY],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": _columns(rt),
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": f"A digitalhub {rt.model.ENTITY_TYPE}: "
                            f"the spec and status of the SDK's {rt.kind}.",
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "spec": spec_schema,
                                "status": status_schema,
                            },
                            "required": ["spec"],
                        }
                    },
                }
            ],
        },
    }


def build_crds() -> list[dict[str, Any]]:
    """The CRDs of every entity type, in a stable order."""
    return [build_crd(rt) for rt in RESOURCE_TYPES.values()]


def json_schema(openapi: Schema) -> Schema:
    """A draft-4 JSON schema checking CR documents as the API server would, and refusing fields it would prune."""
    node = {key: value for key, value in openapi.items() if not key.startswith("x-kubernetes") and key != "nullable"}
    if "properties" in openapi:
        node["properties"] = {name: json_schema(sub) for name, sub in openapi["properties"].items()}
        if not openapi.get("x-kubernetes-preserve-unknown-fields"):
            node["additionalProperties"] = False
    if isinstance(openapi.get("additionalProperties"), dict):
        node["additionalProperties"] = json_schema(openapi["additionalProperties"])
    if "items" in openapi:
        node["items"] = json_schema(openapi["items"])
    if openapi.get("nullable"):
        if "type" in node:
            node["type"] = [node["type"], "null"]
        if "enum" in node:
            node["enum"] = [*node["enum"], None]
        if openapi.get("x-kubernetes-int-or-string"):
            node["anyOf"] = [*node["anyOf"], {"type": "null"}]
    return node


def crd_file_name(crd: dict[str, Any]) -> str:
    return f"{crd['metadata']['name']}.yaml"


HEADER = (
    "# Generated from the models by `python -m digitalhub_runtime_python.models.crds <folder>`: do not edit.\n"
    "# A test fails when this file and the models disagree.\n"
)


def render_crds() -> dict[str, str]:
    """File name -> YAML text of every CRD."""
    import yaml

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:  # no &anchors: plain YAML for humans and helm
            return True

    return {
        crd_file_name(crd): HEADER + yaml.dump(crd, Dumper=Dumper, sort_keys=False, width=120) for crd in build_crds()
    }


def write_crds(folder: Path) -> list[Path]:
    """Write the CRDs into ``folder`` (created if needed), replacing CRD files no model produces any more."""
    folder.mkdir(parents=True, exist_ok=True)
    rendered = render_crds()
    for stale in folder.glob(f"*.{GROUP}.yaml"):
        if stale.name not in rendered:
            stale.unlink()
    paths = []
    for name, text in rendered.items():
        path = folder / name
        path.write_text(text)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m digitalhub_runtime_python.models.crds <folder>", file=sys.stderr)
        return 2
    for path in write_crds(Path(args[0])):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
