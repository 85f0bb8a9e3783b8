"""A project as an object: create functions, log and fetch data entities, find runs."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, TypeVar

from digitalhub_runtime_python.entities.base import EntityObject
from digitalhub_runtime_python.entities.data import OBJECT_CLASSES, Artifact, Dataitem, DataObject, Model
from digitalhub_runtime_python.entities.function import Function
from digitalhub_runtime_python.entities.run import Run
from digitalhub_runtime_python.extras import require
from digitalhub_runtime_python.models.base import Entity, Relationship, new_id
from digitalhub_runtime_python.models.data import Artifact as ArtifactModel
from digitalhub_runtime_python.models.data import Dataitem as DataitemModel
from digitalhub_runtime_python.models.data import DataStatus
from digitalhub_runtime_python.models.data import Model as ModelModel
from digitalhub_runtime_python.models.errors import SpecError, validate
from digitalhub_runtime_python.models.function import Function as FunctionModel
from digitalhub_runtime_python.models.function import FunctionSpec
from digitalhub_runtime_python.models.keys import parse_key
from digitalhub_runtime_python.models.project import Project as ProjectModel
from digitalhub_runtime_python.models.redaction import credentials_in, mask_url, urls_in
from digitalhub_runtime_python.models.run import Run as RunModel
from digitalhub_runtime_python.sources.base import scheme_of
from digitalhub_runtime_python.stores.base import NotFound
from digitalhub_runtime_python.stores.files import file_info

D = TypeVar("D", ArtifactModel, DataitemModel, ModelModel)

OBJECTS: dict[str, type[EntityObject]] = {**OBJECT_CLASSES, "function": Function, "run": Run}
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

    # Functions

    def new_function(
        self,
        name: str,
        kind: str = "python",
        *,
        description: str | None = None,
        labels: list[str] | None = None,
        **spec: Any,
    ) -> Function:
        """Create a function, or return the latest version when its spec is unchanged."""
        if kind != "python":
            raise SpecError("function", [("kind", f"{kind!r} is not supported: use 'python'")])
        unknown = set(spec) - set(FunctionSpec.model_fields)
        if unknown:
            raise SpecError(
                "function",
                [(f"spec.{field}", "unknown field: remove it or check its spelling") for field in sorted(unknown)],
            )
        refuse_credentials(spec)
        code_src = spec.get("code_src")
        if code_src and not scheme_of(code_src) and Path(code_src).expanduser().exists():
            spec["code_src"] = str(Path(code_src).expanduser().resolve())
        entity = validate(
            FunctionModel,
            {
                "project": self.name,
                "name": name,
                "kind": kind,
                "spec": spec,
                "metadata": {"description": description, "labels": labels or []},
            },
            "function",
        )
        try:
            latest = self._backend.store.get(FunctionModel, self.name, name)
        except NotFound:
            latest = None
        if latest is not None and latest.spec == entity.spec:
            return Function(latest, self._backend)
        return Function(self._backend.store.create(entity), self._backend)

    def get_function(self, name: str, id: str | None = None) -> Function:
        """A function by name; the latest version unless ``id`` is given."""
        return Function(self._backend.store.get(FunctionModel, self.name, name, id), self._backend)

    def list_functions(self, all_versions: bool = False) -> list[Function]:
        return [
            Function(f, self._backend)
            for f in self._backend.store.list(FunctionModel, self.name, all_versions=all_versions)
        ]

    # Runs and any entity by key

    def get_run(self, id: str) -> Run:
        backend = self._backend
        return Run(backend.reconcile(backend.store.get(RunModel, self.name, id, id)), backend)

    def list_runs(self) -> list[Run]:
        backend = self._backend
        return [Run(backend.reconcile(run), backend) for run in backend.store.list(RunModel, self.name)]

    def get_entity(self, key: str) -> EntityObject:
        """Any entity of this project by key, as its SDK object."""
        parsed = parse_key(key)
        if parsed.project != self.name:
            raise NotFound(f"{key} belongs to project {parsed.project!r}, not {self.name!r}")
        entity = self._backend.store.get_key(key)
        if isinstance(entity, RunModel):
            entity = self._backend.reconcile(entity)
        return OBJECTS.get(entity.ENTITY_TYPE, EntityObject)(entity, self._backend)

    # Data entities

    def _log(
        self,
        model: type[D],
        name: str,
        kind: str,
        source: Path,
        spec: dict[str, Any],
        description: str | None,
        labels: list[str] | None,
        relationships: list[Relationship] | None,
    ) -> D:
        """Upload ``source`` to the project's file store and record it as a new version of ``name``."""
        source = Path(source)
        if not source.exists():
            raise SpecError(model.ENTITY_TYPE, [("source_path", f"{source} does not exist")])
        entity_id = new_id()
        entity = validate(
            model,
            {
                "project": self.name,
                "name": name,
                "id": entity_id,
                "kind": kind,
                "spec": {"path": "pending", **spec},
                "metadata": {"description": description, "labels": labels or [], "relationships": relationships or []},
            },
            model.ENTITY_TYPE,
        )
        dest = f"{self.name}/{model.ENTITY_TYPE}/{name}/{entity_id}/{source.name}"
        entity.spec.path = self._backend.files(self.entity).upload(source, dest)
        entity.status = DataStatus(state="READY", files=file_info(source))
        return self._backend.store.create(entity)

    def log_artifact(
        self,
        name: str,
        source_path: str | Path,
        kind: str = "artifact",
        *,
        description: str | None = None,
        labels: list[str] | None = None,
        relationships: list[Relationship] | None = None,
    ) -> Artifact:
        """Store a file or folder as a new artifact version."""
        spec = {"src_path": str(source_path)}
        return Artifact(
            self._log(ArtifactModel, name, kind, Path(source_path), spec, description, labels, relationships),
            self._backend,
        )

    def log_model(
        self,
        name: str,
        source_path: str | Path,
        kind: str = "model",
        *,
        framework: str | None = None,
        algorithm: str | None = None,
        parameters: dict[str, Any] | None = None,
        metrics: dict[str, Any] | None = None,
        description: str | None = None,
        labels: list[str] | None = None,
        relationships: list[Relationship] | None = None,
    ) -> Model:
        """Store a model file or folder with its framework, parameters and metrics."""
        spec = {
            "src_path": str(source_path),
            "framework": framework,
            "algorithm": algorithm,
            "parameters": parameters or {},
            "metrics": metrics or {},
        }
        return Model(
            self._log(ModelModel, name, kind, Path(source_path), spec, description, labels, relationships),
            self._backend,
        )

    def log_dataitem(
        self,
        name: str,
        *,
        df: Any = None,
        source_path: str | Path | None = None,
        kind: str = "table",
        description: str | None = None,
        labels: list[str] | None = None,
        relationships: list[Relationship] | None = None,
    ) -> Dataitem:
        """Store a pandas DataFrame (as parquet) or a file as a new dataitem version."""
        if (df is None) == (source_path is None):
            raise SpecError("dataitem", [("df", "give exactly one of df or source_path")])
        if source_path is not None:
            return Dataitem(
                self._log(DataitemModel, name, kind, Path(source_path), {}, description, labels, relationships),
                self._backend,
            )
        require("data")  # parquet needs pyarrow
        spec = {"columns": {str(c): str(t) for c, t in df.dtypes.items()}, "rows": len(df)}
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{name}.parquet"
            df.to_parquet(path)
            return Dataitem(
                self._log(DataitemModel, name, kind, path, spec, description, labels, relationships), self._backend
            )

    def new_dataitem(
        self,
        name: str,
        path: str,
        kind: str = "table",
        *,
        description: str | None = None,
        labels: list[str] | None = None,
    ) -> Dataitem:
        """Register data already stored at ``path`` (a URI), without copying it."""
        entity = validate(
            DataitemModel,
            {
                "project": self.name,
                "name": name,
                "kind": kind,
                "spec": {"path": path},
                "metadata": {"description": description, "labels": labels or []},
            },
            "dataitem",
        )
        return Dataitem(self._backend.store.create(entity), self._backend)

    def _get(self, cls: type[DataObject], model: type[Entity], name: str, id: str | None) -> Any:
        return cls(self._backend.store.get(model, self.name, name, id), self._backend)

    def _list(self, cls: type[DataObject], model: type[Entity], all_versions: bool) -> list[Any]:
        return [cls(e, self._backend) for e in self._backend.store.list(model, self.name, all_versions=all_versions)]

    def get_dataitem(self, name: str, id: str | None = None) -> Dataitem:
        return self._get(Dataitem, DataitemModel, name, id)

    def get_artifact(self, name: str, id: str | None = None) -> Artifact:
        return self._get(Artifact, ArtifactModel, name, id)

    def get_model(self, name: str, id: str | None = None) -> Model:
        return self._get(Model, ModelModel, name, id)

    def list_dataitems(self, all_versions: bool = False) -> list[Dataitem]:
        return self._list(Dataitem, DataitemModel, all_versions)

    def list_artifacts(self, all_versions: bool = False) -> list[Artifact]:
        return self._list(Artifact, ArtifactModel, all_versions)

    def list_models(self, all_versions: bool = False) -> list[Model]:
        return self._list(Model, ModelModel, all_versions)
