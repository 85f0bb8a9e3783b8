"""The controller in this process against the emulator: a run is launched once, whoever asks and whenever."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from kubernetes import client

from digitalhub_operator.cluster import Cluster
from digitalhub_operator.controller import Controller
from digitalhub_operator.events import EventRecorder
from digitalhub_operator.handlers import parse_run
from digitalhub_operator.lifecycle import Stores
from digitalhub_operator.settings import OperatorSettings

pytestmark = pytest.mark.integration


class HeldCluster(Cluster):
    """The operator's Cluster, whose first create waits until released: a launch caught in flight."""

    def __init__(self, api: client.ApiClient):
        super().__init__(api)
        self.created: list[str] = []
        self.holding, self.release = threading.Event(), threading.Event()

    def create(self, manifest: dict[str, Any]) -> bool:
        self.created.append(manifest["metadata"]["name"])
        if len(self.created) == 1:
            self.holding.set()
            self.release.wait(60)
        return super().create(manifest)


def launches(world, run) -> int:
    return sum(reason == "Launched" for _, reason, _ in world.events(run))


def test_a_scan_racing_a_launch_in_flight_does_not_launch_again(world):
    api = world.batch.api_client
    cluster = HeldCluster(api)
    controller = Controller(OperatorSettings(), Stores(api), cluster, EventRecorder(api))
    run = world.run("job")
    ref, delivered = parse_run(world.run_cr(run))
    name = f"run-{run.id}"

    from_watch = threading.Thread(target=controller.launch, args=(ref, delivered), daemon=True)
    from_watch.start()
    assert cluster.holding.wait(60), "the launch from the watch never reached create"
    controller.launch(ref)  # the scan, holding the same not-yet-launched ref, while that launch is in flight
    cluster.release.set()
    from_watch.join(60)
    assert not from_watch.is_alive()
    controller.launch(ref)  # a later scan with a stale ref: the run now records its Job

    assert cluster.created == [name]
    assert launches(world, run) == 1
    assert world.get_run(run).status.kubernetes.job == name


def test_a_run_delivered_before_its_launch_was_recorded_is_not_launched_again(world):
    api = world.batch.api_client
    controller = Controller(OperatorSettings(), Stores(api), Cluster(api), EventRecorder(api))
    run = world.run("job")
    ref, delivered = parse_run(world.run_cr(run))
    controller.launch(ref, delivered)
    # the watch may hand over an event older than the launch's own write (kopf queues them per object)
    controller.launch(ref, delivered)
    assert launches(world, run) == 1
    assert world.get_run(run).status.kubernetes.job == f"run-{run.id}"
