"""Bad input ends the run in ERROR with a message naming what to fix; the operator keeps serving other runs."""

from __future__ import annotations

import pytest
from operator_harness import PROJECT, assert_valid_run_cr, assert_valid_run_status, run_cr, wait_error

from digitalhub_runtime_python.models.resources import to_resource
from digitalhub_runtime_python.models.states import State
from tests.waiting import wait_for

pytestmark = pytest.mark.integration
GROUP, VERSION = "digitalhub.io", "v1alpha1"


def create_cr(world, plural: str, body: dict) -> dict:
    return world.custom.create_namespaced_custom_object(GROUP, VERSION, world.namespace, plural, body)


def test_missing_task_and_function(operator, world):
    function = world.function()
    create_cr(
        world,
        "runs",
        run_cr("no-task", task=f"store://{PROJECT}/task/python+job/ghost:0", function=function.key, action="job"),
    )
    failed = wait_error(world, "no-task")
    assert "spec.task" in failed["status"]["message"] and "does not exist" in failed["status"]["message"]
    assert_valid_run_cr(failed)
    task = world.task(function)
    create_cr(
        world,
        "runs",
        run_cr("no-fn", task=task.key, function=f"store://{PROJECT}/function/python/ghost:0", action="job"),
    )
    assert "spec.function" in wait_error(world, "no-fn")["status"]["message"]


def test_invalid_resources_in_a_task(operator, world):
    function = world.function()
    task = world.task(function)
    body = to_resource(task, world.namespace)
    body["metadata"]["name"] = f"lots-of-cpu-{task.id}"
    body["metadata"]["labels"]["digitalhub.io/name"] = "lots-of-cpu"
    body["spec"]["resources"] = {"cpu": {"requests": "lots"}}
    body.pop("status")
    create_cr(world, "tasks", body)
    create_cr(
        world,
        "runs",
        run_cr(
            "bad-cpu",
            task=f"store://{PROJECT}/task/python+job/lots-of-cpu:{task.id}",
            function=function.key,
            action="job",
        ),
    )
    message = wait_error(world, "bad-cpu")["status"]["message"]
    assert "resources.cpu" in message and "'lots'" in message


def test_unknown_action_and_build(operator, world):
    function = world.function()
    task = world.task(function)
    # a real API server refuses this CR (the CRD enumerates actions); the operator copes when it gets through
    create_cr(world, "runs", run_cr("explode", task=task.key, function=function.key, action="explode"))
    failed = wait_error(world, "explode")
    assert "spec.action" in failed["status"]["message"] and "'explode'" in failed["status"]["message"]
    assert_valid_run_status(failed)
    build_task = world.task(function, "build", instructions=["pip install rich"])
    create_cr(world, "runs", run_cr("build", task=build_task.key, function=function.key, action="build"))
    # this operator has no registry to push images to: the run says which setting gives it one
    assert "set DIGITALHUB_OPERATOR_BUILD_REGISTRY" in wait_error(world, "build")["status"]["message"]


def test_operator_keeps_serving_after_bad_input(operator, world):
    good = world.run("job")
    wait_for(lambda: world.job(f"run-{good.id}"), what="the Job of a good run after bad ones")
    assert world.get_run(good).status.state == State.CREATED
    assert operator.probe("/healthz").status_code == 200
