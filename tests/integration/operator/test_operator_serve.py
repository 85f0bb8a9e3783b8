"""A serve run through the real operator: Deployment + Service, rollout mirroring, URL, stop and resume."""

from __future__ import annotations

import subprocess

import httpx
import kubernetes_validate
import pytest
from operator_harness import assert_valid_run_cr, free_port, running

from digitalhub_runtime_python.models.states import State
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


def test_serve_run_lifecycle(operator, world):
    run = world.run("serve", replicas=2, service_type="NodePort", resources={"cpu": "250m"})
    name = f"run-{run.id}"
    deployment = wait_for(lambda: world.deployment(name), what="the Deployment")
    service = wait_for(lambda: world.service(name), what="the Service")
    for version in ("1.29", "1.33"):
        kubernetes_validate.validate(deployment, version, strict=True)
        kubernetes_validate.validate(service, version, strict=True)
    assert deployment["spec"]["replicas"] == 2
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert service["spec"]["type"] == "NodePort"
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    url = f"http://{name}.{world.namespace}.svc.cluster.local"
    ready = world.wait_run(run, lambda r: r.status.state == State.READY, "READY")
    assert ready.status.service.url == url and ready.status.kubernetes.service == name

    pod = world.start_pod(deployment)
    world.pod_status(pod, running())
    world.deployment_status(name, {"replicas": 2, "availableReplicas": 1, "readyReplicas": 1})
    serving = world.wait_run(run, lambda r: r.status.state == State.RUNNING, "RUNNING")
    assert url in serving.status.message and "1/2" in serving.status.message
    assert serving.status.service.available_replicas == 1

    world.pod_status(
        pod,
        {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "runtime",
                    "ready": False,
                    "restartCount": 4,
                    "image": "x",
                    "imageID": "",
                    "state": {
                        "waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container"}
                    },
                }
            ],
        },
    )
    world.deployment_status(name, {"replicas": 2, "availableReplicas": 0, "unavailableReplicas": 2})
    crashing = world.wait_run(
        run,
        lambda r: r.status.kubernetes.reason == "CrashLoopBackOff" and "no replica available" in r.status.message,
        "CrashLoopBackOff with no replica",
    )
    assert crashing.status.state == State.RUNNING and crashing.status.service.available_replicas == 0
    assert_valid_run_cr(world.run_cr(run))

    world.store.transition(run.key, State.STOPPED, "stopped by user")
    wait_for(
        lambda: world.gone(lambda n: world.apps.read_namespaced_deployment(n, world.namespace), name),
        what="Deployment deleted",
    )
    wait_for(
        lambda: world.gone(lambda n: world.core.read_namespaced_service(n, world.namespace), name),
        what="Service deleted",
    )
    stopped = world.wait_run(run, lambda r: r.status.kubernetes.deployment is None, "workload forgotten")
    assert stopped.status.state == State.STOPPED

    world.store.transition(run.key, State.READY, "resumed")  # STOPPED -> READY resumes a service
    wait_for(lambda: world.deployment(name), what="the Deployment again")
    wait_for(lambda: world.service(name), what="the Service again")


def test_service_name_from_the_task(operator, world):
    run = world.run("serve", service_name="scorer", service_type="LoadBalancer")
    service = wait_for(lambda: world.service("scorer"), what="the named Service")
    assert service["spec"]["type"] == "LoadBalancer"
    ready = world.wait_run(run, lambda r: r.status.state == State.READY, "READY")
    assert ready.status.service.url == f"http://scorer.{world.namespace}.svc.cluster.local"


def answers(server: subprocess.Popen, url: str, log) -> bool:
    assert server.poll() is None, f"the server exited: {log.read_text()[-3000:]}"
    return httpx.get(url, timeout=1).status_code == 200


def test_the_real_server_answers_the_probes_the_deployment_declares(operator, world, kubeconfig, tmp_path):
    run = world.run("serve")
    name = f"run-{run.id}"
    deployment = wait_for(lambda: world.deployment(name), what="the Deployment")
    world.wait_run(run, lambda r: r.status.state == State.READY, "READY")
    port = free_port()
    command, env = world.container_process(
        deployment, kubeconfig, tmp_path / "home", PORT=str(port), DIGITALHUB_SERVE_DRAIN_DELAY="0"
    )  # no Service routes to it here
    log = tmp_path / "server.log"
    server = subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        for probe in ("readinessProbe", "livenessProbe"):
            path = container[probe]["httpGet"]["path"]
            url = f"http://127.0.0.1:{port}{path}"
            wait_for(lambda url=url: answers(server, url, log), timeout=30, what=f"the server's {path}")
        pod = world.start_pod(deployment)
        world.pod_status(pod, running())
        world.deployment_status(name, {"replicas": 1, "availableReplicas": 1, "readyReplicas": 1})
        world.wait_run(run, lambda r: r.status.state == State.RUNNING, "RUNNING")
    finally:
        server.terminate()  # SIGTERM: the server drains and exits by itself
        assert server.wait(30) == 0, log.read_text()
