"""HA through kopf peering: of two replicas only the higher-priority one works; the other takes over when it dies."""

from __future__ import annotations

import signal

import pytest

from tests.helm_chart import render, shipped_crds
from tests.kube.server import declare_crds
from tests.waiting import wait_for

pytestmark = pytest.mark.integration
PEERING = {"DIGITALHUB_OPERATOR_PEERING": "digitalhub", "DIGITALHUB_OPERATOR_PEERING_LIFETIME": "3"}


@pytest.fixture(scope="module")
def peering(kube_server, world, namespace) -> str:
    """The chart's KopfPeering CRD (crds/) served by the emulator, and the peering object the chart creates."""
    values = {"operator": {"replicas": 2, "peering": {"enabled": True}, "watchNamespaces": [namespace]}}
    declare_crds(kube_server.emulator, [crd for crd in shipped_crds() if crd["spec"]["group"] == "kopf.dev"])
    peer = next(d for d in render(values) if d["kind"] == "KopfPeering")
    world.custom.create_namespaced_custom_object("kopf.dev", "v1", namespace, "kopfpeerings", peer)
    return peer["metadata"]["name"]


def peers(world, namespace: str, name: str) -> dict:
    obj = world.custom.get_namespaced_custom_object("kopf.dev", "v1", namespace, "kopfpeerings", name)
    return obj.get("status") or {}


def test_standby_replica_takes_over(peering, start_operator, world, namespace):
    active = start_operator(DIGITALHUB_OPERATOR_PRIORITY="200", **PEERING)
    standby = start_operator(DIGITALHUB_OPERATOR_PRIORITY="100", **PEERING)
    wait_for(lambda: len(peers(world, namespace, peering)) == 2, what="both replicas in the peering object")
    first = world.run("job")
    wait_for(lambda: world.job(f"run-{first.id}"), what="the Job, from the active replica")
    # kopf starts every replica paused until the peering says it is the highest priority alive
    assert "Resuming operations" in active.log_tail(100_000)
    assert "Resuming operations" not in standby.log_tail(100_000)
    assert "Handler 'run_event'" not in standby.log_tail(100_000)  # it saw no run at all

    active.stop(signal.SIGKILL)
    second = world.run("job")
    wait_for(lambda: world.job(f"run-{second.id}"), timeout=20, what="the standby replica to take over")
    assert "Resuming operations" in standby.log_tail(100_000)
