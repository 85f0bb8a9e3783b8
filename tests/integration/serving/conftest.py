"""Serve runs of served_app.py through the real local launcher: one child server process per configuration."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.models.base import new_id
from digitalhub_runtime_python.models.run import Run, RunSpec
from digitalhub_runtime_python.models.task import Task, TaskSpec

APP = Path(__file__).with_name("served_app.py")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stored_serve_run(project: dh.Project, handler: str = "predict") -> Run:
    """A serve run of served_app.py as the operator finds it in a pod: stored, CREATED, started by nobody."""
    store = project.backend.store
    function = project.new_function("served", code_src=str(APP), handler=handler)
    task = store.create(
        Task(
            project=project.name,
            name="served-serve",
            kind="python+serve",
            spec=TaskSpec.model_validate({"function": function.key, "action": "serve"}),
        )
    )
    run_id = new_id()
    spec = RunSpec.model_validate({"task": task.key, "function": function.key, "action": "serve"})
    return store.create(Run(project=project.name, name=run_id, id=run_id, spec=spec))


class Server:
    """Starts serve runs in one project and stops whatever is left at the end."""

    def __init__(self, home: Path):
        self.project = dh.get_or_create_project("serving", home=home)
        self.runs: list[dh.Run] = []

    def start(self, handler: str = "predict", **run_fields: object) -> dh.Run:
        function = self.project.new_function("served", code_src=str(APP), handler=handler)
        run = function.run("serve", **run_fields)
        self.runs.append(run)
        return run

    def stop_all(self) -> None:
        for run in self.runs:
            run.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    servers = Server(tmp_path_factory.mktemp("serving-home"))
    yield servers
    servers.stop_all()


@pytest.fixture(scope="module")
def served(server: Server) -> dh.Run:
    """A default serve run (init option scale=2, handler parameter offset=1)."""
    run = server.start(init_parameters={"scale": 2}, parameters={"offset": 1})
    assert run.status.state == "RUNNING", run.status.message
    return run


@pytest.fixture()
def http(served: dh.Run) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.endpoint, timeout=10) as client:
        yield client


PARITY_APP = Path(__file__).with_name("parity_app.py")
ADMIN_TOKEN = "admin-token-for-tests"
ADMIN = {"authorization": f"Bearer {ADMIN_TOKEN}"}


@dataclass
class Parity:
    run: dh.Run
    project: dh.Project
    bucket: str


@pytest.fixture(scope="module")
def parity(server: Server, s3_server) -> Iterator[Parity]:
    """A serve run of parity_app.py whose project keeps its artifacts on moto S3, with an admin token; the S3
    settings stay in this process's environment (the test reads S3 too)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "S3_ENDPOINT_URL": s3_server.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            patch.setenv(name, value)
        from digitalhub_runtime_python.s3 import s3_client

        bucket = f"parity-{new_id()[:8]}"
        s3_client().create_bucket(Bucket=bucket)
        home = server.project.backend.settings.home
        project = dh.get_or_create_project(bucket, home=home, artifact_store=f"s3://{bucket}/artifacts")
        with pytest.MonkeyPatch.context() as server_only:  # the server's environment (a Secret on Kubernetes)
            server_only.setenv("DIGITALHUB_SERVE_ADMIN_TOKEN", ADMIN_TOKEN)
            run = project.new_function("parity", code_src=str(PARITY_APP), handler="predict").run("serve")
        try:
            assert run.status.state == "RUNNING", run.status.message
            yield Parity(run, project, bucket)
        finally:
            run.stop()
