"""Pydantic models of every entity, their keys and run states. Imports nothing else of the package."""

from .base import Entity, EntityStatus, Metadata, Relationship, StrictModel, check_name, new_id, now
from .builds import BuildInfo
from .data import Artifact, ArtifactSpec, Dataitem, DataitemSpec, DataStatus, FileInfo, Model, ModelSpec
from .errors import SpecError, format_validation_error, validate
from .function import Function, FunctionSpec, PythonVersion
from .keys import InvalidKey, ParsedKey, build_key, parse_key
from .project import Project, ProjectSpec
from .run import EnvironmentInfo, ErrorInfo, KubernetesInfo, Run, RunSpec, RunStatus, ServiceInfo
from .states import FINAL_STATES, IllegalTransition, State, Transition, check_transition, is_final
from .task import Action, EnvVar, ResourceAmount, Resources, ServiceType, Task, TaskSpec, Volume, task_kind
from .types import ENTITY_TYPES, entity_class

__all__ = [
    "Action",
    "Artifact",
    "ArtifactSpec",
    "BuildInfo",
    "DataStatus",
    "Dataitem",
    "DataitemSpec",
    "ENTITY_TYPES",
    "Entity",
    "EntityStatus",
    "EnvVar",
    "EnvironmentInfo",
    "ErrorInfo",
    "KubernetesInfo",
    "ServiceInfo",
    "FINAL_STATES",
    "FileInfo",
    "Function",
    "FunctionSpec",
    "IllegalTransition",
    "InvalidKey",
    "Metadata",
    "Model",
    "ModelSpec",
    "ParsedKey",
    "Project",
    "ProjectSpec",
    "PythonVersion",
    "Relationship",
    "ResourceAmount",
    "Resources",
    "Run",
    "RunSpec",
    "RunStatus",
    "ServiceType",
    "SpecError",
    "State",
    "StrictModel",
    "Task",
    "TaskSpec",
    "Transition",
    "Volume",
    "build_key",
    "check_name",
    "check_transition",
    "entity_class",
    "format_validation_error",
    "is_final",
    "new_id",
    "now",
    "parse_key",
    "task_kind",
    "validate",
]
