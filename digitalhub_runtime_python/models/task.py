"""Tasks: how a function runs (job, serve, build, interactive session) and on what resources."""

from __future__ import annotations

import re
from enum import Enum
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from digitalhub_runtime_python.models.base import Entity, EntityStatus, StrictModel, check_name
from digitalhub_runtime_python.models.cel import only_for_action

# Kubernetes resource quantity, e.g. "500m", "2", "1.5", "512Mi", "1G", "1e3".
QUANTITY_PATTERN = r"^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|([eE][-+]?[0-9]+))?$"
_QUANTITY_RE = re.compile(QUANTITY_PATTERN)
ENV_NAME_PATTERN = r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"
OBJECT_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"
INSTALLER_PREFIXES = ("UV_", "PIP_")
"""Variables of the package installers: their index URLs must not carry credentials in a stored task."""
_URL_CREDENTIALS = re.compile(r"://[^/@\s:]+:[^/@\s]+@")


class Action(str, Enum):
    JOB = "job"
    SERVE = "serve"
    BUILD = "build"
    SESSION = "session"


class ServiceType(str, Enum):
    CLUSTER_IP = "ClusterIP"
    NODE_PORT = "NodePort"
    LOAD_BALANCER = "LoadBalancer"


def check_quantity(value: object, field: str) -> str:
    """Validate a Kubernetes quantity: a string such as ``500m`` or ``2Gi``, or a whole number (as CRDs take them)."""
    if isinstance(value, float):
        raise ValueError(f"{field} {value!r}: give a fractional quantity as a string, e.g. '{value:g}' or '500m'")
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _QUANTITY_RE.match(text):
        raise ValueError(f"{field} {value!r} is not a Kubernetes quantity: use e.g. '500m', '2', '512Mi', '1Gi'")
    return text


def _quantity(value: object, info: ValidationInfo) -> object:
    return check_quantity(value, info.field_name or "quantity")


# The CRD schema of a quantity: what Kubernetes generates for resource.Quantity (integer or string, the pattern).
QUANTITY_SCHEMA: dict[str, Any] = {
    "x-kubernetes-int-or-string": True,
    "anyOf": [{"type": "integer"}, {"type": "string"}],
    "pattern": QUANTITY_PATTERN,
    "minimum": 0,
}
Quantity = Annotated[str, BeforeValidator(_quantity), WithJsonSchema(QUANTITY_SCHEMA)]
"""A Kubernetes quantity; a whole number is kept as its string."""


def _amount_schema(schema: dict[str, Any]) -> None:
    """A quantity (the request) or ``{requests, limits}``, said with the value validations a structural schema
    allows: no type, unknown fields kept, each JSON type constrained by the keywords that apply to it."""
    schema.pop("type", None)
    schema.update(
        {
            "x-kubernetes-preserve-unknown-fields": True,
            "pattern": QUANTITY_PATTERN,  # strings
            "minimum": 0,  # numbers: whole, not negative
            "multipleOf": 1,
            "maxItems": 0,  # arrays: none
            "not": {"enum": [True, False, []]},  # booleans, the empty array
            "anyOf": [  # objects: requests and/or limits, nothing else
                {"maxProperties": 0},
                {"required": ["requests"], "maxProperties": 1},
                {"required": ["limits"], "maxProperties": 1},
                {"required": ["requests", "limits"], "maxProperties": 2},
            ],
        }
    )


class ResourceAmount(StrictModel):
    """Requests and limits for one resource; a bare quantity (``"500m"``, ``2``) is taken as the request."""

    model_config = ConfigDict(json_schema_extra=_amount_schema)

    requests: Quantity | None = None
    limits: Quantity | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: object) -> object:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return {"requests": value}
        return value


class Resources(StrictModel):
    """CPU, memory and GPU for the task's containers (``gpu`` maps to ``nvidia.com/gpu``)."""

    cpu: ResourceAmount | None = None
    mem: ResourceAmount | None = None
    gpu: ResourceAmount | None = None


class EnvVar(StrictModel):
    name: str = Field(pattern=ENV_NAME_PATTERN)
    value: str


class Volume(StrictModel):
    """A volume mounted into the task's containers."""

    name: str
    volume_type: Literal["persistent_volume_claim", "empty_dir", "config_map", "secret"]
    mount_path: str = Field(pattern=r"^/")
    source: str | None = Field(None, description="Claim, ConfigMap or Secret name (not for empty_dir)")
    size_limit: Quantity | None = Field(None, description="empty_dir size limit")
    read_only: bool = False

    @field_validator("name")
    @classmethod
    def _dns_name(cls, value: str) -> str:
        return check_name(value, "volume name")

    @model_validator(mode="after")
    def _source_needed(self) -> Volume:
        if self.volume_type != "empty_dir" and not self.source:
            raise ValueError(f"volume {self.name!r} of type {self.volume_type} needs 'source' (the object's name)")
        return self


def check_job_store_url(value: str, password_fix: str) -> str:
    """A Redis URL without a password (``password_fix`` says where the password goes instead)."""
    parts = urlsplit(value)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ValueError("not a Redis URL: use redis://host:6379/0 (rediss:// for TLS)")
    if parts.password is not None or "password" in parse_qs(parts.query):  # the message must not repeat the URL
        raise ValueError(
            f"the URL carries a password, which would end up in logs and records: remove it and {password_fix}"
        )
    return value


class JobStoreSpec(StrictModel):
    """The Redis that the replicas of a serve run share for their async jobs, and the Secret with its password."""

    url: str = Field(description="redis://host:6379/0 (rediss:// for TLS), without a password")
    password_secret: str | None = Field(
        None,
        description="Secret holding the password, passed to serve pods (locally: the environment's "
        "DIGITALHUB_SERVE_JOB_STORE_PASSWORD)",
    )
    password_key: str = Field(
        "password", pattern=r"^[-._a-zA-Z0-9]+$", description="Key of the password in password_secret"
    )

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        return check_job_store_url(value, "name a Secret holding it in job_store.password_secret")


ACTION_ONLY: dict[str, Action] = {
    "backoff_limit": Action.JOB,
    "active_deadline_seconds": Action.JOB,
    "concurrency_policy": Action.JOB,
    "suspend": Action.JOB,
    "successful_jobs_history_limit": Action.JOB,
    "failed_jobs_history_limit": Action.JOB,
    "replicas": Action.SERVE,
    "service_type": Action.SERVE,
    "service_name": Action.SERVE,
    "job_store": Action.SERVE,
    "instructions": Action.BUILD,
    "idle_timeout": Action.SESSION,
}
LIST_FIELDS = frozenset({"instructions"})
ObjectName = Annotated[str, Field(pattern=OBJECT_NAME_PATTERN)]


class TaskSpec(StrictModel):
    """Spec of a task. Fields after ``priority_class_name`` apply to one action only."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                only_for_action(field, action, field in LIST_FIELDS) for field, action in ACTION_ONLY.items()
            ]
        }
    )

    function: str = Field(description="Key of the function")
    action: Action
    resources: Resources = Field(default_factory=Resources)
    envs: list[EnvVar] = Field(default_factory=list)
    secrets: list[str] = Field(default_factory=list)
    volumes: list[Volume] = Field(default_factory=list)
    node_selector: dict[str, str] = Field(default_factory=dict)
    affinity: dict[str, Any] | None = None
    tolerations: list[dict[str, Any]] = Field(default_factory=list)
    service_account: str | None = None
    image_pull_secrets: list[ObjectName] = Field(default_factory=list, description="Secrets to pull the image with")
    priority_class_name: ObjectName | None = Field(None, description="PriorityClass of the run's pods")
    backoff_limit: int | None = Field(None, ge=0)
    active_deadline_seconds: int | None = Field(None, gt=0)
    concurrency_policy: Literal["Allow", "Forbid", "Replace"] | None = Field(
        None, description="Scheduled runs: whether a firing may overlap the previous one (CronJob default: Allow)"
    )
    suspend: bool | None = Field(None, description="Scheduled runs: create the CronJob suspended")
    successful_jobs_history_limit: int | None = Field(
        None, ge=0, description="Scheduled runs: finished Jobs the CronJob keeps (default 3)"
    )
    failed_jobs_history_limit: int | None = Field(
        None, ge=0, description="Scheduled runs: failed Jobs the CronJob keeps (default 1)"
    )
    replicas: int | None = Field(None, ge=0)
    service_type: ServiceType | None = None
    service_name: str | None = None
    job_store: JobStoreSpec | None = Field(None, description="Redis shared by the replicas for async jobs")
    instructions: list[str] = Field(default_factory=list)
    idle_timeout: int | None = Field(
        None, gt=0, description="Seconds a session waits for a request before it ends (default: one hour)"
    )

    @field_validator("envs", mode="before")
    @classmethod
    def _env_mapping(cls, value: object) -> object:
        if isinstance(value, dict):
            return [{"name": k, "value": str(v)} for k, v in value.items()]
        return value

    @field_validator("envs")
    @classmethod
    def _no_index_credentials(cls, value: list[EnvVar]) -> list[EnvVar]:
        for env in value:
            if env.name.startswith(INSTALLER_PREFIXES) and _URL_CREDENTIALS.search(env.value):
                raise ValueError(
                    f"{env.name} has credentials in its URL, and a task's envs are stored in clear: put the "
                    "variable in a Secret and name it in secrets (docs/environments.md)"
                )
        return value

    @field_validator("node_selector", mode="before")
    @classmethod
    def _selector_list(cls, value: object) -> object:
        if isinstance(value, list):
            return {item["key"]: item["value"] for item in value}
        return value

    @model_validator(mode="after")
    def _fields_match_action(self) -> TaskSpec:
        for field, action in ACTION_ONLY.items():
            if getattr(self, field) not in (None, []) and self.action != action.value:
                raise ValueError(f"{field} applies to {action.value} tasks only, not {self.action}: remove it")
        return self


class Task(Entity):
    ENTITY_TYPE: ClassVar[str] = "task"
    IMMUTABLE_SPEC: ClassVar[bool] = True

    kind: Literal["python+job", "python+serve", "python+build", "python+session"]
    spec: TaskSpec
    status: EntityStatus = Field(default_factory=EntityStatus)


def task_kind(action: Action | str) -> str:
    """``job`` -> ``python+job``."""
    return f"python+{Action(action).value}"
