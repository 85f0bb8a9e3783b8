"""A project as an object, with DigitalHub's methods: create, find, list, update, delete, import and log its
functions, tasks, runs, dataitems, artifacts and models; export it to YAML."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar, Unpack

from digitalhub_runtime_python.entities.base import EntityObject
from digitalhub_runtime_python.entities.catalog import Catalog, Filters, ListOptions, Moment
from digitalhub_runtime_python.entities.compat import REASONS, either, refuse
from digitalhub_runtime_python.entities.data import OBJECT_CLASSES, Artifact, Dataitem, Model
from digitalhub_runtime_python.entities.deletion import delete_entity
from digitalhub_runtime_python.entities.function import Function
from digitalhub_runtime_python.entities.materials import Sources, log_material, staged
from digitalhub_runtime_python.entities.retention import Pruning, prune_runs
from digitalhub_runtime_python.entities.run import Run
from digitalhub_runtime_python.entities.session import NAME_LABEL, Session, SessionError, is_session
from digitalhub_runtime_python.entities.tables import check_engine, read_table, schema, write_table
from digitalhub_runtime_python.entities.task import Task
from digitalhub_runtime_python.entities.transfer import export_project, import_entity, read_entity
from digitalhub_runtime_python.environments.requirements import (
    RequirementError,
    normalize_requirements,
    read_requirements_file,
)
from digitalhub_runtime_python.extras import require
from digitalhub_runtime_python.models.base import Entity, Relationship, check_id, new_id
from digitalhub_runtime_python.models.data import Artifact as ArtifactModel
from digitalhub_runtime_python.models.data import Dataitem as DataitemModel
from digitalhub_runtime_python.models.data import Model as ModelModel
from digitalhub_runtime_python.models.errors import SpecError, validate
from digitalhub_runtime_python.models.function import Function as FunctionModel
from digitalhub_runtime_python.models.function import FunctionSpec
from digitalhub_runtime_python.models.keys import PREFIX, parse_key
from digitalhub_runtime_python.models.project import Project as ProjectModel
from digitalhub_runtime_python.models.redaction import credentials_in, mask_url, urls_in
from digitalhub_runtime_python.models.run import Run as RunModel
from digitalhub_runtime_python.models.states import State, is_final
from digitalhub_runtime_python.models.task import Action, TaskSpec
from digitalhub_runtime_python.models.task import Task as TaskModel
from digitalhub_runtime_python.sources.base import scheme_of
from digitalhub_runtime_python.stores.base import NotFound
from digitalhub_runtime_python.stores.query import Order, Page

T = TypeVar("T", bound=EntityObject)

OBJECTS: dict[str, type[EntityObject]] = {**OBJECT_CLASSES, "function": Function, "run": Run, "task": Task}
RUN_KIND = "python+run"
RUN_ARGUMENTS = ("inputs", "parameters", "outputs", "init_parameters", "isolation", "wait", "log_info")


def _local_path(value: str) -> str:
    """A local path made absolute (it is read from other folders later); URIs as they are."""
    return value if scheme_of(value) else str(Path(value).expanduser().resolve())


def _entity_id(what: str, uuid: str | None) -> str:
    try:
        return check_id(uuid) if uuid is not None else new_id()
    except ValueError as exc:
        raise SpecError(what, [("uuid", str(exc))]) from None


def _metadata(description: str | None, labels: list[str] | None, embedded: bool, **more: Any) -> dict[str, Any]:
    return {"description": description, "labels": labels or [], "embedded": embedded, **more}


def _requirements(value: object) -> object:
    """A function's ``requirements``: a list, each one checked, or the path of a requirements file, read now (the
    stored function carries the list, so a pod needs no file)."""
    field = "spec.requirements"
    if isinstance(value, (str, Path)):
        if not Path(value).expanduser().is_file():
            example = [str(value)]
            message = (
                f"{str(value)!r} is not a file: give a list of requirements (e.g. {example}) or a requirements file"
            )
            raise SpecError("function", [(field, message)])
        try:
            value = read_requirements_file(value)
        except RequirementError as exc:
            raise SpecError("function", [(field, str(exc))]) from None
    if isinstance(value, list):
        for index, line in enumerate(value):
            try:
                if isinstance(line, str):
                    normalize_requirements([line])
            except RequirementError as exc:
                raise SpecError("function", [(f"{field}[{index}]", str(exc))]) from None
    return value


CREDENTIALS_FIX = (
    "remove them: a function is stored as it is given; give credentials through the environment (GIT_TOKEN and "
    "GIT_USER for git, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for S3), or a Kubernetes Secret in the task's "
    "secrets (docs/sources.md)"
)


def _strings(value: Any, path: str) -> list[tuple[str, str]]:
    """Every string in a spec value, with its field path (``code_src``, ``requirements[0]``)."""
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _strings(item, f"{path}.{key}")]
    if isinstance(value, (list, tuple)):
        return [found for index, item in enumerate(value) for found in _strings(item, f"{path}[{index}]")]
    return []


def refuse_credentials(spec: dict[str, Any]) -> None:
    """A SpecError naming each field of a function spec with credentials in a URL (which it does not repeat)."""
    problems = [
        (field, f"{mask_url(url)!r} carries credentials ({', '.join(found)}): {CREDENTIALS_FIX}")
        for name, value in spec.items()
        for field, text in _strings(value, f"spec.{name}")
        for url in urls_in(text)
        if (found := credentials_in(url))
    ]
    if problems:
        raise SpecError("function", problems)


class Project(EntityObject[ProjectModel]):
    """The SDK's entry point for one project; handed to handlers as their ``project`` argument."""

    # Generic operations, by entity type

    def _catalog(self, model: type[Entity], cls: type[T]) -> Catalog[T]:
        return Catalog(self._backend, self.name, model, cls)

    def _delete(
        self,
        catalog: Catalog[Any],
        identifier: str,
        entity_id: str | None = None,
        delete_all_versions: bool = False,
        cascade: bool = True,
    ) -> None:
        """Delete one version (by key, or name and ``entity_id``) or every version of a name."""
        if delete_all_versions:
            targets = [obj.entity for obj in catalog.versions(identifier)]
        elif catalog.model.VERSIONED and not identifier.startswith(PREFIX) and entity_id is None:
            raise SpecError(
                catalog.what,
                [
                    (
                        "identifier",
                        f"{identifier!r} is a name: give a key or entity_id to delete one version, "
                        "or delete_all_versions=True to delete them all",
                    )
                ],
            )
        else:
            targets = [catalog.get(identifier, entity_id).entity]
        for entity in targets:
            delete_entity(self._backend, entity, cascade)

    def _drop(self, catalog: Catalog[Any], name: str) -> None:
        """``drop_existing``: delete every version of ``name``, if any."""
        if self._backend.store.list(catalog.model, self.name, name=name):
            self._delete(catalog, name, delete_all_versions=True)

    def _import(self, catalog: Catalog[T], file: str | None, key: str | None, reset_id: bool) -> T:
        """An entity from a YAML file or another entity's key, created in this project."""
        entity = read_entity(self._backend, catalog.model, file, key, self.name, reset_id)
        return catalog.wrap(import_entity(self._backend, entity))

    def _new(self, catalog: Catalog[T], document: dict[str, Any], uuid: str | None) -> T:
        entity = validate(catalog.model, {**document, "project": self.name, "id": _entity_id(catalog.what, uuid)})
        return catalog.wrap(self._backend.store.create(entity))

    # Functions

    @property
    def functions(self) -> Catalog[Function]:
        return self._catalog(FunctionModel, Function)

    def new_function(
        self,
        name: str,
        kind: str = "python",
        uuid: str | None = None,
        description: str | None = None,
        labels: list[str] | None = None,
        embedded: bool = False,
        *,
        git_source: str | None = None,
        **kwargs: Any,
    ) -> Function:
        """Create a function version; without ``uuid``, the latest version is returned when its spec is the same.

        ``kwargs`` is the spec: code_src (or code, base64), handler, init_function, lang, python_version, image,
        base_image, requirements. ``uuid`` is the version's id; ``embedded`` puts it inside the project's export.
        """
        if kind != "python":
            raise SpecError("function", [("kind", f"{kind!r} is not supported: use 'python'")])
        unknown = set(kwargs) - set(FunctionSpec.model_fields)
        if unknown:
            raise SpecError(
                "function",
                [(f"spec.{field}", "unknown field: remove it or check its spelling") for field in sorted(unknown)],
            )
        refuse_credentials(kwargs)
        if "requirements" in kwargs:
            kwargs["requirements"] = _requirements(kwargs["requirements"])
        if kwargs.get("code_src") and Path(kwargs["code_src"]).expanduser().exists():
            kwargs["code_src"] = _local_path(kwargs["code_src"])
        entity = validate(
            FunctionModel,
            {
                "project": self.name,
                "name": name,
                "kind": kind,
                "id": _entity_id("function", uuid),
                "spec": kwargs,
                "metadata": _metadata(description, labels, embedded, git_source=git_source),
            },
            "function",
        )
        store = self._backend.store
        if uuid is None:
            try:
                latest = store.get(FunctionModel, self.name, name)
            except NotFound:
                latest = None
            if latest is not None and latest.spec == entity.spec:
                return Function(latest, self._backend)
        return Function(store.create(entity), self._backend)

    def get_function(self, identifier: str, entity_id: str | None = None) -> Function:
        """A function by key, or by name (the latest version unless ``entity_id`` is given)."""
        return self.functions.get(identifier, entity_id)

    def get_function_versions(self, identifier: str) -> list[Function]:
        return self.functions.versions(identifier)

    def list_functions(
        self,
        q: str | None = None,
        name: str | None = None,
        kind: str | None = None,
        user: str | None = None,
        state: str | None = None,
        created: str | None = None,
        updated: str | None = None,
        versions: str | None = None,
        *,
        all_versions: bool = False,
        **options: Unpack[ListOptions],
    ) -> Page[Function]:
        """Latest versions, newest first (``versions='all'`` or ``all_versions=True``: every version)."""
        versions = "all" if all_versions else versions
        filters = Filters(q=q, name=name, kind=kind, user=user, state=state, created=created, updated=updated)
        filters["versions"] = versions
        return self.functions.find(filters, options)

    def import_function(self, file: str | None = None, key: str | None = None, reset_id: bool = True) -> Function:
        return self._import(self.functions, file, key, reset_id)

    def update_function(self, entity: Function) -> Function:
        return self.functions.update(entity)

    def delete_function(
        self, identifier: str, entity_id: str | None = None, delete_all_versions: bool = False, cascade: bool = True
    ) -> None:
        """Delete a function version (cascade: its tasks and their runs)."""
        self._delete(self.functions, identifier, entity_id, delete_all_versions, cascade)

    # Tasks

    @property
    def tasks(self) -> Catalog[Task]:
        return self._catalog(TaskModel, Task)

    def new_task(
        self,
        kind: str,
        uuid: str | None = None,
        labels: list[str] | None = None,
        function: str | None = None,
        workflow: str | None = None,
        **kwargs: Any,
    ) -> Task:
        """Create a task of kind ``python+job|serve|build`` for ``function`` (a key, or a name: its latest
        version); ``kwargs`` are the task's knobs."""
        refuse("task", workflow=workflow)
        action = kind.removeprefix("python+")
        if kind == action or action not in {a.value for a in Action}:
            raise SpecError("task", [("kind", f"{kind!r}: use python+job, python+serve or python+build")])
        if not function:
            raise SpecError("task", [("function", "give the function's key (or name) the task runs")])
        fn = self.get_function(function)
        spec = validate(TaskSpec, {"function": fn.key, "action": action, **kwargs}, "task spec")
        document = {"name": f"{fn.name}-{action}", "kind": kind, "spec": spec, "metadata": {"labels": labels or []}}
        return self._new(self.tasks, document, uuid)

    def get_task(self, identifier: str, entity_id: str | None = None) -> Task:
        """A task by key or id (or name: the latest task of that name)."""
        return self.tasks.get(identifier, entity_id)

    def list_tasks(
        self,
        q: str | None = None,
        name: str | None = None,
        kind: str | None = None,
        user: str | None = None,
        state: str | None = None,
        created: str | None = None,
        updated: str | None = None,
        function: str | None = None,
        workflow: str | None = None,
        **options: Unpack[ListOptions],
    ) -> Page[Task]:
        """Tasks, newest first; ``function`` is a key (that version) or a name (any version)."""
        refuse("task listing", workflow=workflow)
        filters = Filters(q=q, name=name, kind=kind, user=user, state=state, created=created, updated=updated)
        filters["versions"], filters["function"] = "all", function
        return self.tasks.find(filters, options)

    def update_task(self, entity: Task) -> Task:
        return self.tasks.update(entity)

    def delete_task(self, identifier: str, entity_id: str | None = None, cascade: bool = True) -> None:
        """Delete a task (cascade: its runs, stopped first)."""
        self._delete(self.tasks, identifier, entity_id, cascade=cascade)

    # Runs

    @property
    def runs(self) -> Catalog[Run]:
        return self._catalog(RunModel, Run)

    def new_run(
        self,
        kind: str = RUN_KIND,
        uuid: str | None = None,
        labels: list[str] | None = None,
        task: str | None = None,
        **kwargs: Any,
    ) -> Run:
        """Create a run of ``task`` (its key or id) and launch it; ``kwargs``: inputs, parameters, outputs,
        init_parameters, local_execution, wait..."""
        if kind != RUN_KIND:
            raise SpecError("run", [("kind", f"{kind!r}: runs of this runtime are {RUN_KIND!r}")])
        if not task:
            raise SpecError("run", [("task", "give the key (or id) of the task to run")])
        found = self.get_task(task)
        local = bool(kwargs.pop("local_execution", False)) or self._backend.settings.backend == "local"
        unknown = sorted(set(kwargs) - set(RUN_ARGUMENTS))
        if unknown:
            raise SpecError("run", [(field, f"unknown: use {', '.join(RUN_ARGUMENTS)}") for field in unknown])
        return found.run(uuid=uuid, labels=labels, local_execution=local, **kwargs)

    def get_run(self, identifier: str) -> Run:
        """A run by key or id."""
        return self.runs.get(identifier)

    def list_runs(
        self,
        q: str | None = None,
        name: str | None = None,
        kind: str | None = None,
        user: str | None = None,
        state: str | None = None,
        created: str | None = None,
        updated: str | None = None,
        function: str | None = None,
        workflow: str | None = None,
        task: str | None = None,
        action: str | None = None,
        **options: Unpack[ListOptions],
    ) -> Page[Run]:
        """Runs, newest first; ``function`` is a key (that version) or a name (any version), ``task`` a key.
        ``options`` (:class:`ListOptions`): ``since``, ``until``, ``labels``, and ``limit`` for a page whose
        ``continuation`` asks for the next one."""
        refuse("run listing", workflow=workflow)
        filters = Filters(q=q, name=name, kind=kind, user=user, state=state, created=created, updated=updated)
        filters["function"], filters["task"], filters["action"] = function, task, action
        return self.runs.find(filters, options)

    def iter_runs(
        self,
        state: str | None = None,
        function: str | None = None,
        action: str | None = None,
        task: str | None = None,
        *,
        since: Moment | None = None,
        until: Moment | None = None,
        labels: list[str] | str | None = None,
        order: Order = "newest",
    ) -> Iterator[Run]:
        """Every run the filters select, newest (or oldest) first, read a page at a time as the iteration goes
        (filters as in ``list_runs``)."""
        query = self.runs.query(
            state=state, function=function, action=action, task=task, since=since, until=until, labels=labels
        )
        return self.runs.iterate(query, order)

    def prune_runs(
        self,
        older_than: Moment | None = None,
        keep_last: int | None = None,
        state: str | None = None,
        function: str | None = None,
        outputs: bool = False,
        dry_run: bool = True,
    ) -> Pruning:
        """Delete old finished runs with their logs: those created before ``older_than`` (e.g. ``"30d"``), of
        ``state`` and ``function`` if given, except the newest ``keep_last``; with ``outputs``, also the entities
        they output that no other run uses. A dry run (the default) only selects: see what the returned
        :class:`Pruning` lists, then call its ``delete()`` or prune again with ``dry_run=False``."""
        return prune_runs(
            self._backend,
            self.name,
            older_than=older_than,
            keep_last=keep_last,
            state=state,
            function=function,
            outputs=outputs,
            dry_run=dry_run,
        )

    def update_run(self, entity: Run) -> Run:
        return self.runs.update(entity)

    def delete_run(self, identifier: str, entity_id: str | None = None) -> None:
        """Delete a run (stopped first if it is still going) and its logs."""
        self._delete(self.runs, entity_id or identifier)

    # Any entity by key

    def get_entity(self, key: str) -> EntityObject:
        """Any entity of this project by key, as its SDK object."""
        parsed = parse_key(key)
        if parsed.project != self.name:
            raise NotFound(f"{key} belongs to project {parsed.project!r}, not {self.name!r}")
        entity = self._backend.store.get_key(key)
        return OBJECTS.get(entity.ENTITY_TYPE, EntityObject)(entity, self._backend)

    # Sessions

    def new_session(
        self,
        function: Function | str,
        *,
        name: str | None = None,
        idle_timeout: int | None = None,
        local_execution: bool | None = None,
        endpoint: str | None = None,
        **task_fields: Any,
    ) -> Session:
        """Start a session: a live kernel of ``function`` (an object or a name) in its code and environment.

        ``idle_timeout``: seconds without a request before it ends (default one hour); ``task_fields`` as for
        ``Function.run`` (envs, secrets, resources...). Locally it returns once the kernel answers; on Kubernetes
        at once (the first ``execute`` waits for the pod). ``endpoint`` replaces the URL the session reports (a
        port-forward to a cluster's session).
        """
        target = self.get_function(function) if isinstance(function, str) else function
        if idle_timeout is not None:
            task_fields["idle_timeout"] = idle_timeout
        run = target.run(
            Action.SESSION.value,
            local_execution=local_execution,
            labels=[f"{NAME_LABEL}{name}"] if name else None,
            **task_fields,
        )
        if run.status.state == State.ERROR:
            raise SessionError(f"session {run.id} did not start: {run.status.message}")
        return Session(run.entity, self._backend, endpoint)

    def get_session(self, id: str, *, endpoint: str | None = None) -> Session:
        """A session by its run id."""
        run = self._backend.store.get(RunModel, self.name, id, id)
        if not is_session(run):
            raise NotFound(f"run {id} is a {run.spec.action} run, not a session")
        return Session(run, self._backend, endpoint)

    def list_sessions(self, *, active: bool = False) -> list[Session]:
        """Sessions, newest first; ``active``: only those not ended."""
        return [
            Session(run, self._backend)
            for run in self._backend.store.list(RunModel, self.name)
            if is_session(run) and not (active and is_final(run.status.state))
        ]

    def get_or_create_session(
        self, name: str, function: Function | str | None = None, *, endpoint: str | None = None, **options: Any
    ) -> Session:
        """The session named ``name`` that has not ended, else a new one of ``function`` with that name
        (``options`` as for ``new_session``)."""
        label = f"{NAME_LABEL}{name}"
        for session in self.list_sessions(active=True):
            if label in session.metadata.labels:
                return session.connect(endpoint)
        if function is None:
            raise NotFound(f"no session named {name!r} in project {self.name!r}: give function= to start one")
        return self.new_session(function, name=name, endpoint=endpoint, **options)

    # Data entities

    @property
    def artifacts(self) -> Catalog[Artifact]:
        return self._catalog(ArtifactModel, Artifact)

    @property
    def dataitems(self) -> Catalog[Dataitem]:
        return self._catalog(DataitemModel, Dataitem)

    @property
    def models(self) -> Catalog[Model]:
        return self._catalog(ModelModel, Model)

    def _new_data(
        self,
        catalog: Catalog[T],
        name: str,
        kind: str,
        uuid: str | None,
        description: str | None,
        labels: list[str] | None,
        embedded: bool,
        path: str | None,
        extensions: list[dict[str, Any]] | None,
        spec: dict[str, Any],
    ) -> T:
        """Register data already stored at ``path`` (a URI or a local path), without copying it."""
        refuse(catalog.what, extensions=extensions)
        if not path:
            raise SpecError(catalog.what, [("path", "give where the data is (a URI or a local path)")])
        document = {
            "name": name,
            "kind": kind,
            "spec": {"path": _local_path(path), **spec},
            "metadata": _metadata(description, labels, embedded),
        }
        return self._new(catalog, document, uuid)

    def _log(
        self,
        catalog: Catalog[T],
        name: str,
        kind: str,
        source: Sources | None,
        spec: dict[str, Any],
        drop_existing: bool,
        path: str | None,
        keep_dir_structure: bool = False,
        **metadata: Any,
    ) -> T:
        """Upload ``source`` and record it as a new version of ``name``."""
        if source is None and ("/" in str(kind) or Path(str(kind)).exists()):
            raise SpecError(
                catalog.what,
                [("kind", f"{kind!r} looks like a path: the second argument is the kind; pass the file as source=")],
            )
        if source is None:
            raise SpecError(catalog.what, [("source", "give the local file or folder to log")])
        if drop_existing:
            self._drop(catalog, name)
        with staged(catalog.what, source, keep_dir_structure) as local:
            entity = log_material(
                self._backend, self.entity, catalog.model, name, kind, local, spec=spec, path=path, **metadata
            )
        return catalog.wrap(entity)

    def new_artifact(
        self,
        name: str,
        kind: str = "artifact",
        uuid: str | None = None,
        description: str | None = None,
        labels: list[str] | None = None,
        embedded: bool = False,
        path: str | None = None,
        extensions: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> Artifact:
        return self._new_data(self.artifacts, name, kind, uuid, description, labels, embedded, path, extensions, kwargs)

    def log_artifact(
        self,
        name: str,
        kind: str = "artifact",
        source: Sources | None = None,
        drop_existing: bool = False,
        path: str | None = None,
        description: str | None = None,
        labels: list[str] | None = None,
        *,
        source_path: str | Path | None = None,
        uuid: str | None = None,
        embedded: bool = False,
        relationships: list[Relationship] | None = None,
        keep_dir_structure: bool = False,
        **kwargs: Any,
    ) -> Artifact:
        """Store a file or folder (or a list of files) as a new artifact version (``source_path``: another
        spelling of ``source``); ``path``: upload there rather than to the project's file store."""
        source = either("artifact", source=source, source_path=source_path)
        spec = {"src_path": str(source) if isinstance(source, (str, Path)) else None, **kwargs}
        return self._log(
            self.artifacts,
            name,
            kind,
            source,
            spec,
            drop_existing,
            path,
            keep_dir_structure,
            uuid=uuid,
            description=description,
            labels=labels,
            embedded=embedded,
            relationships=relationships,
        )

    def get_artifact(self, identifier: str, entity_id: str | None = None) -> Artifact:
        return self.artifacts.get(identifier, entity_id)

    def get_artifact_versions(self, identifier: str) -> list[Artifact]:
        return self.artifacts.versions(identifier)

    def list_artifacts(
        self,
        q: str | None = None,
        name: str | None = None,
        kind: str | None = None,
        user: str | None = None,
        state: str | None = None,
        created: str | None = None,
        updated: str | None = None,
        versions: str | None = None,
        *,
        all_versions: bool = False,
        **options: Unpack[ListOptions],
    ) -> Page[Artifact]:
        versions = "all" if all_versions else versions
        filters = Filters(q=q, name=name, kind=kind, user=user, state=state, created=created, updated=updated)
        filters["versions"] = versions
        return self.artifacts.find(filters, options)

    def import_artifact(self, file: str | None = None, key: str | None = None, reset_id: bool = True) -> Artifact:
        return self._import(self.artifacts, file, key, reset_id)

    def update_artifact(self, entity: Artifact) -> Artifact:
        return self.artifacts.update(entity)

    def delete_artifact(
        self, identifier: str, entity_id: str | None = None, delete_all_versions: bool = False, cascade: bool = True
    ) -> None:
        """Delete an artifact version (cascade: the files this runtime stored for it)."""
        self._delete(self.artifacts, identifier, entity_id, delete_all_versions, cascade)

    def new_dataitem(
        self,
        name: str,
        kind: str = "table",
        uuid: str | None = None,
        description: str | None = None,
        labels: list[str] | None = None,
        embedded: bool = False,
        path: str | None = None,
        extensions: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> Dataitem:
        """Register data already stored at ``path`` (a URI or local path), without copying it."""
        return self._new_data(self.dataitems, name, kind, uuid, description, labels, embedded, path, extensions, kwargs)

    def log_dataitem(
        self,
        name: str,
        kind: str = "table",
        source: Sources | None = None,
        data: Any = None,
        drop_existing: bool = False,
        description: str | None = None,
        labels: list[str] | None = None,
        extension: str | None = None,
        path: str | None = None,
        *,
        df: Any = None,
        source_path: str | Path | None = None,
        file_format: str | None = None,
        read_df_params: dict[str, Any] | None = None,
        engine: str | None = "pandas",
        uuid: str | None = None,
        embedded: bool = False,
        relationships: list[Relationship] | None = None,
        **kwargs: Any,
    ) -> Dataitem:
        """Store a DataFrame (``data``, or ``df``) or a file (``source``, or ``source_path``) as a new dataitem
        version; a table (kind ``table``) records its columns and rows."""
        data = either("dataitem", data=data, df=df)
        source = either("dataitem", source=source, source_path=source_path)
        if kind == "table":
            return self.log_table(
                name,
                source,
                data,
                None,
                drop_existing,
                path,
                description,
                labels,
                file_format,
                read_df_params,
                engine,
                extension=extension,
                uuid=uuid,
                embedded=embedded,
                relationships=relationships,
                **kwargs,
            )
        if data is not None:
            raise SpecError("dataitem", [("data", f"a DataFrame is logged as kind 'table', not {kind!r}")])
        return self._log(
            self.dataitems,
            name,
            kind,
            source,
            kwargs,
            drop_existing,
            path,
            uuid=uuid,
            description=description,
            labels=labels,
            embedded=embedded,
            relationships=relationships,
        )

    def log_table(
        self,
        name: str,
        source: Sources | None = None,
        data: Any = None,
        sql: str | None = None,
        drop_existing: bool = False,
        path: str | None = None,
        description: str | None = None,
        labels: list[str] | None = None,
        file_format: str | None = None,
        read_df_params: dict[str, Any] | None = None,
        engine: str | None = None,
        *,
        extension: str | None = None,
        uuid: str | None = None,
        embedded: bool = False,
        relationships: list[Relationship] | None = None,
        **kwargs: Any,
    ) -> Dataitem:
        """Store a table: a DataFrame (``data``, written as parquet, or ``extension``) or a file or folder of
        parquet/csv/json (``source``, read with ``read_df_params`` to record its columns and rows)."""
        refuse("table", sql=sql)
        check_engine(engine)
        if (source is None) == (data is None):
            raise SpecError(
                "dataitem",
                [("data", "give exactly one of data (a DataFrame; or df=) or source (a file; or source_path=)")],
            )
        with tempfile.TemporaryDirectory() as tmp:
            if source is not None:
                with staged("dataitem", source) as local:
                    table = schema(read_table(local, file_format, **(read_df_params or {})))
            else:
                require("data")  # parquet needs pyarrow
                source = write_table(data, Path(tmp, f"{name}.{extension or 'parquet'}"), extension)
                table = schema(data)
            return self._log(
                self.dataitems,
                name,
                "table",
                source,
                {**table, **kwargs},
                drop_existing,
                path,
                uuid=uuid,
                description=description,
                labels=labels,
                embedded=embedded,
                relationships=relationships,
            )

    def get_dataitem(self, identifier: str, entity_id: str | None = None) -> Dataitem:
        return self.dataitems.get(identifier, entity_id)

    def get_dataitem_versions(self, identifier: str) -> list[Dataitem]:
        return self.dataitems.versions(identifier)

    def list_dataitems(
        self,
        q: str | None = None,
        name: str | None = None,
        kind: str | None = None,
        user: str | None = None,
        state: str | None = None,
        created: str | None = None,
        updated: str | None = None,
        versions: str | None = None,
        *,
        all_versions: bool = False,
        **options: Unpack[ListOptions],
    ) -> Page[Dataitem]:
        versions = "all" if all_versions else versions
        filters = Filters(q=q, name=name, kind=kind, user=user, state=state, created=created, updated=updated)
        filters["versions"] = versions
        return self.dataitems.find(filters, options)

    def import_dataitem(self, file: str | None = None, key: str | None = None, reset_id: bool = True) -> Dataitem:
        return self._import(self.dataitems, file, key, reset_id)

    def update_dataitem(self, entity: Dataitem) -> Dataitem:
        return self.dataitems.update(entity)

    def delete_dataitem(
        self, identifier: str, entity_id: str | None = None, delete_all_versions: bool = False, cascade: bool = True
    ) -> None:
        """Delete a dataitem version (cascade: the files this runtime stored for it)."""
        self._delete(self.dataitems, identifier, entity_id, delete_all_versions, cascade)

    def new_model(
        self,
        name: str,
        kind: str = "model",
        uuid: str | None = None,
        description: str | None = None,
        labels: list[str] | None = None,
        embedded: bool = False,
        path: str | None = None,
        extensions: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> Model:
        return self._new_data(self.models, name, kind, uuid, description, labels, embedded, path, extensions, kwargs)

    def log_model(
        self,
        name: str,
        kind: str = "model",
        source: Sources | None = None,
        drop_existing: bool = False,
        path: str | None = None,
        description: str | None = None,
        labels: list[str] | None = None,
        *,
        source_path: str | Path | None = None,
        uuid: str | None = None,
        embedded: bool = False,
        relationships: list[Relationship] | None = None,
        keep_dir_structure: bool = False,
        **kwargs: Any,
    ) -> Model:
        """Store a model file or folder; ``kwargs``: framework, algorithm, parameters, metrics."""
        source = either("model", source=source, source_path=source_path)
        spec = {"src_path": str(source) if isinstance(source, (str, Path)) else None, **kwargs}
        return self._log(
            self.models,
            name,
            kind,
            source,
            spec,
            drop_existing,
            path,
            keep_dir_structure,
            uuid=uuid,
            description=description,
            labels=labels,
            embedded=embedded,
            relationships=relationships,
        )

    def get_model(self, identifier: str, entity_id: str | None = None) -> Model:
        return self.models.get(identifier, entity_id)

    def get_model_versions(self, identifier: str) -> list[Model]:
        return self.models.versions(identifier)

    def list_models(
        self,
        q: str | None = None,
        name: str | None = None,
        kind: str | None = None,
        user: str | None = None,
        state: str | None = None,
        created: str | None = None,
        updated: str | None = None,
        versions: str | None = None,
        *,
        all_versions: bool = False,
        **options: Unpack[ListOptions],
    ) -> Page[Model]:
        versions = "all" if all_versions else versions
        filters = Filters(q=q, name=name, kind=kind, user=user, state=state, created=created, updated=updated)
        filters["versions"] = versions
        return self.models.find(filters, options)

    def import_model(self, file: str | None = None, key: str | None = None, reset_id: bool = True) -> Model:
        return self._import(self.models, file, key, reset_id)

    def update_model(self, entity: Model) -> Model:
        return self.models.update(entity)

    def delete_model(
        self, identifier: str, entity_id: str | None = None, delete_all_versions: bool = False, cascade: bool = True
    ) -> None:
        """Delete a model version (cascade: the files this runtime stored for it)."""
        self._delete(self.models, identifier, entity_id, delete_all_versions, cascade)

    # The project itself

    def save(self, update: bool = False) -> Project:
        """Store the project: create it, or (``update``) write back its spec and metadata."""
        given = self.entity
        if not update:
            self.entity = self._backend.store.create(given)
            return self

        def change(stored: ProjectModel) -> ProjectModel:
            stored.spec = given.spec
            stored.metadata = given.metadata.model_copy(update={"created": stored.metadata.created})
            return stored

        self._update(change)
        return self

    def export(self) -> str:
        """Write the project with every version of its functions and data entities to
        ``<spec.source>/projects-<name>.yaml`` (non-embedded entities in files beside it); the path."""
        return str(export_project(self._backend, self.refresh().entity))

    def share(self, user: str) -> None:
        refuse("project", share=user)

    def unshare(self, user: str) -> None:
        refuse("project", unshare=user)

    def run(self, workflow: str | None = None, **kwargs: Any) -> Run:
        """Workflows are not part of this runtime: refused (run a function instead)."""
        raise SpecError("project run", [("workflow", REASONS["workflow"])])
