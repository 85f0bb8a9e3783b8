"""Runs: one execution of a task, with its inputs, parameters and what came out."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from digitalhub_runtime_python.models.base import Entity, StrictModel, check_name
from digitalhub_runtime_python.models.keys import parse_key
from digitalhub_runtime_python.models.metrics import MetricValue, check_metric
from digitalhub_runtime_python.models.states import State, Transition
from digitalhub_runtime_python.models.task import Action


class RunSpec(StrictModel):
    """What to run and with which arguments."""

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
    def _init_parameters_for_serve(self) -> RunSpec:
        if self.init_parameters and self.action != Action.SERVE.value:
            raise ValueError(f"init_parameters apply to serve runs only, not {self.action}: remove them")
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


class KubernetesInfo(StrictModel):
    """The Kubernetes objects behind a remote run, and why they are stuck, if they are."""

    job: str | None = None
    deployment: str | None = None
    service: str | None = None
    pods: list[str] = Field(default_factory=list)
    reason: str | None = None


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
    metrics: dict[str, MetricValue] = Field(
        default_factory=dict, description="Metric name -> a number, or the series of numbers logged under it"
    )

    @field_validator("metrics", mode="before")
    @classmethod
    def _metric_values(cls, value: object) -> object:
        return {key: check_metric(key, item) for key, item in value.items()} if isinstance(value, dict) else value


class Run(Entity):
    ENTITY_TYPE: ClassVar[str] = "run"

    kind: Literal["python+run"] = "python+run"
    spec: RunSpec
    status: RunStatus = Field(default_factory=lambda: RunStatus(transitions=[Transition(state=State.CREATED)]))
