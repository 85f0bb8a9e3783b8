"""Sessions through the real operator: a token Secret, a one-replica Deployment and a Service; the pod played here
(its container's command and environment, the token resolved from the Secret as the kubelet would); the SDK reaches
it with the token it reads through the API, as through a port-forward. The same checks as the local sessions'."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import kubernetes_validate
import pytest
from operator_harness import PROJECT, free_port, running

from digitalhub_runtime_python.backends.kubernetes import KubernetesBackend
from digitalhub_runtime_python.contract import SESSION_TOKEN_KEY, session_secret_name, workload_name
from digitalhub_runtime_python.entities.project import Project
from digitalhub_runtime_python.entities.session import Session
from digitalhub_runtime_python.models.project import Project as ProjectModel
from digitalhub_runtime_python.models.states import State
from digitalhub_runtime_python.settings import Settings
from tests.integration import session_checks as checks
from tests.waiting import wait_for

pytestmark = pytest.mark.integration
CODE = "def main(n=1):\n    return n * 2\n"


class Pod:
    """A session's pod, played here: the container's process on a free loopback port."""

    def __init__(self, world: Any, deployment: dict[str, Any], kubeconfig: Path, home: Path, log: Path):
        self.port = free_port()
        command, env = world.container_process(
            deployment,
            kubeconfig,
            home,
            DIGITALHUB_SESSION_HOST="127.0.0.1",
            DIGITALHUB_SESSION_PORT=str(self.port),
        )
        self.log = log
        self.process = subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        probe = container["readinessProbe"]["httpGet"]["path"]
        wait_for(lambda: self._answers(probe), timeout=120, what=f"the session pod's {probe}")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _answers(self, path: str) -> bool:
        assert self.process.poll() is None, f"the session pod exited: {self.log.read_text()[-3000:]}"
        return httpx.get(self.endpoint + path, timeout=1).status_code == 200

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


@pytest.fixture(scope="module")
def project(world: Any, operator: Any, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The SDK on the Kubernetes backend (the test's identity), as a user outside the cluster has it."""
    settings = Settings(backend="kubernetes", home=tmp_path_factory.mktemp("sdk-home"), namespace=world.namespace)
    backend = KubernetesBackend(settings, store=world.store)
    return Project(world.store.get(ProjectModel, PROJECT, PROJECT), backend)


@pytest.fixture(scope="module")
def start(
    project: Project, world: Any, kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., tuple[Session, Pod]]]:
    """Start sessions through the operator, with their pods played here; the pods stop at the end."""
    pods: list[Pod] = []
    function = project.new_function("fn", code=CODE, handler="main")

    def start_session(**options: Any) -> tuple[Session, Pod]:
        session = project.new_session(function, **options)
        assert session.status.state == State.CREATED  # the operator takes it from here
        name = workload_name(session.id)
        deployment = wait_for(lambda: world.deployment(name), what="the session's Deployment")
        folder = tmp_path_factory.mktemp("pod")
        pod = Pod(world, deployment, kubeconfig, folder / "home", folder / "pod.log")
        pods.append(pod)
        pod_name = world.start_pod(deployment)
        world.pod_status(pod_name, running())
        world.deployment_status(name, {"replicas": 1, "availableReplicas": 1, "readyReplicas": 1})
        return session.connect(pod.endpoint), pod

    yield start_session
    for pod in pods:
        pod.stop()


@pytest.fixture(scope="module")
def shared(start: Callable[..., tuple[Session, Pod]]) -> tuple[Session, Pod]:
    """One session shared by the checks that leave it usable, and its pod."""
    return start()


@pytest.fixture(scope="module")
def session(shared: tuple[Session, Pod]) -> Session:
    return shared[0]


def test_the_operator_makes_a_secret_a_deployment_and_a_service(session: Session, world: Any) -> None:
    name = workload_name(session.id)
    deployment, service = world.deployment(name), world.service(name)
    secret = world.secret(session_secret_name(session.id))
    for manifest in (deployment, service, secret):
        for version in ("1.29", "1.33"):
            kubernetes_validate.validate(manifest, version, strict=True)
    owner = world.run_cr(session.entity)["metadata"]["uid"]
    assert [ref["uid"] for ref in secret["metadata"]["ownerReferences"]] == [owner]
    assert len(base64.b64decode(secret["data"][SESSION_TOKEN_KEY])) >= 32
    spec = deployment["spec"]
    assert spec["replicas"] == 1 and spec["strategy"] == {"type": "Recreate"}
    container = spec["template"]["spec"]["containers"][0]
    assert container["command"][:3] == ["python", "-m", "digitalhub_runtime_python.sessions"]
    token_env = next(e for e in container["env"] if e["name"] == "DIGITALHUB_SESSION_TOKEN")
    assert token_env == {
        "name": "DIGITALHUB_SESSION_TOKEN",
        "valueFrom": {"secretKeyRef": {"name": session_secret_name(session.id), "key": SESSION_TOKEN_KEY}},
    }
    assert service["spec"]["selector"] == spec["selector"]["matchLabels"]
    running_session = session.wait(60)
    assert running_session.status.state == State.RUNNING
    assert running_session.status.service.url == f"http://{name}.{world.namespace}.svc.cluster.local"


@pytest.mark.parametrize("check", checks.LOOP.values(), ids=list(checks.LOOP))
def test_the_session_loop(session: Session, check: Callable[[Session, Path], None], tmp_path: Path) -> None:
    check(session, tmp_path)


def test_the_kernel_runs_in_the_function_code(session: Session) -> None:
    checks.function_code_and_folder(session, "main", "main.main(21)", "42")


def test_the_session_wants_the_token_from_its_secret(shared: tuple[Session, Pod]) -> None:
    _session, pod = shared
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = httpx.post(f"{pod.endpoint}/execute", json={"code": "print(1)"}, headers=headers, timeout=10)
        assert response.status_code == 401


def test_destroy_ends_the_session_and_the_operator_removes_its_workload(
    start: Callable[..., tuple[Session, Pod]], world: Any
) -> None:
    session, pod = start()
    checks.query_keeps_state(session)
    checks.destroy(session)
    assert pod.process.wait(30) == 0
    read = lambda n: world.apps.read_namespaced_deployment(n, world.namespace)  # noqa: E731
    wait_for(lambda: world.gone(read, workload_name(session.id)), what="the Deployment deleted")


def test_the_idle_timeout_ends_the_session(start: Callable[..., tuple[Session, Pod]], world: Any) -> None:
    session, pod = start(idle_timeout=1)
    assert session.execute(code="print('busy')")["console"] == [["stdout", "busy\n"]]
    ended = world.wait_run(session.entity, lambda r: r.status.state == State.STOPPED, "STOPPED when idle", 60)
    assert ended.status.message == "no request for 1 s: the session ended"
    assert pod.process.wait(30) == 0
    read = lambda n: world.apps.read_namespaced_deployment(n, world.namespace)  # noqa: E731
    wait_for(lambda: world.gone(read, workload_name(session.id)), what="the Deployment deleted")
