"""Pure mapping of Job / Pod / Deployment state to a run's state and message.

Who writes what: the in-pod runtime records READY, RUNNING and the end of a job run (with its results); the
operator records what only Kubernetes knows: why pods are stuck, failures the runtime could not record
(OOMKilled, deadline exceeded, image pull errors), and the whole life of a serve run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from digitalhub_runtime_python.models.run import ErrorInfo, KubernetesInfo, RunStatus, ServiceInfo
from digitalhub_runtime_python.models.states import IllegalTransition, State, is_final
from digitalhub_runtime_python.stores.base import apply_transition

# Waiting reasons worth surfacing, and those that will never fix themselves.
WAITING_REASONS = frozenset(
    {
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "ErrImageNeverPull",
        "CreateContainerConfigError",
        "CreateContainerError",
        "CrashLoopBackOff",
        "RunContainerError",
        "PreCreateHookError",
    }
)
PERMANENT_REASONS = frozenset({"InvalidImageName", "ErrImageNeverPull"})


@dataclass(frozen=True)
class Problem:
    """Why a pod is not doing its work."""

    pod: str
    reason: str
    message: str

    def describe(self) -> str:
        return f"pod {self.pod}: {self.reason}" + (f": {self.message}" if self.message else "")


@dataclass(frozen=True)
class Observation:
    """What the workload says about the run: the state to move to (None: stay) and what to show."""

    state: State | None
    message: str | None
    reason: str | None = None
    pods: tuple[str, ...] = ()
    started: bool = False
    """A pod got past scheduling and image pulling (the pending deadline no longer applies)."""
    service: ServiceInfo | None = None
    stuck_since: datetime | None = None
    """When the workload was created; the pending deadline counts from here."""


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}


def _timestamp(obj: dict[str, Any]) -> datetime | None:
    raw = _meta(obj).get("creationTimestamp")
    if isinstance(raw, datetime):
        return raw
    return datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw else None


def _true_conditions(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c.get("type"): c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("status") == "True"}


def pod_problem(pod: dict[str, Any]) -> Problem | None:
    """The most telling reason a pod is stuck or failing, if any."""
    name = _meta(pod).get("name", "?")
    status = pod.get("status") or {}
    if status.get("reason") in ("DeadlineExceeded", "Evicted", "OutOfmemory", "OutOfcpu"):
        return Problem(name, status["reason"], status.get("message", ""))
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return Problem(name, condition.get("reason") or "Unschedulable", condition.get("message", ""))
    for container in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
        state = container.get("state") or {}
        waiting = state.get("waiting") or {}
        if waiting.get("reason") in WAITING_REASONS:
            last = ((container.get("lastState") or {}).get("terminated") or {}).get("reason")
            reason = "OOMKilled" if last == "OOMKilled" else waiting["reason"]
            return Problem(name, reason, waiting.get("message", "") or (f"last exit: {last}" if last else ""))
        terminated = state.get("terminated") or {}
        if terminated.get("reason") == "OOMKilled":
            return Problem(name, "OOMKilled", "the container ran out of memory: raise resources.mem limits")
        if terminated and terminated.get("exitCode", 0) != 0:
            detail = terminated.get("message") or f"exit code {terminated.get('exitCode')}"
            return Problem(name, terminated.get("reason") or "Error", detail)
    return None


def _pod_started(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    if status.get("phase") in ("Running", "Succeeded", "Failed"):
        return True
    return any((c.get("state") or {}).keys() & {"running", "terminated"} for c in status.get("containerStatuses") or [])


def _pods(pods: list[dict[str, Any]]) -> tuple[tuple[str, ...], list[Problem], bool]:
    names = tuple(sorted(_meta(p).get("name", "?") for p in pods))
    problems = [problem for problem in map(pod_problem, pods) if problem]
    return names, problems, any(_pod_started(p) for p in pods)


FAILED_CONDITIONS = ("Failed", "FailureTarget")  # FailureTarget: the Job controller decided it fails (1.31+)


def _failure(job: dict[str, Any]) -> dict[str, Any] | None:
    conditions = _true_conditions(job)
    return next((conditions[kind] for kind in FAILED_CONDITIONS if kind in conditions), None)


def job_failed(job: dict[str, Any]) -> bool:
    return _failure(job) is not None


def job_finished(job: dict[str, Any]) -> bool:
    return bool({"Complete", "Failed"} & _true_conditions(job).keys())


def observe_job(
    job: dict[str, Any], pods: list[dict[str, Any]], state: State | str, warning: tuple[str, str] | None = None
) -> Observation:
    """Job + its pods -> where a job run stands. ``warning``: the last (reason, message) of a Warning event the
    Job controller posted on the Job (e.g. FailedCreate: no pod can be created), shown while there is no pod."""
    name = _meta(job).get("name", "?")
    names, problems, started = _pods(pods)
    common: dict[str, Any] = {"pods": names, "started": started, "stuck_since": _timestamp(job)}
    if is_final(state):
        return Observation(None, None, **common)
    conditions = _true_conditions(job)
    condition = _failure(job)
    if condition is not None:
        reason = condition.get("reason") or "Failed"
        detail = f"job {name} failed: {reason}: {condition.get('message', '')}".rstrip(": ")
        if problems:
            detail += f"; {problems[0].describe()}"
            reason = problems[0].reason if problems[0].reason == "OOMKilled" else reason
        return Observation(State.ERROR, detail, reason, **common)
    if "Complete" in conditions:
        return Observation(
            State.ERROR,
            f"job {name} completed but the runtime recorded no end for the run: "
            "check the run's logs and the runtime image",
            "NoRunResult",
            **common,
        )
    permanent = [p for p in problems if p.reason in PERMANENT_REASONS]
    if permanent:
        return Observation(State.ERROR, f"cannot start: {permanent[0].describe()}", permanent[0].reason, **common)
    if problems:
        return Observation(None, f"waiting: {problems[0].describe()}", problems[0].reason, **common)
    if warning is not None and not pods:
        reason, detail = warning
        return Observation(None, f"waiting: job {name} cannot create its pod: {reason}: {detail}", reason, **common)
    if State(state) != State.CREATED:
        return Observation(None, None, **common)
    if started:
        return Observation(None, f"pod {names[0]} is running", **common)
    return Observation(None, f"job {name} created, waiting for its pod" + (f" {names[0]}" if names else ""), **common)


def observe_deployment(
    deployment: dict[str, Any], pods: list[dict[str, Any]], state: State | str, url: str
) -> Observation:
    """Deployment + its pods -> where a serve run stands (READY until a replica answers, then RUNNING)."""
    names, problems, started = _pods(pods)
    status = deployment.get("status") or {}
    wanted = (deployment.get("spec") or {}).get("replicas", 1)
    available = status.get("availableReplicas") or 0
    service = ServiceInfo(url=url, replicas=wanted, available_replicas=available)
    common: dict[str, Any] = {
        "pods": names,
        "started": available > 0,
        "stuck_since": _timestamp(deployment),
        "service": service,
    }
    if is_final(state):
        return Observation(None, None, **common)
    conditions = status.get("conditions") or []
    failures = [
        c
        for c in conditions
        if (c.get("type") == "ReplicaFailure" and c.get("status") == "True")
        or (c.get("type") == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded")
    ]
    trouble = problems[0].describe() if problems else None
    reason = problems[0].reason if problems else None
    if failures and not trouble:
        trouble, reason = f"{failures[0].get('reason')}: {failures[0].get('message', '')}", failures[0].get("reason")
    if available > 0:
        message = f"serving at {url}: {available}/{wanted} replicas available" + (f"; {trouble}" if trouble else "")
        return Observation(State.RUNNING, message, reason, **common)
    if wanted == 0:
        return Observation(None, "scaled to zero replicas", **common)
    permanent = [p for p in problems if p.reason in PERMANENT_REASONS]
    if permanent and State(state) != State.RUNNING:
        return Observation(State.ERROR, f"cannot start: {permanent[0].describe()}", permanent[0].reason, **common)
    if trouble:
        return Observation(None, f"no replica available: {trouble}", reason, **common)
    waiting = "pods starting" if started else "waiting for pods"
    return Observation(None, f"0/{wanted} replicas available, {waiting}", **common)


def observe_cronjob(cronjob: dict[str, Any], state: State | str) -> Observation:
    """A scheduled run's CronJob -> what the run shows (its state stays RUNNING until it is stopped)."""
    if is_final(state):
        return Observation(None, None)
    spec, status = cronjob.get("spec") or {}, cronjob.get("status") or {}
    message = f"scheduled {spec.get('schedule')!r}" + (", suspended" if spec.get("suspend") else "")
    if status.get("lastScheduleTime"):
        message += f"; last fired at {status['lastScheduleTime']}"
    if status.get("active"):
        message += f"; {len(status['active'])} firing(s) running"
    return Observation(None, message)


def finished_pod(pods: list[dict[str, Any]]) -> str | None:
    """The newest pod whose containers all ended (its log is complete), if any."""
    done = [p for p in pods if (p.get("status") or {}).get("phase") in ("Succeeded", "Failed")]
    if not done:
        return None
    return str(_meta(max(done, key=lambda p: (_meta(p).get("creationTimestamp") or "", _meta(p).get("name"))))["name"])


def pending_expired(observation: Observation, state: State | str, now: datetime, deadline: float) -> bool:
    """True when a run is still waiting to start ``deadline`` seconds after its workload was created."""
    waiting = State(state) == State.CREATED or (observation.service is not None and State(state) == State.READY)
    if not waiting or observation.started or observation.stuck_since is None:
        return False
    return (now - observation.stuck_since).total_seconds() > deadline


def _path(current: State, target: State) -> list[State]:
    """States to go through from ``current`` to ``target`` (a serve run seen serving before READY was recorded)."""
    if current == State.CREATED and target == State.RUNNING:
        return [State.READY, State.RUNNING]
    return [target]


def merge(status: RunStatus, observation: Observation, kubernetes: KubernetesInfo) -> list[State]:
    """Fold an observation into a run status; returns the states entered (empty when the state stays).

    A run the workload ends in ERROR gets ``status.error``: ``type`` the Kubernetes reason (``OOMKilled``,
    ``DeadlineExceeded``, ``Deleted``...), ``message`` the status message.
    """
    entered: list[State] = []
    kubernetes.pods = list(observation.pods) or kubernetes.pods
    status.kubernetes = kubernetes
    if is_final(status.state):
        return entered  # how a run ended is kept as it was recorded
    kubernetes.reason = observation.reason
    if observation.service is not None:
        status.service = observation.service
    target = observation.state
    if target is not None and State(target) != State(status.state):
        try:
            for step in _path(State(status.state), State(target)):
                apply_transition(status, step, observation.message)
                entered.append(step)
        except IllegalTransition:
            pass
        if State.ERROR in entered:
            status.error = ErrorInfo(type=observation.reason or "Error", message=observation.message or "")
    elif observation.message is not None:
        status.message = observation.message
    status.refresh_conditions(kubernetes.reason)
    return entered
