"""A Run deleted while the operator launches it leaves no Job behind.

The race is made certain rather than hoped for: the operator's controller (built as the operator builds it, against
the emulator) is handed a Run as a watch event delivered it, after that Run was deleted. Then the real operator
gets Runs created and deleted at once, over and over.
"""

from __future__ import annotations

import pytest

from digitalhub_operator.handlers import parse_run
from digitalhub_operator.lifecycle import build_controller
from digitalhub_operator.settings import OperatorSettings
from tests.waiting import wait_for

pytestmark = pytest.mark.integration
GROUP, VERSION = "digitalhub.io", "v1alpha1"


def test_a_run_deleted_before_its_job_is_created_gets_no_job(world, kubeconfig, monkeypatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    controller = build_controller(OperatorSettings(priority=1, namespaces=(world.namespace,)))
    run = world.run("job")
    ref, seen = parse_run(world.run_cr(run))  # what the watch delivered
    world.custom.delete_namespaced_custom_object(GROUP, VERSION, world.namespace, "runs", run.id)
    controller.launch(ref, seen)
    assert world.gone(lambda name: world.batch.read_namespaced_job(name, world.namespace), f"run-{run.id}")


def test_runs_deleted_right_after_creation_leave_no_orphan(world, start_operator) -> None:
    start_operator(DIGITALHUB_OPERATOR_PENDING_DEADLINE="120")
    names = []
    for _ in range(10):
        run = world.run("job")
        world.custom.delete_namespaced_custom_object(GROUP, VERSION, world.namespace, "runs", run.id)
        names.append(f"run-{run.id}")
    probe = world.run("job")  # handled after the others: by then their launches are over
    wait_for(lambda: world.job(f"run-{probe.id}"), what="a later run's Job")

    def orphans() -> list[str]:
        jobs = world.batch.list_namespaced_job(world.namespace).items
        return [job.metadata.name for job in jobs if job.metadata.name in names]

    wait_for(lambda: not orphans(), what="the Jobs of deleted runs to be gone")
