"""The Kubernetes store: entities as ``digitalhub.io/v1alpha1`` custom resources in one namespace.

Projects are labels (``digitalhub.io/project``) inside the namespace, not namespaces of their own: creating a project
needs no cluster-wide rights, and a run's Job, Secrets and volumes live next to its Run. Writes use optimistic
concurrency on ``resourceVersion`` and retry on conflicts; ``wait`` watches the resource; run logs are the logs of
the run's pods (code running in a pod prints to stdout, which Kubernetes keeps, so ``append_logs`` stores nothing).
The ``kubernetes`` client is imported on first use, so importing the SDK stays fast.
"""

from __future__ import annotations

import builtins
import functools
import heapq
import itertools
import logging
import math
import os
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from digitalhub_runtime_python.contract import LABEL_RUN
from digitalhub_runtime_python.extras import require
from digitalhub_runtime_python.models.base import Entity, now
from digitalhub_runtime_python.models.errors import SpecError
from digitalhub_runtime_python.models.indexed import key_name_and_id
from digitalhub_runtime_python.models.keys import parse_key
from digitalhub_runtime_python.models.project import Project
from digitalhub_runtime_python.models.resources import (
    GROUP,
    LABEL_ACTION,
    LABEL_FUNCTION,
    LABEL_FUNCTION_ID,
    LABEL_ID,
    LABEL_NAME,
    LABEL_PROJECT,
    LABEL_STATE,
    LABEL_TASK_ID,
    VERSION,
    cr_name,
    from_resource,
    index_labels,
    label_value,
    resource_status,
    resource_type,
    to_resource,
)
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.stores.base import AlreadyExists, E, LogRecord, NotFound, Store, entity_class
from digitalhub_runtime_python.stores.changes import ChangeFeed
from digitalhub_runtime_python.stores.query import Listing, Order, Page, Query, SortKey, sort_key

logger = logging.getLogger(__name__)

SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


class StoreError(RuntimeError):
    """The API server refused or failed a request; the message says which object and why."""


class Conflict(StoreError):
    """The object changed between read and write more often than the retries allow."""


def in_cluster() -> bool:
    """True inside a pod with a service account and no KUBECONFIG overriding it."""
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and not os.environ.get("KUBECONFIG")


def load_api_client() -> Any:
    """An official-client ApiClient: the pod's service account in-cluster, else KUBECONFIG / ~/.kube/config."""
    require("kubernetes")
    from kubernetes import client, config

    configuration = client.Configuration()
    try:
        if in_cluster():
            config.load_incluster_config(client_configuration=configuration)
        else:  # KUBECONFIG is read now: the client library only looks at it when first imported
            config.load_kube_config(config_file=os.environ.get("KUBECONFIG"), client_configuration=configuration)
    except (config.ConfigException, OSError) as exc:
        raise StoreError(
            f"cannot reach Kubernetes: {exc}; set KUBECONFIG (or ~/.kube/config), or run in a pod "
            "with a service account, or use DIGITALHUB_BACKEND=local"
        ) from None
    return client.ApiClient(configuration)


def default_namespace() -> str:
    """The service account's namespace in-cluster, else the kubeconfig context's, else ``default``."""
    if in_cluster() and SERVICE_ACCOUNT_NAMESPACE.exists():
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip()
    from kubernetes import config

    try:
        _, active = config.list_kube_config_contexts(config_file=os.environ.get("KUBECONFIG"))
    except (config.ConfigException, OSError):
        return "default"
    return (active or {}).get("context", {}).get("namespace") or "default"


def _merged_metadata(current: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    """The object's metadata (finalizers, owners, resourceVersion, others' labels) with our labels and annotations."""
    return {
        **current,
        "labels": {**(current.get("labels") or {}), **ours["labels"]},
        "annotations": {**(current.get("annotations") or {}), **ours["annotations"]},
    }


class KubernetesStore(Store):
    """Entities as custom resources in ``namespace`` (DIGITALHUB_NAMESPACE, else the default described above)."""

    def __init__(self, api_client: Any = None, namespace: str | None = None, *, retries: int = 20, chunk: int = 500):
        require("kubernetes")
        from kubernetes import client

        self.api_client = api_client if api_client is not None else load_api_client()
        self.namespace = namespace or default_namespace()
        self.retries = retries
        self.chunk = chunk  # objects per list request: what a listing holds in memory besides its page
        self._custom = client.CustomObjectsApi(self.api_client)

    @functools.cached_property
    def core(self) -> Any:
        """The core API (pods, logs, secrets): made on first use, as importing it costs a pod ~1 s."""
        from kubernetes import client

        return client.CoreV1Api(self.api_client)

    # -- requests

    def _request(
        self, what: str, call: Callable[..., Any], *args: Any, conflict: type[Exception] = Conflict, **kwargs: Any
    ) -> Any:
        """Call the API; 404 becomes NotFound, 409 ``conflict``, anything else StoreError."""
        from kubernetes.client.rest import ApiException

        try:
            return call(*args, **kwargs)
        except ApiException as exc:
            if exc.status == 404:
                raise NotFound(f"{what} does not exist in namespace {self.namespace}") from None
            if exc.status == 409:
                raise conflict(f"{what}: {exc.reason}") from None
            if exc.status in (401, 403):
                raise StoreError(
                    f"{what}: the API server refused access ({exc.status} {exc.reason}); "
                    f"grant this identity the RBAC rules in docs/kubernetes.md in namespace {self.namespace}"
                ) from None
            raise StoreError(f"{what}: API server answered {exc.status} {exc.reason}: {exc.body}") from None

    def _on_object(self, call: Callable[..., Any], plural: str, name: str, *body: Any, status: bool = False) -> Any:
        """``call`` (a namespaced custom-object method) on ``plural/name`` of this namespace, with ``body`` if any."""
        what = f"{plural}/{name}/status" if status else f"{plural}/{name}"
        return self._request(what, call, GROUP, VERSION, self.namespace, plural, name, *body)

    def _fetch(self, plural: str, name: str) -> dict[str, Any]:
        return self._on_object(self._custom.get_namespaced_custom_object, plural, name)

    def _chunks(self, plural: str, **selectors: Any) -> Iterator[dict[str, Any]]:
        """The objects a list request selects, fetched ``chunk`` at a time (the API's ``limit`` and ``continue``)."""
        call = self._custom.list_namespaced_custom_object
        token = None
        while True:
            paging: dict[str, Any] = {"limit": self.chunk, **({"_continue": token} if token else {})}
            listed = self._request(plural, call, GROUP, VERSION, self.namespace, plural, **selectors, **paging)
            yield from listed.get("items", [])
            token = (listed.get("metadata") or {}).get("continue")
            if not token:
                return

    # -- reading

    def _selected(self, cls: type[E], project: str, query: Query) -> Iterator[tuple[dict[str, Any], E]]:
        """CRs of ``cls`` in ``project`` that ``query`` selects (``latest`` aside), with their entities.

        Label selectors narrow what the server sends (CRs carrying the index labels); CRs without them are listed
        apart and checked here, as every CR is, against the whole query.
        """
        plural = resource_type(cls.ENTITY_TYPE).plural
        pushed = {LABEL_PROJECT: project, LABEL_NAME: query.name, LABEL_ID: query.id, LABEL_ACTION: query.action}
        pushed[LABEL_STATE] = query.state
        if query.function_key:
            pushed[LABEL_FUNCTION], pushed[LABEL_FUNCTION_ID] = key_name_and_id(query.function_key)
        elif query.function:
            pushed[LABEL_FUNCTION] = query.function
        pushed[LABEL_TASK_ID] = key_name_and_id(query.task)[1]
        selector = ",".join([LABEL_STATE, *(f"{k}={v}" for k, v in pushed.items() if label_value(v))])
        labelled = self._chunks(plural, label_selector=selector)
        for obj in itertools.chain(labelled, self._chunks(plural, label_selector=f"!{LABEL_STATE}")):
            try:
                entity = from_resource(cls, obj)
            except SpecError as exc:
                logger.warning("skipping %s %s: %s", plural, obj["metadata"].get("name"), exc)
                continue
            if entity.project == project and query.matches(entity):
                yield obj, entity

    def _keyed(self, cls: type[E], project: str, query: Query) -> Iterator[tuple[SortKey, E]]:
        """The entities ``query`` selects with their sort keys; with ``latest``, each name's newest version when
        the query selects it (filters apply to that version)."""
        if not query.latest:
            for obj, entity in self._selected(cls, project, query):
                yield sort_key(entity, obj["metadata"]["name"]), entity
            return
        latest: dict[str, tuple[SortKey, E]] = {}
        for obj, entity in self._selected(cls, project, Query(name=query.name)):
            key = sort_key(entity, obj["metadata"]["name"])
            if entity.name not in latest or key > latest[entity.name][0]:
                latest[entity.name] = (key, entity)
        yield from (pair for pair in latest.values() if query.matches(pair[1]))

    def page(
        self, cls: type[E], project: str, query: Query, *, limit: int, order: Order = "newest", after: str | None = None
    ) -> Page[E]:
        """One pass over the selection keeps the ``limit`` entities after ``after`` (the API cannot order by
        creation time), so a page costs a read of the selection and memory for the page and one chunk."""
        listing = Listing(cls.ENTITY_TYPE, project, query, order)
        start = listing.start(after)
        beyond = (pair for pair in self._keyed(cls, project, query) if listing.beyond(pair[0], start))
        pick = heapq.nlargest if order == "newest" else heapq.nsmallest
        chosen = pick(limit + 1, beyond, key=lambda pair: pair[0])
        continuation = listing.continuation(chosen[limit - 1][0]) if len(chosen) > limit else None
        return Page((entity for _, entity in chosen[:limit]), continuation)

    def count(self, cls: type[E], project: str, query: Query) -> int:
        return sum(1 for _ in self._keyed(cls, project, query))

    def scan(
        self,
        cls: type[E],
        project: str,
        query: Query,
        order: Order = "newest",
        page_size: int = 500,
        after: str | None = None,
    ) -> Iterator[E]:
        """Every entity ``query`` selects, in order, from one pass over the selection sorted in memory (a pass per
        page would read the selection once per page)."""
        listing = Listing(cls.ENTITY_TYPE, project, query, order)
        start = listing.start(after)
        found = (pair for pair in self._keyed(cls, project, query) if listing.beyond(pair[0], start))
        yield from (entity for _, entity in sorted(found, key=lambda pair: pair[0], reverse=order == "newest"))

    def _versions(self, cls: type[E], project: str, name: str) -> list[tuple[dict[str, Any], E]]:
        """CRs of ``cls`` in ``project`` named ``name``, newest first, with their entities."""
        pairs = self._selected(cls, project, Query(name=name))
        return sorted(pairs, key=lambda pair: sort_key(pair[1], pair[0]["metadata"]["name"]), reverse=True)

    def _get_raw(self, cls: type[E], project: str, name: str, id: str | None) -> tuple[dict[str, Any], E]:
        rt = resource_type(cls.ENTITY_TYPE)
        if id is None:
            versions = self._versions(cls, project, name)
            if not versions:
                raise NotFound(f"no {cls.ENTITY_TYPE} {name} in project {project} (namespace {self.namespace})")
            return versions[0]
        try:
            obj = self._fetch(rt.plural, cr_name(cls.ENTITY_TYPE, name, id))
        except ValueError as exc:  # an id that cannot name a CR names no stored entity
            raise NotFound(f"no {cls.ENTITY_TYPE} {name}:{id} in project {project}: {exc}") from None
        entity = from_resource(cls, obj)
        if entity.project != project or entity.name != name or entity.id != id:
            raise NotFound(
                f"no {cls.ENTITY_TYPE} {name}:{id} in project {project} "
                f"({rt.plural}/{obj['metadata']['name']} holds {entity.key})"
            )
        return obj, entity

    def get(self, cls: type[E], project: str, name: str, id: str | None = None) -> E:
        return self._get_raw(cls, project, name, id)[1]

    def list_projects(self) -> builtins.list[Project]:
        projects = []
        for obj in self._chunks(resource_type("project").plural):
            try:
                projects.append(from_resource(Project, obj))
            except SpecError as exc:
                logger.warning("skipping projects %s: %s", obj["metadata"].get("name"), exc)
        return sorted(projects, key=lambda p: p.metadata.created, reverse=True)

    def _raw_by_key(self, key: str) -> tuple[type[Entity], dict[str, Any]]:
        parsed = parse_key(key)
        cls = entity_class(parsed.entity_type)
        return cls, self._get_raw(cls, parsed.project, parsed.name, parsed.id)[0]

    # -- writing

    def create(self, entity: E) -> E:
        rt = resource_type(entity.ENTITY_TYPE)
        body = to_resource(entity, self.namespace)
        body.pop("status")
        created = self._request(
            f"{rt.plural}/{body['metadata']['name']}",
            self._custom.create_namespaced_custom_object,
            GROUP,
            VERSION,
            self.namespace,
            rt.plural,
            body,
            conflict=AlreadyExists,
        )
        status = resource_status(entity.status, created["metadata"].get("generation"))
        if status:
            self._initial_status(rt.plural, created, status)
        return entity

    def _initial_status(self, plural: str, obj: dict[str, Any], status: dict[str, Any]) -> None:
        """Write a new CR's status (the server drops it on create), unless someone else already did."""
        name = obj["metadata"]["name"]
        for _ in range(self.retries):
            try:
                self._on_object(
                    self._custom.replace_namespaced_custom_object_status,
                    plural,
                    name,
                    {**obj, "status": status},
                    status=True,
                )
                return
            except Conflict:
                obj = self._fetch(plural, name)
                if obj.get("status"):
                    return
        raise Conflict(f"{plural}/{name}: could not write the initial status after {self.retries} attempts")

    def update(self, key: str, change: Callable[[Entity], Entity]) -> Entity:
        """Read, change and write back with resourceVersion preconditions; on conflict re-read and re-apply.

        Spec and metadata go to the resource, status to the status subresource. Once the first write landed,
        retries only re-apply the status part, so a change is never applied twice.
        """
        cls, obj = self._raw_by_key(key)
        plural = resource_type(cls.ENTITY_TYPE).plural
        name = obj["metadata"]["name"]
        main_written = False
        for attempt in range(self.retries):
            before = from_resource(cls, obj)
            changed = change(from_resource(cls, obj))
            try:
                if not main_written and (changed.spec != before.spec or changed.metadata != before.metadata):
                    changed.metadata.updated = now()
                    body = to_resource(changed, self.namespace)
                    body.pop("status")
                    body["metadata"] = _merged_metadata(obj["metadata"], body["metadata"])
                    obj = self._on_object(self._custom.replace_namespaced_custom_object, plural, name, body)
                main_written = True
                if changed.status != before.status:
                    body = {**obj, "status": resource_status(changed.status, obj["metadata"].get("generation"))}
                    obj = self._on_object(
                        self._custom.replace_namespaced_custom_object_status, plural, name, body, status=True
                    )
                return from_resource(cls, self._sync_labels(cls, plural, obj))
            except Conflict:
                time.sleep(random.uniform(0, 0.01 * 2 ** min(attempt, 5)))
                obj = self._fetch(plural, name)
        raise Conflict(f"{key}: still conflicting after {self.retries} attempts; too many concurrent writers")

    def _sync_labels(self, cls: type[Entity], plural: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Bring a CR's index labels in line with its stored status (a status write cannot change labels), with a
        merge patch of the labels only, conditional on the ``resourceVersion`` read: on a conflict someone wrote
        meanwhile, so re-read and compare again, and the labels follow the latest status."""
        name = obj["metadata"]["name"]
        for _ in range(self.retries):
            labels = obj["metadata"].get("labels") or {}
            wanted = index_labels(from_resource(cls, obj))
            changed = {label: value for label, value in wanted.items() if labels.get(label) != value}
            if not changed:
                return obj
            patch = {"metadata": {"resourceVersion": obj["metadata"]["resourceVersion"], "labels": changed}}
            try:
                return self._on_object(self._custom.patch_namespaced_custom_object, plural, name, patch)
            except Conflict:
                obj = self._fetch(plural, name)
        raise Conflict(f"{plural}/{name}: not labelled after {self.retries} attempts; too many concurrent writers")

    def delete(self, key: str) -> None:
        cls, obj = self._raw_by_key(key)
        plural = resource_type(cls.ENTITY_TYPE).plural
        name = obj["metadata"]["name"]
        self._on_object(self._custom.delete_namespaced_custom_object, plural, name)

    # -- logs

    def append_logs(self, run_key: str, records: builtins.list[LogRecord]) -> None:
        """Nothing to store: a run in a pod prints to stdout, which Kubernetes keeps as the pod's log."""

    def _run_pods(self, run: Run) -> builtins.list[Any]:
        info = run.status.kubernetes
        if info is None:
            return []
        pods = {}
        workloads = [w for w in (info.job, info.deployment) if w]
        if workloads:
            selector = f"{LABEL_RUN} in ({', '.join(workloads)})"
            for pod in self._request(
                "pods", self.core.list_namespaced_pod, self.namespace, label_selector=selector
            ).items:
                pods[pod.metadata.name] = pod
        for name in set(info.pods) - set(pods):
            try:
                pods[name] = self._request(f"pods/{name}", self.core.read_namespaced_pod, name, self.namespace)
            except NotFound:
                continue
        return sorted(pods.values(), key=lambda pod: (pod.metadata.creation_timestamp or now(), pod.metadata.name))

    def read_logs(self, run_key: str) -> builtins.list[LogRecord]:
        """The logs of the run's pods, oldest pod first; pods gone or not started yet are skipped. A finished pod
        that is gone (the Job's TTL) is represented by the log tail the operator kept on the run."""
        run = self.get_run(run_key)
        records = []
        read = set()
        for pod in self._run_pods(run):
            try:
                text = self._request(
                    f"pods/{pod.metadata.name}/log",
                    self.core.read_namespaced_pod_log,
                    pod.metadata.name,
                    self.namespace,
                )
            except (NotFound, StoreError):
                continue
            read.add(pod.metadata.name)
            if text:
                records.append(LogRecord(pod.metadata.creation_timestamp or now(), "stdout", text))
        tail = run.status.kubernetes.log_tail if run.status.kubernetes else None
        if tail is not None and tail.pod not in read:
            dropped = f"[earlier lines of pod {tail.pod} were not kept]\n" if tail.truncated else ""
            records.append(LogRecord(tail.time, "stdout", dropped + tail.text))
        return records

    def changes(self) -> ChangeFeed:
        """Watches of every digitalhub resource type in the namespace, with this store's identity."""
        from digitalhub_runtime_python.stores.kubernetes_changes import KubernetesChangeFeed

        return KubernetesChangeFeed(self.api_client, self.namespace)

    # -- waiting

    def _events(self, plural: str, name: str, version: str, seconds: float) -> Iterator[dict[str, Any]]:
        from kubernetes import watch

        stream = watch.Watch().stream(
            self._custom.list_namespaced_custom_object,
            GROUP,
            VERSION,
            self.namespace,
            plural,
            field_selector=f"metadata.name={name}",
            resource_version=version,
            timeout_seconds=max(1, math.ceil(seconds)),
            _request_timeout=seconds + 10,
        )
        try:
            yield from stream
        finally:
            stream.close()

    def wait(self, key: str, until: Callable[[Entity], bool], timeout: float | None = None) -> Entity:
        """Watch the entity's CR until ``until`` holds; TimeoutError after ``timeout`` seconds."""
        from kubernetes.client.rest import ApiException

        deadline = None if timeout is None else time.monotonic() + timeout
        cls, obj = self._raw_by_key(key)
        plural = resource_type(cls.ENTITY_TYPE).plural
        name = obj["metadata"]["name"]
        while True:
            entity = from_resource(cls, obj)
            if until(entity):
                return entity
            remaining = 300.0 if deadline is None else deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{key} did not reach the expected state within {timeout} s")
            try:
                for event in self._events(plural, name, obj["metadata"]["resourceVersion"], remaining):
                    if event["type"] == "DELETED":
                        raise NotFound(f"{key} was deleted while waiting for it")
                    if event["type"] in ("ADDED", "MODIFIED"):
                        obj = event["raw_object"]
                        entity = from_resource(cls, obj)
                        if until(entity):
                            return entity
                    if deadline is not None and time.monotonic() >= deadline:
                        break
            except ApiException as exc:
                if exc.status != 410:  # 410 Gone: the version is too old; re-read and watch again
                    raise StoreError(f"watching {plural}/{name}: {exc.status} {exc.reason}") from None
            obj = self._fetch(plural, name)
