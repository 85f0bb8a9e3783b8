"""Start-up wiring and the background scan: kopf settings, API client, store, controller."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import kopf
from kubernetes import client, config

from digitalhub_runtime_python.stores.kubernetes import KubernetesStore

from . import events
from .cluster import Cluster
from .controller import Controller, RunRef
from .health import Health
from .settings import OperatorSettings

logger = logging.getLogger("digitalhub_operator")


def configure(settings: kopf.OperatorSettings) -> OperatorSettings:
    """Apply the operator settings to kopf: peering (HA), posting, worker threads."""
    ours = OperatorSettings.from_env()
    settings.posting.level = logging.WARNING  # Normal events come from the controller, not from log lines
    settings.execution.max_workers = 16
    settings.watching.reconnect_backoff = 1.0
    if ours.peering:
        settings.peering.standalone = False
        settings.peering.mandatory = True
        settings.peering.name = ours.peering
        settings.peering.priority = ours.priority
        settings.peering.clusterwide = not ours.namespaces
    else:
        settings.peering.standalone = True
    return ours


def api_client(pool_size: int = 32) -> client.ApiClient:
    """The official client configured in-cluster (service account) or from KUBECONFIG."""
    configuration = client.Configuration()
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        config.load_incluster_config(client_configuration=configuration)
    else:
        config.load_kube_config(client_configuration=configuration)
    configuration.connection_pool_maxsize = pool_size
    return client.ApiClient(configuration)


def build_controller(settings: OperatorSettings) -> Controller:
    """Connect to the API server (failing early when it is unreachable) and assemble the controller."""
    api = api_client()
    client.VersionApi(api).get_code()
    return Controller(settings, KubernetesStore(api_client=api), Cluster(api), events.post)


def _snapshot(runs: Any, jobs: Any, deployments: Any, pods: Any) -> list[tuple[RunRef, dict | None, list[dict]]]:
    """Unfinished runs with their workload and pods, copied from the indices on the event loop."""
    work = []
    for key, refs in list(runs.items()):
        for ref in list(refs):
            if ref.final:
                continue
            workload = next(iter(jobs.get(key, ())), None) or next(iter(deployments.get(key, ())), None)
            work.append((ref, workload, list(pods.get(key, ()))))
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
            logger.exception("scan of run %s failed", ref.key)


async def scan_forever(controller: Controller, health: Health, runs: Any, jobs: Any, deployments: Any,
                       pods: Any) -> None:
    """Every ``check_interval`` seconds, scan the unfinished runs in a worker thread."""
    while True:
        await asyncio.sleep(controller.settings.check_interval)
        work = _snapshot(runs, jobs, deployments, pods)
        await asyncio.to_thread(scan_once, controller, work)
        health.beat()
