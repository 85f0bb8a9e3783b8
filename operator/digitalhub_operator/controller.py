"""What the operator does for a run, as plain synchronous methods the kopf handlers call from worker threads.

- launch: resolve the run's task and function, build the Job (job, build), the Deployment + Service (serve),
  or the token Secret + Deployment + Service (session), create them
  (idempotent: names are deterministic, an existing object is ours) and record them in the run's status;
- sync: fold Job / Pod / Deployment state into the run's status (see ``status.py``);
- expire: end runs stuck waiting to start past the pending deadline;
- release: remove the workload of a stopped run (and of a failed serve run or session, and of an ended schedule);
- adopt a firing: make the run of a scheduled run's new Job when its pod has not made it yet.
A scheduled run (``spec.schedule``) is a CronJob whose Jobs each execute a new run (see ``manifests/schedule.py``).
Bad input never raises out of here: the run ends in ERROR with a message naming the field to fix.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from digitalhub_operator import metrics
from digitalhub_operator.cluster import Cluster, Rejected
from digitalhub_operator.manifests import serve, session
from digitalhub_operator.manifests.build import build_job_manifest
from digitalhub_operator.manifests.common import ManifestError, Owner, Workload
from digitalhub_operator.manifests.job import job_manifest
from digitalhub_operator.manifests.schedule import cronjob_manifest
from digitalhub_operator.manifests.serve import service_manifest, service_url
from digitalhub_operator.settings import OperatorSettings
from digitalhub_operator.status import (
    Observation,
    finished_pod,
    job_failed,
    job_finished,
    merge,
    observe_cronjob,
    observe_deployment,
    observe_job,
    pending_expired,
    pod_problem,
)
from digitalhub_runtime_python.contract import (
    ANNOTATION_RUN_KEY,
    JOB_NAME_LABEL,
    LABEL_RUN,
    LABEL_SCHEDULE,
    firing_run,
    schedule_name,
    workload_name,
)
from digitalhub_runtime_python.models.base import Entity, check_name
from digitalhub_runtime_python.models.errors import SpecError, format_validation_error
from digitalhub_runtime_python.models.function import Function
from digitalhub_runtime_python.models.keys import InvalidKey, parse_key
from digitalhub_runtime_python.models.resources import from_resource, resource_status
from digitalhub_runtime_python.models.run import ErrorInfo, KubernetesInfo, LogTail, Run, RunStatus, ServiceInfo
from digitalhub_runtime_python.models.states import ALLOWED, IllegalTransition, State, Transition, is_final
from digitalhub_runtime_python.models.task import Action, Task
from digitalhub_runtime_python.stores.base import AlreadyExists, NotFound, Store, apply_transition

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
LOG_TAIL_BYTES = 32 * 1024  # what a Run keeps of a finished pod's log, at most
logger = logging.getLogger("digitalhub_operator")


SERVED = (Action.SERVE, Action.SESSION)  # a Deployment whose workload goes once the run ended, however it ended


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
    scheduled: bool = False
    """A scheduled run: its workload is a CronJob."""

    @property
    def workload(self) -> str:
        return workload_name(self.key.rsplit(":", 1)[-1])

    @property
    def kind(self) -> str:
        """The kind of its workload (the Deployment, for a serve run or a session, beside which stands a Service; a
        Job for a job or a build)."""
        return "CronJob" if self.scheduled else "Deployment" if self.action in SERVED else "Job"

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
        self._recorded: set[str] = set()
        """Runs whose launch this process recorded: a stale watch event for them launches nothing again."""
        self._lock = threading.Lock()
        self._job_warnings: dict[tuple[str, str], tuple[str, str]] = {}  # (namespace, job) -> (reason, message)

    # -- launch

    def reconcile(self, ref: RunRef, present: bool, run: Run | None = None) -> None:
        """Bring the workload in line with the run: launch a new run, release a finished one."""
        if ref.final:
            self.forget(ref.key)
            if present and (ref.state == State.STOPPED or ref.action in SERVED or ref.scheduled):
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
            if ref.key in self._launching or ref.key in self._recorded:
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
                metrics.LAUNCHES.labels(ref.action, "refused").inc()
                self.fail(ref, str(exc), type(exc).__name__)
                return
            except Exception:
                metrics.LAUNCHES.labels(ref.action, "error").inc()
                raise
            if not self._record_launch(ref, workload, manifests):
                return  # the run as delivered was older than a launch that already recorded these objects
            self._record_launch(ref, workload, manifests)
            with self._lock:
                self._recorded.add(ref.key)
            metrics.LAUNCHES.labels(ref.action, "created").inc()
            since = (datetime.now(UTC) - run.metadata.created.astimezone(UTC)).total_seconds()
            metrics.LAUNCH_LATENCY.labels(ref.action).observe(max(0.0, since))
        finally:
            with self._lock:
                self._launching.discard(ref.key)

    def forget(self, run_key: str) -> None:
        """The run ended or is gone: a later launch of the same key (a resumed serve run) is a new one."""
        with self._lock:
            self._recorded.discard(run_key)

    def _create(self, workload: Workload) -> list[dict[str, Any]]:
        """Create the run's objects: a CronJob, a Job, or a Service (first: its name may be taken) and a Deployment."""
        manifests = _manifests(workload)
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
        task: Task = self._get(ref.namespace, run.spec.task, "spec.task", Task)
        function: Function = self._get(ref.namespace, run.spec.function, "spec.function", Function)
        if task.spec.action != run.spec.action:
            raise LaunchError(
                f"spec.action {run.spec.action!r} does not match the task's action "
                f"{task.spec.action!r}: run the task with its own action"
            )
        return Workload(run, task, function, ref.namespace, ref.owner, self.settings)

    def _record_launch(self, ref: RunRef, workload: Workload, manifests: list[dict[str, Any]]) -> bool:
        """Record the objects in the run's status, once: a launch that finds them recorded leaves them; a run
        deleted meanwhile gets its objects deleted (they would outlive it). True when this launch recorded them."""
        names = {m["kind"]: m["metadata"]["name"] for m in manifests}
        deployment = next((m for m in manifests if m["kind"] == "Deployment"), None)
        entered: list[State] = []

        def change(run: Run) -> Run:
            if _launched(run):
                raise _AlreadyRecorded()
            info = run.status.kubernetes or KubernetesInfo()
            info.job, info.deployment, info.service = names.get("Job"), names.get("Deployment"), names.get("Service")
            info.cronjob = names.get("CronJob")
            run.status.kubernetes = info
            if info.cronjob:
                entered[:] = _schedule_started(run, info.cronjob)
            elif deployment is not None:
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
            updated = self.stores(ref.namespace).update_run(ref.key, change)
        except _AlreadyRecorded:
            return False
        except NotFound:
            for kind, name in names.items():
                self.cluster.delete(kind, ref.namespace, name)
            return False
        what = " and ".join(f"{kind.lower()} {name}" for kind, name in names.items())
        self.record(ref.owner, ref.namespace, "Normal", "Launched", f"created {what}")
        self._post_transitions(ref, entered, None)
        if updated.status.state == State.STOPPED:  # stopped while we launched (from a stale view of the run)
            self.release(ref)
        return True

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
        self.cluster.patch_run_status(namespace, meta["name"], resource_status(status, meta.get("generation")))
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
        recorded = (("Job", info.job), ("Deployment", info.deployment), ("Service", info.service))
        for kind, object_name in (*recorded, ("CronJob", info.cronjob)):
            if object_name and self.cluster.delete(kind, ref.namespace, object_name, _propagation(kind)):
                removed.append(f"{kind.lower()} {object_name}")
        unrecorded = not (info.job or info.deployment or info.cronjob)
        if unrecorded and self.cluster.delete(ref.kind, ref.namespace, name, _propagation(ref.kind)):
            removed.append(f"{ref.kind.lower()} {name}")  # launched, but stopped before the launch was recorded
        if run.status.state == State.STOPPED and (info.deployment or info.cronjob):
            self.stores(ref.namespace).update_run(ref.key, _forget_workload)
        if removed:
            self.record(ref.owner, ref.namespace, "Normal", "Released", f"deleted {' and '.join(removed)}")

    # -- status mirroring

    def observe(self, run: Run, workload: dict[str, Any], pods: list[dict[str, Any]], deleted: bool) -> Observation:
        kind = workload.get("kind") or ("Deployment" if run.spec.action in SERVED else "Job")
        state = run.status.state
        if deleted:
            if is_final(state):
                return Observation(None, None)
            name = workload.get("metadata", {}).get("name")
            return Observation(State.ERROR, f"{kind.lower()} {name} was deleted outside digitalhub", "Deleted")
        if kind == "CronJob":
            return observe_cronjob(workload, state)
        if run.spec.action not in SERVED:  # a job or a build: a Job
            meta = workload.get("metadata", {})
            return observe_job(workload, pods, state, self._job_warnings.get((meta.get("namespace"), meta.get("name"))))
        url = run.status.service.url if run.status.service and run.status.service.url else ""
        return observe_deployment(workload, pods, state, url)

    def sync(self, ref: RunRef, workload: dict[str, Any], pods: list[dict[str, Any]], deleted: bool = False) -> None:
        """Fold the workload's state into the run's status: one read, and a write only when something changed."""
        if not ref.final and job_failed(workload) and not any(map(pod_problem, pods)):
            # the pods' last events may not have arrived yet: ask for them, the failure reason is in there
            pods = self.cluster.pods(ref.namespace, _pod_selector(ref, workload)) or pods
        tails: dict[str, LogTail | None] = {}
        old_reason: list[str | None] = []
        entered: list[State] = []
        new_reason: list[str | None] = [None]

        def change(entity: Run) -> Run:
            info = (entity.status.kubernetes or KubernetesInfo()).model_copy()
            old_reason[:] = old_reason or [info.reason]
            observation = self.observe(entity, workload, pods, deleted)
            entered[:] = merge(entity.status, observation, _with_tail(info, self._log_tail(ref, entity, pods, tails)))
            new_reason[0] = observation.reason
            return entity

        try:
            updated = self.stores(ref.namespace).update_run(ref.key, change)
        except NotFound:
            return
        if is_final(updated.status.state):
            self._job_warnings.pop((ref.namespace, ref.workload), None)
        reason = new_reason[0]
        if reason and reason != old_reason[0] and not entered:
            self.record(ref.owner, ref.namespace, "Warning", reason, updated.status.message or reason)
        self._post_transitions(ref, entered, updated.status.message)

    def job_warning(
        self, ref: RunRef, job: dict[str, Any], pods: list[dict[str, Any]], reason: str, message: str
    ) -> None:
        """The Job controller posted a Warning on the run's Job (FailedCreate: a missing ServiceAccount, a quota,
        pod security): show it in the run's message and reason at once, not when the pending deadline expires."""
        self._job_warnings[(ref.namespace, ref.workload)] = (reason, message)
        self.sync(ref, job, pods)

    def _log_tail(
        self, ref: RunRef, run: Run, pods: list[dict[str, Any]], read: dict[str, LogTail | None]
    ) -> LogTail | None:
        """The end of the newest finished pod's log, read once per pod (the pod and its log go with the Job's TTL);
        ``read`` keeps what was read, for a change applied again after a conflict."""
        pod = finished_pod(pods) if self.settings.log_tail_lines else None
        previous = run.status.kubernetes.log_tail if run.status.kubernetes else None
        if pod is None or (previous is not None and previous.pod == pod):
            return None
        if pod not in read:
            read[pod] = self._read_tail(ref, pod)
        return read[pod]

    def _read_tail(self, ref: RunRef, pod: str) -> LogTail | None:
        lines = self.settings.log_tail_lines
        text = self.cluster.log_tail(ref.namespace, pod, lines + 1)  # one more line tells whether there were more
        if text is None:
            return None
        all_lines = text.splitlines(keepends=True)
        truncated = len(all_lines) > lines
        text = "".join(all_lines[-lines:])
        encoded = text.encode()
        if len(encoded) > LOG_TAIL_BYTES:
            text, truncated = encoded[-LOG_TAIL_BYTES:].decode(errors="ignore"), True
        return LogTail(pod=pod, text=text, truncated=truncated)

    def _post_transitions(self, ref: RunRef, entered: list[State], message: str | None) -> None:
        for state in entered:
            kind = "Warning" if state == State.ERROR else "Normal"
            self.record(ref.owner, ref.namespace, kind, EVENT_REASONS[State(state)], message or f"run is {state}")

    # -- pending deadline

    def expire(
        self, ref: RunRef, workload: dict[str, Any], pods: list[dict[str, Any]], now: datetime | None = None
    ) -> bool:
        """End a run still waiting to start after the pending deadline, and remove its workload.

        Decided from what the watches delivered (the run's state in the index, its workload and pods): the scan
        reads nothing from the API server for runs that are fine, however long they live.
        """
        if ref.scheduled:
            return False
        if ref.action not in SERVED:  # a job or a build: a Job
            observation = observe_job(workload, pods, ref.state)
        else:
            observation = observe_deployment(workload, pods, ref.state, "")
        if not pending_expired(observation, ref.state, now or datetime.now(UTC), self.settings.pending_deadline):
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
        name = schedule_name(ref.key.rsplit(":", 1)[-1]) if ref.scheduled else ref.workload
        if not self.cluster.exists(ref.kind, ref.namespace, name):
            self.fail(ref, f"{ref.kind.lower()} {name} was deleted outside digitalhub", "Deleted")

    # -- scheduled runs

    def adopt_firing(self, namespace: str, job: dict[str, Any]) -> None:
        """Make the run a scheduled run's new Job executes, if its pod has not made it yet: a firing whose pod
        never starts (image, scheduling) still has a run, which shows why and ends in ERROR."""
        meta = job.get("metadata") or {}
        if job_finished(job) or not (meta.get("annotations") or {}).get(ANNOTATION_RUN_KEY):
            return  # an old firing (its run may have been deleted on purpose), or not one of ours
        store = self.stores(namespace)
        try:
            schedule = store.get_run(meta["annotations"][ANNOTATION_RUN_KEY])
            store.create(firing_run(schedule, meta["name"]))
        except (NotFound, AlreadyExists):
            return
        except ValueError as exc:
            logger.warning("job %s/%s: %s", namespace, meta.get("name"), exc)


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
    return bool(info and (info.job or info.deployment or info.cronjob))


def _pod_selector(ref: RunRef, workload: dict[str, Any]) -> str:
    """The pods of a run's workload: labelled with the workload's name, or (a schedule's Job) with the Job's."""
    labels = (workload.get("metadata") or {}).get("labels") or {}
    return f"{JOB_NAME_LABEL}={ref.workload}" if LABEL_SCHEDULE in labels else f"{LABEL_RUN}={ref.workload}"


def _propagation(kind: str) -> str:
    """How a workload's deletion reaches what it owns: a stopped schedule fires no more, but a firing in progress
    finishes (its Job is left to its TTL); everything else goes with its workload."""
    return "Orphan" if kind == "CronJob" else "Background"


def _manifests(workload: Workload) -> list[dict[str, Any]]:
    """What to create for a run: a CronJob, a Job (a job, or a build), or a Deployment and its Service; for a
    session, first the Secret its Deployment reads the token from."""
    if workload.scheduled:
        return [cronjob_manifest(workload)]
    if workload.run.spec.action == Action.JOB:
        return [job_manifest(workload)]
    if workload.run.spec.action == Action.SESSION:
        return [
            session.secret_manifest(workload),
            service_manifest(workload),
            session.deployment_manifest(workload),
        ]
    if workload.run.spec.action == Action.BUILD:
        return [build_job_manifest(workload)]
    return [service_manifest(workload), serve.deployment_manifest(workload)]


def _schedule_started(run: Run, cronjob: str) -> list[State]:
    """A scheduled run is RUNNING as long as its CronJob exists (until it is stopped)."""
    message = f"scheduled {run.spec.schedule!r}: cronjob {cronjob} starts a new run each time it fires"
    entered: list[State] = []
    for state in (State.READY, State.RUNNING):
        if State(run.status.state) in (State.CREATED, State.READY) and state in ALLOWED[State(run.status.state)]:
            apply_transition(run.status, state, message)
            entered.append(state)
    return entered


def _with_tail(info: KubernetesInfo, tail: LogTail | None) -> KubernetesInfo:
    if tail is not None:
        info.log_tail = tail
    return info


def _forget_workload(run: Run) -> Run:
    if run.status.kubernetes:
        run.status.kubernetes.job = run.status.kubernetes.deployment = run.status.kubernetes.service = None
        run.status.kubernetes.cronjob = None
        run.status.kubernetes.pods = []
    if run.status.service:
        run.status.service.available_replicas = 0
    return run
