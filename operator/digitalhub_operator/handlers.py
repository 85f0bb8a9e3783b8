"""kopf handlers: watch Runs and the Jobs, Deployments and Pods made for them; everything is level-driven.

Run with ``python -m digitalhub_operator`` or ``kopf run -m digitalhub_operator.handlers``.

- In-memory indices (filled from the watch streams, no API calls) map each run's workload name to its Run,
  Job/Deployment/CronJob and Pods. A scheduled run's Jobs and pods belong to the run each Job executes (its
  workload name is the Job's name).
- A Run event launches the run if it has no workload yet, or releases the workload of a stopped run.
- A Job / Deployment / CronJob / Pod event folds their state into the run's status; so does a Warning event on a
  Job (the Job controller's FailedCreate: its pods cannot be created); a new Job of a schedule gets its run if its
  pod has not made it yet.
- A background scan ends runs stuck past the pending deadline and retries launches that failed transiently.
- The API server filters the Job, CronJob, Deployment and Pod watches by our managed-by label
  (``lifecycle.configure``): the operator never receives the cluster's other objects.
kopf passes indices and other kwargs by name, which its handler protocols cannot declare: the decorators carry
``type: ignore[arg-type]`` for that alone.
No handler state is stored on the Runs (no annotations, no finalizers): a restarted operator recomputes everything
from the watch streams, and deterministic workload names make every create idempotent.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import kopf
from pydantic import ValidationError

from digitalhub_operator import health, lifecycle, metrics
from digitalhub_operator.controller import Controller, RunRef
from digitalhub_operator.manifests.common import Owner
from digitalhub_operator.settings import OperatorSettings
from digitalhub_runtime_python.contract import JOB_NAME_LABEL, LABEL_RUN, LABEL_SCHEDULE, MANAGED_BY
from digitalhub_runtime_python.models.base import Entity
from digitalhub_runtime_python.models.errors import SpecError, format_validation_error
from digitalhub_runtime_python.models.function import Function
from digitalhub_runtime_python.models.resources import API_VERSION, GROUP, VERSION, from_resource
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.models.states import State
from digitalhub_runtime_python.models.task import Action, Task

RUNS = "runs"
OWNED = {"app.kubernetes.io/managed-by": MANAGED_BY["app.kubernetes.io/managed-by"]}
logger = logging.getLogger("digitalhub_operator")


def parse_run(body: kopf.Body) -> tuple[RunRef, Run]:
    """The run a Run CR holds and its in-memory summary; SpecError when the CR does not hold a valid run."""
    meta = body.get("metadata", {})
    what = f"Run {meta.get('namespace')}/{meta.get('name')}"
    action = body.get("spec", {}).get("action")
    if action not in {a.value for a in Action}:
        raise SpecError(what, [("spec.action", f"{action!r} is not an action: use job, serve, build or session")])
    try:
        run = from_resource(Run, dict(body))
    except ValidationError as exc:
        raise format_validation_error(what, exc) from None
    info = run.status.kubernetes
    owner = Owner(body.get("apiVersion", API_VERSION), body.get("kind", "Run"), meta["name"], meta["uid"])
    ref = RunRef(
        key=run.key,
        namespace=meta["namespace"],
        state=State(run.status.state).value,
        action=Action(run.spec.action).value,
        launched=bool(info and (info.job or info.deployment or info.cronjob)),
        owner=owner,
        scheduled=run.spec.schedule is not None,
    )
    return ref, run


def _key_of(body: kopf.Body) -> str:
    """The run key a Run CR stands for, malformed or not (for forgetting it)."""
    try:
        return parse_run(body)[0].key
    except (SpecError, KeyError):
        return ""


def _first(store: Any) -> Any:
    return next(iter(store), None) if store else None


def workload_key(labels: kopf.Labels | dict[str, str], job_name: str | None = None) -> str | None:
    """The run workload an object belongs to: its ``digitalhub.io/run`` label; for a schedule's Jobs and pods,
    the Job's name (``job_name`` for a Job itself, the Job controller's label for a pod)."""
    if LABEL_RUN in labels:
        return labels[LABEL_RUN]
    if LABEL_SCHEDULE in labels:
        return job_name or labels.get(JOB_NAME_LABEL)
    return None


def _slim(body: kopf.Body) -> dict[str, Any]:
    return {
        "kind": body.get("kind"),
        "metadata": dict(body.get("metadata", {})),
        "spec": dict(body.get("spec", {})),
        "status": dict(body.get("status", {})),
    }


# -- indices: workload name -> objects, per namespace


@kopf.index(GROUP, VERSION, RUNS)  # type: ignore[arg-type]
def runs(body: kopf.Body, namespace: str, **_: Any) -> dict[tuple[str, str], RunRef] | None:
    try:
        ref, _run = parse_run(body)
    except SpecError:
        return None
    return {(namespace, ref.workload): ref}


def _entity_index(model: type[Entity], body: kopf.Body, namespace: str) -> dict[tuple[str, str], dict] | None:
    raw = {"metadata": dict(body.get("metadata", {})), "spec": dict(body.get("spec", {}))}
    try:
        return {(namespace, from_resource(model, raw).key): raw}
    except ValueError:  # invalid: not cached, so reading it through the store reports the problem
        return None


@kopf.index(GROUP, VERSION, "tasks")  # type: ignore[arg-type]
def tasks(body: kopf.Body, namespace: str, **_: Any) -> dict[tuple[str, str], dict] | None:
    return _entity_index(Task, body, namespace)


@kopf.index(GROUP, VERSION, "functions")  # type: ignore[arg-type]
def functions(body: kopf.Body, namespace: str, **_: Any) -> dict[tuple[str, str], dict] | None:
    return _entity_index(Function, body, namespace)


@kopf.index("batch", "v1", "jobs", labels=OWNED)  # type: ignore[arg-type]
def jobs(
    body: kopf.Body, name: str, namespace: str, labels: kopf.Labels, **_: Any
) -> dict[tuple[str, str], dict] | None:
    key = workload_key(labels, name)
    return {(namespace, key): _slim(body)} if key else None


@kopf.index("batch", "v1", "cronjobs", labels=OWNED)  # type: ignore[arg-type]
def cronjobs(body: kopf.Body, namespace: str, labels: kopf.Labels, **_: Any) -> dict[tuple[str, str], dict] | None:
    return {(namespace, labels[LABEL_RUN]): _slim(body)} if LABEL_RUN in labels else None


@kopf.index("apps", "v1", "deployments", labels=OWNED)  # type: ignore[arg-type]
def deployments(body: kopf.Body, namespace: str, labels: kopf.Labels, **_: Any) -> dict[tuple[str, str], dict] | None:
    return {(namespace, labels[LABEL_RUN]): _slim(body)} if LABEL_RUN in labels else None


@kopf.index("", "v1", "pods", labels=OWNED)  # type: ignore[arg-type]
def pods(body: kopf.Body, namespace: str, labels: kopf.Labels, **_: Any) -> dict[tuple[str, str], dict] | None:
    key = workload_key(labels)
    if key is None:
        return None
    return {
        (namespace, key): {
            "metadata": dict(body.get("metadata", {})),
            "status": dict(body.get("status", {})),
        }
    }


# -- operator lifecycle


@kopf.on.startup()  # type: ignore[arg-type]
async def startup(
    settings: kopf.OperatorSettings,
    memo: kopf.Memo,
    runs: kopf.Index,
    jobs: kopf.Index,
    deployments: kopf.Index,
    cronjobs: kopf.Index,
    pods: kopf.Index,
    tasks: kopf.Index,
    functions: kopf.Index,
    **_: Any,
) -> None:
    """Configure kopf from the operator settings, connect, start the health endpoint and the deadline scan."""
    # ``python -m digitalhub_operator`` read the settings once and passed them in; ``kopf run -m`` did not.
    operator_settings = getattr(memo, "settings", None) or OperatorSettings.from_env()
    lifecycle.configure(settings, operator_settings)
    metrics.RUNS.source = lambda: [ref for refs in list(runs.values()) for ref in list(refs)]
    cache = lifecycle.IndexCache(tasks, functions)
    memo.controller = await asyncio.to_thread(lifecycle.build_controller, operator_settings, cache)
    memo.health = await health.start(operator_settings)
    memo.health.ready = True
    workloads = lifecycle.Workloads(jobs, deployments, cronjobs, pods)
    memo.scan = asyncio.create_task(lifecycle.scan_forever(memo.controller, memo.health, runs, workloads))


@kopf.on.cleanup()
async def cleanup(memo: kopf.Memo, **_: Any) -> None:
    if getattr(memo, "health", None) is not None:
        memo.health.ready = False
    if getattr(memo, "scan", None) is not None:
        memo.scan.cancel()
    if getattr(memo, "health", None) is not None:
        await memo.health.stop()


# -- runs


@kopf.on.event(GROUP, VERSION, RUNS)  # type: ignore[arg-type]
@metrics.counted("run")
def run_event(
    event: kopf.RawEvent,
    body: kopf.Body,
    namespace: str,
    memo: kopf.Memo,
    jobs: kopf.Index,
    deployments: kopf.Index,
    cronjobs: kopf.Index,
    pods: kopf.Index,
    **_: Any,
) -> None:
    """Launch a new run, release the workload of a stopped one; a malformed Run ends in ERROR."""
    controller: Controller = memo.controller
    if event["type"] == "DELETED" or body.get("metadata", {}).get("deletionTimestamp"):
        controller.forget(_key_of(body))
        return  # its workload is garbage-collected through the owner reference
    try:
        ref, run = parse_run(body)
    except SpecError as exc:
        controller.fail_malformed(namespace, body, str(exc))
        return
    key = (namespace, ref.workload)
    present = key in jobs or key in deployments or key in cronjobs
    controller.reconcile(ref, present=present, run=run)
    workload = _first(jobs.get(key)) if present and not ref.launched and not ref.final else None
    if workload is not None:
        # a Job made before its run (a schedule's firing) may have changed before the run was seen: no later
        # event of the Job will say so
        controller.sync(ref, workload, list(pods.get(key, ())))


# -- workloads


def _sync(
    namespace: str,
    workload_key: str,
    memo: kopf.Memo,
    runs: kopf.Index,
    workload: dict | None,
    pods: kopf.Index,
    deleted: bool = False,
) -> None:
    key = (namespace, workload_key)
    ref = _first(runs.get(key))
    if ref is None or workload is None:
        return
    memo.controller.sync(ref, workload, list(pods.get(key, ())), deleted)


@kopf.on.event("batch", "v1", "jobs", labels=OWNED)  # type: ignore[arg-type]
@metrics.counted("job")
def job_event(
    event: kopf.RawEvent,
    body: kopf.Body,
    name: str,
    namespace: str,
    labels: kopf.Labels,
    memo: kopf.Memo,
    runs: kopf.Index,
    pods: kopf.Index,
    **_: Any,
) -> None:
    key = workload_key(labels, name)
    if key is None:
        return
    deleted = event["type"] == "DELETED"
    if LABEL_SCHEDULE in labels and not deleted and (namespace, key) not in runs:
        memo.controller.adopt_firing(namespace, _slim(body))
    if not deleted and not body.get("status") and (namespace, key) not in pods:
        return  # just created, nothing happened to it yet: nothing to mirror (and no read of the run)
    _sync(namespace, key, memo, runs, _slim(body), pods, deleted)


@kopf.on.event("apps", "v1", "deployments", labels=OWNED)
@kopf.on.event("batch", "v1", "cronjobs", labels=OWNED)  # type: ignore[arg-type]
@metrics.counted("workload")
def workload_event(
    event: kopf.RawEvent,
    body: kopf.Body,
    namespace: str,
    labels: kopf.Labels,
    memo: kopf.Memo,
    runs: kopf.Index,
    pods: kopf.Index,
    **_: Any,
) -> None:
    if LABEL_RUN in labels:
        _sync(namespace, labels[LABEL_RUN], memo, runs, _slim(body), pods, event["type"] == "DELETED")


@kopf.on.event("", "v1", "pods", labels=OWNED)  # type: ignore[arg-type]
@metrics.counted("pod")
def pod_event(
    namespace: str,
    labels: kopf.Labels,
    memo: kopf.Memo,
    runs: kopf.Index,
    jobs: kopf.Index,
    deployments: kopf.Index,
    pods: kopf.Index,
    **_: Any,
) -> None:
    name = workload_key(labels)
    if name is not None:
        key = (namespace, name)
        workload = _first(jobs.get(key)) or _first(deployments.get(key))
        _sync(namespace, name, memo, runs, workload, pods)


@kopf.on.event("", "v1", "events", field="involvedObject.kind", value="Job")  # type: ignore[arg-type]
def job_warning_event(
    event: kopf.RawEvent,
    body: kopf.Body,
    namespace: str,
    memo: kopf.Memo,
    runs: kopf.Index,
    jobs: kopf.Index,
    pods: kopf.Index,
    **_: Any,
) -> None:
    """A Warning the Job controller posted on one of our Jobs: shown on its run at once."""
    if event["type"] == "DELETED" or body.get("type") != "Warning":
        return
    key = (namespace, body.get("involvedObject", {}).get("name"))
    ref, job = _first(runs.get(key)), _first(jobs.get(key))
    if ref is None or job is None or ref.final:
        return
    reason, message = body.get("reason") or "Warning", body.get("message") or ""
    memo.controller.job_warning(ref, job, list(pods.get(key, ())), reason, message)
