"""Start-up wiring and the background scan: kopf settings, API client, store, controller."""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import Any

import kopf
from kubernetes import client

from digitalhub_operator import events, metrics
from digitalhub_operator.cluster import Cluster
from digitalhub_operator.controller import Controller, RunRef
from digitalhub_operator.health import Health
from digitalhub_operator.settings import OperatorSettings
from digitalhub_runtime_python.contract import MANAGED_BY
from digitalhub_runtime_python.stores.kubernetes import KubernetesStore, load_api_client

logger = logging.getLogger("digitalhub_operator")

# Watched kinds the cluster has many of, ours or not: the API server sends only ours (kopf's own handler filters
# on labels run in the operator, after every object of the cluster has been received and parsed).
OWNED_WORKLOADS = (
    ("batch", "v1", "jobs"),
    ("batch", "v1", "cronjobs"),
    ("apps", "v1", "deployments"),
    ("", "v1", "pods"),
)
OWNED_SELECTOR = ",".join(f"{key}={value}" for key, value in MANAGED_BY.items() if key.endswith("managed-by"))


def configure(settings: kopf.OperatorSettings, ours: OperatorSettings) -> None:
    """Apply the operator settings to kopf: peering (HA), posting, worker threads, server-side label selectors."""
    settings.posting.level = logging.WARNING  # Normal events come from the controller, not from log lines
    # kopf logs every handled watch event at INFO ("Handler ... succeeded"): at scale, that is most of the log and
    # a good share of the CPU; failures still come as warnings and errors
    logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    settings.execution.max_workers = 16
    settings.watching.reconnect_backoff = 1.0
    settings.scanning.disabled = not ours.scanning
    for resource in OWNED_WORKLOADS:
        settings.watching.label_selectors[resource] = OWNED_SELECTOR
    metrics.count_watch_restarts()
    if ours.peering:
        settings.peering.standalone = False
        settings.peering.mandatory = True
        settings.peering.name = ours.peering
        settings.peering.priority = ours.priority
        settings.peering.lifetime = ours.peering_lifetime
        settings.peering.clusterwide = not ours.namespaces
    else:
        settings.peering.standalone = True


class Stores:
    """One KubernetesStore per namespace, sharing the API client (the store is namespaced)."""

    def __init__(self, api: client.ApiClient):
        self._api = api
        self._stores: dict[str, KubernetesStore] = {}
        self._lock = threading.Lock()

    def __call__(self, namespace: str) -> KubernetesStore:
        with self._lock:
            store = self._stores.get(namespace)
            if store is None:
                store = self._stores[namespace] = KubernetesStore(api_client=self._api, namespace=namespace)
            return store


class IndexCache:
    """Tasks and functions by key, from kopf's watch-fed indices; read from worker threads, so misses are fine."""

    def __init__(self, *indices: Any):
        self._indices = indices

    def __call__(self, namespace: str, key: str) -> dict | None:
        for index in self._indices:
            try:
                found = next(iter(index.get((namespace, key), ())), None)
            except RuntimeError:  # changed while we looked: read through the API instead
                return None
            if found is not None:
                return found
        return None


def build_controller(settings: OperatorSettings, cache: IndexCache | None = None) -> Controller:
    """Connect to the API server (failing early when it is unreachable) and assemble the controller."""
    configuration = load_api_client().configuration
    configuration.connection_pool_maxsize = 32  # one connection per worker thread
    api = client.ApiClient(configuration)
    client.VersionApi(api).get_code()
    return Controller(settings, Stores(api), Cluster(api), events.EventRecorder(api), cache)


@dataclass(frozen=True)
class Workloads:
    """kopf's watch-fed indices of run workloads, by (namespace, workload name)."""

    jobs: Any
    deployments: Any
    cronjobs: Any
    pods: Any

    def of(self, key: tuple[str, str]) -> dict | None:
        for index in (self.jobs, self.deployments, self.cronjobs):
            found = next(iter(index.get(key, ())), None)
            if found is not None:
                return found
        return None


def _snapshot(runs: Any, workloads: Workloads) -> list[tuple[RunRef, dict | None, list[dict]]]:
    """Unfinished runs with their workload and pods, copied from the indices on the event loop."""
    work = []
    for key, refs in list(runs.items()):
        for ref in list(refs):
            if not ref.final:
                work.append((ref, workloads.of(key), list(workloads.pods.get(key, ()))))
    return work


def scan_once(controller: Controller, work: list[tuple[RunRef, dict | None, list[dict]]]) -> None:
    """Expire runs stuck past the pending deadline; retry launches; catch workloads deleted while we were away."""
    for ref, workload, pods in work:
        try:
            if workload is None:
                if ref.launched:
                    controller.check_launched(ref)
                else:
                    controller.launch(ref)
            else:
                controller.expire(ref, workload, pods)
        except Exception:  # one run's trouble must not stop the scan of the others
            metrics.RECONCILE_ERRORS.labels("scan").inc()
            logger.exception("scan of run %s failed", ref.key)


async def scan_forever(controller: Controller, health: Health, runs: Any, workloads: Workloads) -> None:
    """Every ``check_interval`` seconds, scan the unfinished runs in a worker thread."""
    while True:
        await asyncio.sleep(controller.settings.check_interval)
        work = _snapshot(runs, workloads)
        await asyncio.to_thread(scan_once, controller, work)
        health.beat()
