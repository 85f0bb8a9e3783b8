"""Entities as Kubernetes custom resources: API group, kinds, CR names, labels, and the conversion both ways.

A CR carries the entity's ``spec`` and ``status`` as they are; its identity goes into labels (project, name, id,
selectable), and so do the fields listings filter on (state, function, task, action: ``index_labels``, kept in
sync with the status by the store); its kind and bookkeeping (:class:`Metadata`) go into annotations. A CR written
by hand (``kubectl apply``) needs only ``metadata.name`` and ``spec``: the name doubles as entity name and id, the
namespace is the project, and functions and tasks referenced by plain name mean their latest version.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, TypeVar

from digitalhub_runtime_python.models.base import ID_PATTERN, Entity
from digitalhub_runtime_python.models.data import Artifact, Dataitem, Model
from digitalhub_runtime_python.models.errors import SpecError, validate
from digitalhub_runtime_python.models.function import Function
from digitalhub_runtime_python.models.indexed import indexed
from digitalhub_runtime_python.models.keys import PREFIX, build_key
from digitalhub_runtime_python.models.project import Project
from digitalhub_runtime_python.models.run import Run, RunStatus
from digitalhub_runtime_python.models.task import Action, Task, task_kind

E = TypeVar("E", bound=Entity)

GROUP = "digitalhub.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
CATEGORY = "digitalhub"

LABEL_PROJECT = f"{GROUP}/project"
LABEL_NAME = f"{GROUP}/name"
LABEL_ID = f"{GROUP}/id"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_STATE = f"{GROUP}/state"
LABEL_FUNCTION = f"{GROUP}/function"
LABEL_FUNCTION_ID = f"{GROUP}/function-id"
LABEL_TASK_ID = f"{GROUP}/task-id"
LABEL_ACTION = f"{GROUP}/action"
ANNOTATION_KIND = f"{GROUP}/kind"
ANNOTATION_METADATA = f"{GROUP}/metadata"


@dataclass(frozen=True)
class ResourceType:
    """How one entity type is served: kind, plural and short name of its custom resource."""

    model: type[Entity]
    kind: str
    plural: str
    short_name: str

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{GROUP}"


RESOURCE_TYPES: dict[str, ResourceType] = {
    rt.model.ENTITY_TYPE: rt
    for rt in (
        ResourceType(Project, "Project", "projects", "dhproject"),
        ResourceType(Function, "Function", "functions", "dhfn"),
        ResourceType(Task, "Task", "tasks", "dhtask"),
        ResourceType(Run, "Run", "runs", "dhrun"),
        ResourceType(Dataitem, "Dataitem", "dataitems", "dhdata"),
        ResourceType(Artifact, "Artifact", "artifacts", "dhartifact"),
        ResourceType(Model, "Model", "models", "dhmodel"),
    )
}

_NOT_DNS = re.compile(r"[^a-z0-9.-]")
_LOOSE_DOT = re.compile(r"[-.]*\.[-.]*")
_ID = re.compile(ID_PATTERN)
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")


def resource_type(entity_type: str) -> ResourceType:
    """The resource type serving an entity type."""
    try:
        return RESOURCE_TYPES[entity_type]
    except KeyError:
        raise ValueError(
            f"entity type {entity_type!r} has no custom resource: use one of {', '.join(RESOURCE_TYPES)}"
        ) from None


def dns_name(name: str) -> str:
    """An entity name as a DNS-1123 subdomain: '_' becomes '-', dots survive only between letters/digits."""
    cleaned = _NOT_DNS.sub("-", name.lower())
    return _LOOSE_DOT.sub(lambda m: "." if m.group() == "." else "-", cleaned)


def cr_name(entity_type: str, name: str, id: str | None) -> str:
    """The CR name of an entity version: the project name; the id when name == id (runs); else ``<name>-<id>``."""
    if entity_type == "project":
        return dns_name(name)
    if not id or not _ID.match(id):
        raise ValueError(f"id {id!r} cannot name a custom resource: use 1-63 lowercase letters, digits or '-'")
    return id if name == id else f"{dns_name(name)}-{id}"


def identity_labels(project: str, name: str, id: str) -> dict[str, str]:
    """Labels that select an entity's CRs by project, name and version id."""
    return {LABEL_PROJECT: project, LABEL_NAME: name, LABEL_ID: id, LABEL_MANAGED_BY: "digitalhub"}


def label_value(value: str | None) -> str | None:
    """``value`` when it can be a label's value (63 characters at most, letters, digits, '-', '_', '.'), else None."""
    return value if value and _LABEL_VALUE.match(value) else None


def index_labels(entity: Entity) -> dict[str, str]:
    """Labels that select an entity by what listings filter on: identity, state, function, task and action.

    The state label also marks a CR as labelled this way: CRs without it (hand-written, or written by a version
    before these labels) are found by listing those without it and filtering them in the client.
    """
    fields = indexed(entity)
    labels = identity_labels(entity.project, entity.name, entity.id)
    for label, value in (
        (LABEL_STATE, fields.state),
        (LABEL_FUNCTION, fields.function_name),
        (LABEL_FUNCTION_ID, fields.function_id),
        (LABEL_TASK_ID, fields.task_id),
        (LABEL_ACTION, fields.action),
    ):
        valid = label_value(value)
        if valid:
            labels[label] = valid
    return labels


def to_resource(entity: Entity, namespace: str) -> dict[str, Any]:
    """The custom resource of an entity, in ``namespace``."""
    rt = resource_type(entity.ENTITY_TYPE)
    document = entity.model_dump(mode="json", exclude_none=True)
    return {
        "apiVersion": API_VERSION,
        "kind": rt.kind,
        "metadata": {
            "name": cr_name(entity.ENTITY_TYPE, entity.name, entity.id),
            "namespace": namespace,
            "labels": index_labels(entity),
            "annotations": {
                ANNOTATION_KIND: entity.kind,
                ANNOTATION_METADATA: json.dumps(document["metadata"], sort_keys=True),
            },
        },
        "spec": document.get("spec", {}),
        "status": document.get("status", {}),
    }


def resource_status(status: Any, generation: int | None) -> dict[str, Any]:
    """An entity status as its CR's ``status``; a run's carries the ``metadata.generation`` it was written for
    (``observedGeneration``, on the status and on each condition, as ``kubectl wait`` expects)."""
    document: dict[str, Any] = status.model_dump(mode="json", exclude_none=True)
    if isinstance(status, RunStatus) and generation is not None:
        document["observedGeneration"] = generation
        for condition in document.get("conditions", []):
            condition["observedGeneration"] = generation
    return document


def _latest_key(value: Any, project: str | None, entity_type: str, kind: str) -> Any:
    """A plain name given where a key is expected means the latest version of that entity."""
    if isinstance(value, str) and value and not value.startswith(PREFIX) and project:
        return build_key(project, entity_type, kind, value, None)
    return value


def _task_kind(spec: dict[str, Any]) -> str:
    """The task kind for a spec's action (a wrong action is reported by validation, not here)."""
    action = spec.get("action")
    return task_kind(action if action in {a.value for a in Action} else Action.JOB)


def _default_kind(entity_type: str, spec: dict[str, Any]) -> str | None:
    return _task_kind(spec) if entity_type == "task" else None


def from_resource(model: type[E], obj: dict[str, Any]) -> E:
    """The entity a custom resource holds; hand-written CRs get the defaults described in the module docstring."""
    meta = obj.get("metadata") or {}
    labels = meta.get("labels") or {}
    annotations = meta.get("annotations") or {}
    spec = dict(obj.get("spec") or {})
    project = labels.get(LABEL_PROJECT) or meta.get("namespace")
    name = labels.get(LABEL_NAME) or meta.get("name")
    if model.ENTITY_TYPE in ("run", "task") and "function" in spec:
        spec["function"] = _latest_key(spec["function"], project, "function", "python")
    if model.ENTITY_TYPE == "run" and "task" in spec:
        spec["task"] = _latest_key(spec["task"], project, "task", _task_kind(spec))
    what = f"{resource_type(model.ENTITY_TYPE).kind} {meta.get('namespace')}/{meta.get('name')}"
    if ANNOTATION_METADATA in annotations:
        try:
            metadata = json.loads(annotations[ANNOTATION_METADATA])
        except ValueError as exc:
            raise SpecError(
                what,
                [
                    (
                        f"metadata.annotations[{ANNOTATION_METADATA}]",
                        f"not JSON ({exc}): remove the annotation or restore it",
                    )
                ],
            ) from None
    else:
        metadata = {"created": meta.get("creationTimestamp"), "updated": meta.get("creationTimestamp")}
        metadata = {k: v for k, v in metadata.items() if v}
    document: dict[str, Any] = {"project": project, "name": name, "metadata": metadata, "spec": spec}
    document["id"] = labels.get(LABEL_ID) or meta.get("uid" if model.ENTITY_TYPE == "project" else "name")
    kind = annotations.get(ANNOTATION_KIND) or _default_kind(model.ENTITY_TYPE, spec)
    if kind:
        document["kind"] = kind
    if obj.get("status"):
        document["status"] = obj["status"]
    return validate(model, document, what)
