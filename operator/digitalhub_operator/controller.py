"""What the operator does for a run, as plain synchronous methods the kopf handlers call from worker threads.

- launch: resolve the run's task and function, build the Job (job) or Deployment + Service (serve), create them
  (idempotent: names are deterministic, an existing object is ours) and record them in the run's status;
- sync: fold Job / Pod / Deployment state into the run's status (see ``status.py``);
- expire: end runs stuck waiting to start past the pending deadline;
- release: remove the workload of a stopped run (and of a failed serve run).
Bad input never raises out of here: the run ends in ERROR with a message naming the field to fix.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from digitalhub_operator.cluster import Cluster, Rejected
from digitalhub_operator.manifests.common import ManifestError, Owner, Workload
from digitalhub_operator.manifests.job import job_manifest
from digitalhub_operator.manifests.serve import deployment_manifest, service_manifest, service_url
from digitalhub_operator.settings import OperatorSettings
from digitalhub_operator.status import (
    Observation,
    job_failed,
    merge,
    observe_deployment,
    observe_job,
    pending_expired,
    pod_problem,
)
from digitalhub_runtime_python.contract import LABEL_RUN, workload_name
from digitalhub_runtime_python.models.base import Entity, check_name
from digitalhub_runtime_python.models.errors import SpecError, format_validation_error
from digitalhub_runtime_python.models.function import Function
from digitalhub_runtime_python.models.keys import InvalidKey, parse_key
from digitalhub_runtime_python.models.resources import from_resource
from digitalhub_runtime_python.models.run import ErrorInfo, KubernetesInfo, Run, RunStatus, ServiceInfo
from digitalhub_runtime_python.models.states import IllegalTransition, State, Transition, is_final
from digitalhub_runtime_python.models.task import Action, Task
from digitalhub_runtime_python.stores.base import NotFound, Store, apply_transition

StoreFor = Callable[[str], Store]
"""The store of one namespace (the Kubernetes store is namespaced; the operator may watch many)."""
Cache = Callable[[str, str], "dict[str, Any] | None"]
"""The watched custom resource of an entity key in a namespace, if the operator has seen it (no API call)."""
Recorder = Callable[[Owner, str, str, str, str], None]
"""Posts a Kubernetes event on a run: (owner, namespace, type Normal|Warning, reason, message)."""

EVENT_REASONS = {
    State.READY: "Ready",
    State.RUNNING: "Running",
    State.COMPLETED: "Completed",
    State.ERROR: "Failed",
    State.STOPPED: "Stopped",
}
BAD_INPUT = (NotFound, SpecError, ManifestError, Rejected, InvalidKey)


class LaunchError(ValueError):
    """A run that cannot be launched as it is; the message says what to fix."""


class _AlreadyRecorded(Exception):
    """Another launch of the same run recorded its objects first."""


@dataclass(frozen=True)
class RunRef:
    """What the operator keeps in memory about a Run custom resource (from the watch, no API call)."""

    key: str
    namespace: str
    state: str
    action: str
    launched: bool
    owner: Owner

    @property
    def workload(self) -> str:
        return workload_name(self.key.rsplit(":", 1)[-1])

    @property
    def final(self) -> bool:
        return is_final(self.state)


class Controller:
    """Launches, mirrors, expires and releases run workloads."""

    def __init__(
        self,
        settings: OperatorSettings,
        stores: StoreFor,
        cluster: Cluster,
        record: Recorder,
        cached: Cache | None = None,
    ):
        self.settings = settings
        self.stores = stores
        self.cached = cached or (lambda namespace, key: None)
        self.cluster = cluster
        self.record = record
        self._launching: set[str] = set()
        self._lock = threading.Lock()
        self._job_warnings: dict[tuple[str, str], tuple[str, str]] = {}  # (namespace, job) -> (reason, message)

    # -- launch

    def reconcile(self, ref: RunRef, present: bool, run: Run | None = None) -> None:
        """Bring the workload in line with the run: launch a new run, release a finished one."""
        if ref.final:
            if present and (ref.state == State.STOPPED or ref.action == Action.SERVE):
                self.release(ref)
            return
        if not ref.launched:
            self.launch(ref, run)

    def launch(self, ref: RunRef, run: Run | None = None) -> None:
        """Create the run's workload and record it; bad input ends the run in ERROR.

        ``run`` is the run as the watch delivered it (saves a read); the scan passes none and the run is read.
        A delivered run may be older than a launch that already happened: recording finds the launch recorded and
        leaves it (``_record_launch``).
        """
        with self._lock:
            if ref.key in self._launching:
                return
            self._launching.add(ref.key)
        try:
            if run is None:
                run = self.stores(ref.namespace).get_run(ref.key)
            if is_final(run.status.state) or _launched(run):
                return
            try:
                workload = self._workload(run, ref)
                manifests = self._create(workload)
            except BAD_INPUT + (LaunchError,) as exc:
                self.fail(ref, str(exc), type(exc).__name__)
                return
            self._record_launch(ref, workload, manifests)
        finally:
            with self._lock:
                self._launching.discard(ref.key)

    def _create(self, workload: Workload) -> list[dict[str, Any]]:
        """Create the run's objects: a Job, or a Service (first: its name may be taken) and a Deployment."""
        if workload.run.spec.action == Action.JOB:
            manifests = [job_manifest(workload)]
        else:
            manifests = [service_manifest(workload), deployment_manifest(workload)]
        for manifest in manifests:
            if not self.cluster.create(manifest) and manifest["kind"] == "Service":
                self._check_service_owner(workload, manifest["metadata"]["name"])
        return manifests

    def _check_service_owner(self, workload: Workload, name: str) -> None:
        """A Service that already exists must be this run's (created by an earlier attempt), never another's."""
        owner = self.cluster.run_key_of("Service", workload.namespace, name)
        if owner != workload.run.key:
            held = f"belongs to run {owner}" if owner else "exists and was not created by digitalhub"
            raise LaunchError(
                f"service_name {name!r}: Service {name} {held}: choose another service_name, or stop that run first"
            )

    def _get(self, namespace: str, key: str, field: str, cls: type[Entity]) -> Any:
        """A task or function: from the watch cache when seen there (versions are immutable), else from the API."""
        _check_key(key, field, cls.ENTITY_TYPE)
        body = self.cached(namespace, key)
        if body is not None:
            try:
                return from_resource(cls, body)
            except ValidationError as exc:
                raise format_validation_error(f"{cls.__name__.lower()} {key}", exc) from None
        try:
            entity = self.stores(namespace).get_key(key)
        except NotFound:
            raise LaunchError(f"{field}: {key} does not exist: create it first or fix the run's {field}") from None
        except ValidationError as exc:
            raise format_validation_error(f"{cls.__name__.lower()} {key}", exc) from None
        if not isinstance(entity, cls):
            raise LaunchError(f"{field}: {key} is a {entity.ENTITY_TYPE}, not a {cls.__name__.lower()}")
        return entity

    def _workload(self, run: Run, ref: RunRef) -> Workload:
        if run.spec.action == Action.BUILD:
            raise LaunchError(
                "action 'build' is not supported yet by the operator: build the image elsewhere "
                "and set the function's 'image'"
            )
        task: Task = self._get(ref.namespace, run.spec.task, "spec.task", Task)
        function: Function = self._get(ref.namespace, run.spec.function, "spec.function", Function)
        if task.spec.action != run.spec.action:
            raise LaunchError(
                f"spec.action {run.spec.action!r} does not match the task's action "
                f"{task.spec.action!r}: run the task with its own action"
            )
        return Workload(run, task, function, ref.namespace, ref.owner, self.settings)

    def _record_launch(self, ref: RunRef, workload: Workload, manifests: list[dict[str, Any]]) -> None:
        """Record the objects in the run's status, once: a launch that finds them recorded leaves them; a run
        deleted meanwhile gets its objects deleted (they would outlive it)."""
        names = {m["kind"]: m["metadata"]["name"] for m in manifests}
        deployment = next((m for m in manifests if m["kind"] == "Deployment"), None)
        entered: list[State] = []

        def change(run: Run) -> Run:
            if _launched(run):
                raise _AlreadyRecorded()
            info = run.status.kubernetes or KubernetesInfo()
            info.job, info.deployment, info.service = names.get("Job"), names.get("Deployment"), names.get("Service")
            run.status.kubernetes = info
            if deployment is not None:
                run.status.service = ServiceInfo(
                    url=service_url(workload), replicas=deployment["spec"]["replicas"], available_replicas=0
                )
                if run.status.state == State.CREATED:
                    apply_transition(
                        run.status,
                        State.READY,
                        f"deployment {names['Deployment']} and service "
                        f"{names['Service']} created, waiting for replicas",
                    )
                    entered.append(State.READY)
            elif run.status.state == State.CREATED:
                run.status.message = f"job {names['Job']} created, waiting for its pod"
            return run

        try:
            self.stores(ref.namespace).update_run(ref.key, change)
        except _AlreadyRecorded:
            return
        except NotFound:
            for kind, name in names.items():
                self.cluster.delete(kind, ref.namespace, name)
            return
        what = " and ".join(f"{kind.lower()} {name}" for kind, name in names.items())
        self.record(ref.owner, ref.namespace, "Normal", "Launched", f"created {what}")
        self._post_transitions(ref, entered, None)

    # -- failure, release

    def fail(self, ref: RunRef, message: str, kind: str = "Error") -> None:
        """End the run in ERROR with ``message`` (a run that ended meanwhile is left as it is)."""
        try:
            self.stores(ref.namespace).transition(
                ref.key, State.ERROR, message, error=ErrorInfo(type=kind, message=message)
            )
        except (IllegalTransition, NotFound):
            return
        self.record(ref.owner, ref.namespace, "Warning", "Failed", message)

    def fail_malformed(self, namespace: str, body: Any, message: str) -> None:
        """End a Run whose custom resource does not hold a valid run (e.g. an unknown action) in ERROR."""
        raw = body.get("status") or {}
        try:
            status = RunStatus.model_validate(dict(raw))
        except ValidationError:
            status = RunStatus(transitions=[Transition(state=State.CREATED)])
        if is_final(status.state):
            return
        apply_transition(status, State.ERROR, message)
        status.error = ErrorInfo(type="SpecError", message=message)
        meta = body.get("metadata", {})
        self.cluster.patch_run_status(namespace, meta["name"], status.model_dump(mode="json", exclude_none=True))
        owner = Owner(body.get("apiVersion", ""), body.get("kind", "Run"), meta["name"], meta.get("uid", ""))
        self.record(owner, namespace, "Warning", "Failed", message)

    def release(self, ref: RunRef) -> None:
        """Delete a finished run's workload; a stopped serve run forgets it, so a resume creates a new one."""
        name = ref.workload
        try:
            run: Run = self.stores(ref.namespace).get_key(ref.key)  # type: ignore[assignment]
        except NotFound:
            return
        info = run.status.kubernetes or KubernetesInfo()
        removed = []
        for kind, object_name in (("Job", info.job), ("Deployment", info.deployment), ("Service", info.service)):
            if object_name and self.cluster.delete(kind, ref.namespace, object_name):
                removed.append(f"{kind.lower()} {object_name}")
        unrecorded = "Job" if ref.action == Action.JOB else "Deployment"
        if not info.job and not info.deployment and self.cluster.delete(unrecorded, ref.namespace, name):
            removed.append(f"{unrecorded.lower()} {name}")  # launched, but stopped before the launch was recorded
        if run.status.state == State.STOPPED and info.deployment:
            self.stores(ref.namespace).update_run(ref.key, _forget_workload)
        if removed:
            self.record(ref.owner, ref.namespace, "Normal", "Released", f"deleted {' and '.join(removed)}")

    # -- status mirroring

    def observe(self, run: Run, workload: dict[str, Any], pods: list[dict[str, Any]], deleted: bool) -> Observation:
        kind = workload.get("kind") or ("Job" if run.spec.action == Action.JOB else "Deployment")
        state = run.status.state
        if deleted:
            if is_final(state):
                return Observation(None, None)
            name = workload.get("metadata", {}).get("name")
            return Observation(State.ERROR, f"{kind.lower()} {name} was deleted outside digitalhub", "Deleted")
        if run.spec.action == Action.JOB:
            meta = workload.get("metadata", {})
            return observe_job(workload, pods, state, self._job_warnings.get((meta.get("namespace"), meta.get("name"))))
        url = run.status.service.url if run.status.service and run.status.service.url else ""
        return observe_deployment(workload, pods, state, url)

    def sync(self, ref: RunRef, workload: dict[str, Any], pods: list[dict[str, Any]], deleted: bool = False) -> None:
        """Fold the workload's state into the run's status; writes only when something changed."""
        try:
            run: Run = self.stores(ref.namespace).get_key(ref.key)  # type: ignore[assignment]
        except NotFound:
            return
        if not is_final(run.status.state) and job_failed(workload) and not any(map(pod_problem, pods)):
            # the pods' last events may not have arrived yet: ask for them, the failure reason is in there
            pods = self.cluster.pods(ref.namespace, f"{LABEL_RUN}={ref.workload}") or pods
        preview = run.status.model_copy(deep=True)
        merge(
            preview,
            self.observe(run, workload, pods, deleted),
            (run.status.kubernetes or KubernetesInfo()).model_copy(),
        )
        if preview == run.status:
            return
        old_reason = run.status.kubernetes.reason if run.status.kubernetes else None
        entered: list[State] = []
        new_reason: list[str | None] = [None]

        def change(entity: Run) -> Run:
            observation = self.observe(entity, workload, pods, deleted)
            info = (entity.status.kubernetes or KubernetesInfo()).model_copy()
            entered[:] = merge(entity.status, observation, info)
            new_reason[0] = observation.reason
            return entity

        updated = self.stores(ref.namespace).update_run(ref.key, change)
        if is_final(updated.status.state):
            self._job_warnings.pop((ref.namespace, ref.workload), None)
        reason = new_reason[0]
        if reason and reason != old_reason and not entered:
            self.record(ref.owner, ref.namespace, "Warning", reason, updated.status.message or reason)
        self._post_transitions(ref, entered, updated.status.message)

    def job_warning(
        self, ref: RunRef, job: dict[str, Any], pods: list[dict[str, Any]], reason: str, message: str
    ) -> None:
        """The Job controller posted a Warning on the run's Job (FailedCreate: a missing ServiceAccount, a quota,
        pod security): show it in the run's message and reason at once, not when the pending deadline expires."""
        self._job_warnings[(ref.namespace, ref.workload)] = (reason, message)
        self.sync(ref, job, pods)

    def _post_transitions(self, ref: RunRef, entered: list[State], message: str | None) -> None:
        for state in entered:
            kind = "Warning" if state == State.ERROR else "Normal"
            self.record(ref.owner, ref.namespace, kind, EVENT_REASONS[State(state)], message or f"run is {state}")

    # -- pending deadline

    def expire(
        self, ref: RunRef, workload: dict[str, Any], pods: list[dict[str, Any]], now: datetime | None = None
    ) -> bool:
        """End a run still waiting to start after the pending deadline, and remove its workload."""
        try:
            run: Run = self.stores(ref.namespace).get_key(ref.key)  # type: ignore[assignment]
        except NotFound:
            return False
        observation = self.observe(run, workload, pods, deleted=False)
        if not pending_expired(observation, run.status.state, now or datetime.now(UTC), self.settings.pending_deadline):
            return False
        waiting = observation.message or "waiting to start"
        self.fail(
            ref,
            f"did not start within {self.settings.pending_deadline:g} s: {waiting}",
            observation.reason or "PendingDeadlineExceeded",
        )
        self.release(ref)
        return True

    def check_launched(self, ref: RunRef) -> None:
        """A run recorded as launched whose workload is gone (deleted while the operator was down) ends in ERROR."""
        kind = "Job" if ref.action == Action.JOB else "Deployment"
        if not self.cluster.exists(kind, ref.namespace, ref.workload):
            self.fail(ref, f"{kind.lower()} {ref.workload} was deleted outside digitalhub", "Deleted")


def _check_key(key: str, field: str, entity_type: str) -> None:
    """A LaunchError naming ``field`` unless ``key`` is a well-formed key of an entity of ``entity_type``."""
    try:
        parsed = parse_key(key)
        check_name(parsed.name, "its name")
    except ValueError as exc:
        raise LaunchError(f"{field}: {exc}") from None
    if parsed.entity_type != entity_type:
        raise LaunchError(f"{field}: {key} is the key of a {parsed.entity_type}, not of a {entity_type}")


def _launched(run: Run) -> bool:
    info = run.status.kubernetes
    return bool(info and (info.job or info.deployment))


def _forget_workload(run: Run) -> Run:
    if run.status.kubernetes:
        run.status.kubernetes.job = run.status.kubernetes.deployment = run.status.kubernetes.service = None
        run.status.kubernetes.pods = []
    if run.status.service:
        run.status.service.available_replicas = 0
    return run
