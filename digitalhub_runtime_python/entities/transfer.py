"""Entities to YAML files and back, as DigitalHub does it.

``export`` writes an entity to ``<type>s-<id>.yaml``, and a project to ``projects-<name>.yaml`` with every version
of its functions, artifacts, dataitems and models (oldest first): entities with ``metadata.embedded`` inline,
the others in files of their own that the project's file names (``metadata.ref``, relative to the project's
file). ``import`` creates what a file describes (an entity that exists is an error, unless ``reset_id`` gives
the copies new ids); ``load`` creates it, or updates what exists (metadata; a stored spec never changes).
Files behind data entities are not copied: the records keep pointing at them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from digitalhub_runtime_python.entities.backend import Backend
from digitalhub_runtime_python.models.base import Entity, new_id
from digitalhub_runtime_python.models.data import Artifact, Dataitem, Model
from digitalhub_runtime_python.models.errors import SpecError, validate
from digitalhub_runtime_python.models.function import Function
from digitalhub_runtime_python.models.keys import parse_key
from digitalhub_runtime_python.models.project import Project
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.models.states import is_final
from digitalhub_runtime_python.models.types import ENTITY_TYPES
from digitalhub_runtime_python.stores.base import AlreadyExists

PROJECT_LISTS: dict[str, type[Entity]] = {
    "functions": Function,
    "artifacts": Artifact,
    "dataitems": Dataitem,
    "models": Model,
}


def read_yaml(file: str | Path) -> Any:
    path = Path(file).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: give the YAML file export() wrote")
    return yaml.safe_load(path.read_text())


def write_yaml(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False, width=120))
    return path


def export_entity(entity: Entity, folder: Path) -> Path:
    """Write one entity to ``<folder>/<type>s-<id>.yaml``."""
    return write_yaml(folder / f"{entity.ENTITY_TYPE}s-{entity.id}.yaml", entity.document())


def context_folder(project: Project) -> Path:
    """Where a project's files are exported: its ``spec.source``, else the current folder."""
    return Path(project.spec.source or ".").expanduser()


def export_project(backend: Backend, project: Project) -> Path:
    """Write a project and its entities to its context folder."""
    folder = context_folder(project)
    document = project.document()
    for field, model in PROJECT_LISTS.items():
        items = []
        for entity in reversed(backend.store.list(model, project.name, all_versions=True)):
            if entity.metadata.embedded:
                items.append(entity.document())
                continue
            ref = export_entity(entity, folder).name
            stub = {k: getattr(entity, k) for k in ("kind", "project", "name", "id", "key")}
            items.append({**stub, "metadata": {"embedded": False, "ref": ref}})
        document["spec"][field] = items
    return write_yaml(folder / f"projects-{project.name}.yaml", document)


def _model_of(document: dict[str, Any], expected: type[Entity] | None, source: str) -> type[Entity]:
    key = document.get("key")
    model = ENTITY_TYPES.get(parse_key(key).entity_type) if isinstance(key, str) and key else expected
    if model is None or (expected is not None and model is not expected):
        wanted = expected.ENTITY_TYPE if expected else "an entity"
        found = model.ENTITY_TYPE if model else "no key"
        raise SpecError(source, [("key", f"{source} holds {found}, not {wanted}")])
    return model


def entity_from(
    document: Any,
    expected: type[Entity] | None,
    source: str,
    project: str | None = None,
    reset_id: bool = False,
) -> Entity:
    """The entity a document describes (moved to ``project``, with a new id if ``reset_id``)."""
    if isinstance(document, list) and document:  # DigitalHub writes a function with its tasks as a list
        document = document[0]
    if not isinstance(document, dict):
        raise SpecError(source, [("", "not an entity document (a mapping with kind, name, spec...)")])
    model = _model_of(document, expected, source)
    doc = {k: v for k, v in document.items() if k != "key"}
    doc["metadata"] = {k: v for k, v in (doc.get("metadata") or {}).items() if k != "ref"}
    if project:
        doc["project"] = project
    if reset_id:
        doc["id"] = new_id()
        doc["metadata"].pop("version", None)
        if model is Run:
            doc["name"] = doc["id"]
    return validate(model, doc, source)


def read_entity(
    backend: Backend,
    model: type[Entity],
    file: str | Path | None = None,
    key: str | None = None,
    project: str | None = None,
    reset_id: bool = False,
) -> Entity:
    """The entity a YAML file or a stored entity's key describes, moved to ``project`` if given (``reset_id``:
    with a new id), ready to be created."""
    if (file is None) == (key is None):
        raise SpecError(f"{model.ENTITY_TYPE} import", [("file", "give file or key, not both or none")])
    if file is not None:
        document, source = read_yaml(file), str(file)
    else:
        document, source = backend.store.get_key(str(key)).document(), str(key)
    return entity_from(document, model, source, project, reset_id)


def import_entity(backend: Backend, entity: Entity) -> Entity:
    """Create an entity read from a file; one that exists is an error."""
    if isinstance(entity, Run) and not is_final(entity.status.state):
        raise SpecError(
            "run", [("status.state", f"{entity.status.state}: only a finished run can be imported, none would run")]
        )
    try:
        return backend.store.create(entity)
    except AlreadyExists:
        raise AlreadyExists(
            f"{entity.key} already exists: load it to update it, or import with reset_id=True for a copy"
        ) from None


def metadata_from(given: Entity, fix: str) -> Callable[[Entity], Entity]:
    """A store change writing ``given``'s metadata (keeping when the entity was created); a stored spec never
    changes, so a different one is refused, ``fix`` saying what to do instead."""

    def change(stored: Entity) -> Entity:
        if stored.spec != given.spec:
            raise SpecError(given.ENTITY_TYPE, [("spec", f"{given.key} is stored with another spec: {fix}")])
        stored.metadata = given.metadata.model_copy(update={"created": stored.metadata.created})
        return stored

    return change


def load_entity(backend: Backend, entity: Entity) -> Entity:
    """Create an entity read from a file, or update the stored one's metadata (its spec must be the same)."""
    try:
        return backend.store.create(entity)
    except AlreadyExists:
        fix = "versions are immutable; import it with reset_id for a new version"
        return backend.store.update(entity.key, metadata_from(entity, fix))


def project_documents(file: str | Path) -> tuple[dict[str, Any], list[tuple[Any, str]]]:
    """A project file's project document and its entities' documents, with where each came from."""
    path = Path(file).expanduser()
    document = read_yaml(path)
    if not isinstance(document, dict) or document.get("kind") != "project":
        raise SpecError(str(path), [("kind", "not a project file (kind: project): give the file export() wrote")])
    document = {**document, "spec": dict(document.get("spec") or {})}
    entities = []
    for field in PROJECT_LISTS:
        for item in document["spec"].pop(field, None) or []:
            ref = (item.get("metadata") or {}).get("ref") if isinstance(item, dict) else None
            if ref and "spec" not in item:
                ref_path = path.parent / ref
                entities.append((read_yaml(ref_path), str(ref_path)))
            else:
                entities.append((item, f"{path} spec.{field}"))
    if not document["spec"].get("source"):
        document["spec"]["source"] = str(path.parent.resolve())
    document.pop("key", None)
    return document, entities


def import_project(backend: Backend, file: str | Path, reset_id: bool = False) -> Project:
    """Create the project a file describes and its entities; a project that exists is an error unless
    ``reset_id``, which adds copies of the entities with new ids."""
    document, entities = project_documents(file)
    project = validate(Project, document, str(file))
    try:
        backend.store.create(project)
    except AlreadyExists:
        message = f"project {project.name!r} already exists"
        if not reset_id:
            raise AlreadyExists(
                f"{message}: load_project updates it; import_project(..., reset_id=True) adds copies of its entities"
            ) from None
        warnings.warn(f"{message}: its entities are imported with new ids", stacklevel=3)
    for item, source in entities:
        import_entity(backend, entity_from(item, None, source, project.name, reset_id))
    return backend.store.get(Project, project.name, project.name)


def load_project(backend: Backend, file: str | Path) -> Project:
    """Create or update the project a file describes, and its entities."""
    document, entities = project_documents(file)
    project = validate(Project, document, str(file))
    try:
        backend.store.create(project)
    except AlreadyExists:

        def change(stored: Entity) -> Entity:
            assert isinstance(stored, Project)
            stored.spec = project.spec
            stored.metadata = project.metadata.model_copy(update={"created": stored.metadata.created})
            return stored

        backend.store.update(project.key, change)
    for item, source in entities:
        load_entity(backend, entity_from(item, None, source, project.name))
    return backend.store.get(Project, project.name, project.name)
