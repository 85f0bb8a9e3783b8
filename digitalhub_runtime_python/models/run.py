"""Runs: one execution of a task, with its inputs, parameters and what came out."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from digitalhub_runtime_python.models.base import Entity, StrictModel, check_name, now
from digitalhub_runtime_python.models.builds import BuildInfo
from digitalhub_runtime_python.models.cel import only_for_action, rule
from digitalhub_runtime_python.models.conditions import Condition, agree, derive
from digitalhub_runtime_python.models.keys import parse_key
from digitalhub_runtime_python.models.metrics import MetricValue, check_metric
from digitalhub_runtime_python.models.states import State, Transition
from digitalhub_runtime_python.models.task import Action

# Five cron fields (minute hour day-of-month month day-of-week) or a macro, as Kubernetes CronJobs take them.
CRON_PATTERN = r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|[0-9A-Za-z*?,/-]+( +[0-9A-Za-z*?,/-]+){4})$"


class RunSpec(StrictModel):
    """What to run and with which arguments."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                only_for_action("schedule", Action.JOB),
                rule(
                    "!has(self.schedule) || !has(self.local_execution) || !self.local_execution",
                    "schedule: scheduled runs execute on the cluster: remove local_execution",
                    ".schedule",
                ),
            ]
        }
    )

    task: str = Field(description="Key of the task")
    function: str = Field(description="Key of the function")
    action: Action
    inputs: dict[str, str] = Field(default_factory=dict, description="Argument name -> entity key")
    parameters: dict[str, Any] = Field(default_factory=dict, description="Argument name -> plain value")
    outputs: dict[str, str] = Field(default_factory=dict, description="Output name -> name to log it under")
    init_parameters: dict[str, Any] = Field(
        default_factory=dict, description="Serve only: options for the init function"
    )
    local_execution: bool = False
    isolation: Literal["inprocess", "subprocess"] = Field(
        "inprocess", description="Local execution only: in the calling process, or in a child process"
    )
    schedule: str | None = Field(
        None,
        pattern=CRON_PATTERN,
        description="Job runs on Kubernetes: a cron schedule ('0 3 * * *', '@daily'); each time it fires, a new "
        "run of the same task executes, and this run stays RUNNING until stopped",
    )

    @field_validator("inputs")
    @classmethod
    def _input_keys(cls, value: dict[str, str]) -> dict[str, str]:
        for argument, key in value.items():
            try:
                parse_key(key)
            except ValueError as exc:
                raise ValueError(f"input {argument!r}: {exc}") from None
        return value

    @field_validator("outputs")
    @classmethod
    def _output_names(cls, value: dict[str, str]) -> dict[str, str]:
        for output, name in value.items():
            check_name(name, f"name for output {output!r}")
        return value

    @model_validator(mode="after")
    def _fields_match_action(self) -> RunSpec:
        if self.init_parameters and self.action != Action.SERVE.value:
            raise ValueError(f"init_parameters apply to serve runs only, not {self.action}: remove them")
        if self.schedule is not None and self.action != Action.JOB.value:
            raise ValueError(f"schedule applies to job runs only, not {self.action}: remove it")
        if self.schedule is not None and self.local_execution:
            raise ValueError("schedule: scheduled runs execute on the cluster: remove local_execution")
        return self


class ErrorInfo(StrictModel):
    """Why a run failed."""

    type: str
    message: str
    traceback: str | None = None


class ServiceInfo(StrictModel):
    """Where a serve run answers, and how many replicas are up."""

    url: str | None = None
    replicas: int | None = None
    available_replicas: int | None = None


class LogTail(StrictModel):
    """The end of a finished pod's log, kept on the run for when the pod is gone (Job TTL, node loss)."""

    pod: str
    text: str
    time: datetime = Field(default_factory=now, description="When the tail was read")
    truncated: bool = Field(False, description="True when earlier lines were dropped")


class KubernetesInfo(StrictModel):
    """The Kubernetes objects behind a remote run, and why they are stuck, if they are."""

    job: str | None = None
    deployment: str | None = None
    service: str | None = None
    cronjob: str | None = Field(None, description="The CronJob of a scheduled run")
    pods: list[str] = Field(default_factory=list)
    reason: str | None = None
    log_tail: LogTail | None = None


class EnvironmentInfo(StrictModel):
    """The Python environment a run executed in: its function's requirements, installed with uv."""

    key: str = Field(description="Content key of the environment (python, requirements, index settings)")
    python: str = Field(description="Python version of the environment, e.g. 3.11")
    built: bool = Field(description="True when this run built the environment, False when it reused one")
    seconds: float = Field(description="Time spent getting the environment ready, before the handler was imported")


class ProcessInfo(StrictModel):
    """The local process executing a run, identified so that a reused pid is never mistaken for it."""

    pid: int
    started: float = Field(description="The process's start time (seconds since the epoch)")
    host: str = Field(description="Host name of the machine the process runs on")


class RunStatus(StrictModel):
    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True, serialize_by_alias=True)

    state: State = State.CREATED
    message: str | None = None
    transitions: list[Transition] = Field(default_factory=list)
    results: dict[str, Any] = Field(default_factory=dict, description="Plain values returned by the handler")
    outputs: dict[str, str] = Field(default_factory=dict, description="Output name -> key of the logged entity")
    error: ErrorInfo | None = None
    process: ProcessInfo | None = Field(None, description="Local process executing the run, if any")
    service: ServiceInfo | None = None
    kubernetes: KubernetesInfo | None = None
    environment: EnvironmentInfo | None = None
    build: BuildInfo | None = Field(None, description="Build runs: the Dockerfile, the image and its digest")
    metrics: dict[str, MetricValue] = Field(
        default_factory=dict, description="Metric name -> a number, or the series of numbers logged under it"
    )

    conditions: list[Condition] = Field(
        default_factory=list,
        description="Ready, Completed, Failed, Stopped, Finished: derived from the state (for kubectl wait)",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    observed_generation: int | None = Field(
        None, ge=0, alias="observedGeneration", description="The metadata.generation this status was written for"
    )

    @field_validator("metrics", mode="before")
    @classmethod
    def _metric_values(cls, value: object) -> object:
        return {key: check_metric(key, item) for key, item in value.items()} if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _conditions_follow_state(self) -> RunStatus:
        """Conditions missing (a status written before they existed) or out of step with the state are derived."""
        if not agree(self.conditions, self.state):
            object.__setattr__(self, "conditions", derive(self.state, self.message, self.conditions))
        return self

    def refresh_conditions(self, blocked_by: str | None = None) -> None:
        """Derive the conditions again from state and message (after a transition or a new message)."""
        object.__setattr__(self, "conditions", derive(self.state, self.message, self.conditions, blocked_by))


class Run(Entity):
    ENTITY_TYPE: ClassVar[str] = "run"
    IMMUTABLE_SPEC: ClassVar[bool] = True

    kind: Literal["python+run"] = "python+run"
    spec: RunSpec
    status: RunStatus = Field(default_factory=lambda: RunStatus(transitions=[Transition(state=State.CREATED)]))
