"""Async jobs shared through Redis by two server processes ("replicas" of one serve run), each started with the
pod entrypoint: any replica answers for any job, and jobs survive killed servers, rolling restarts and a Redis
restart. Leases are short (1 s) so re-runs show within seconds."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.contract import command
from digitalhub_runtime_python.models.task import Action, Task
from digitalhub_runtime_python.serving.clients import AsyncEndpoint, AsyncEndpointBatchResponse
from tests.servers.redis import PASSWORD, RedisServer
from tests.waiting import wait_for

from .conftest import Server, free_port, stored_serve_run

pytestmark = pytest.mark.integration


class Replica:
    """One server process of the run, logging to a file; ``start`` again after a stop or kill (new port)."""

    def __init__(self, project: dh.Project, run_key: str, redis: RedisServer, log: Path, **env: str):
        self.project, self.run_key, self.redis, self.log = project, run_key, redis, log
        self.env = {
            "DIGITALHUB_SERVE_JOB_STORE": redis.url,
            "DIGITALHUB_SERVE_JOB_STORE_PASSWORD": PASSWORD,
            "DIGITALHUB_SERVE_JOB_VISIBILITY_TIMEOUT": "1",
            "DIGITALHUB_SERVE_JOB_WORKERS": "2",
            "DIGITALHUB_SERVE_DRAIN_TIMEOUT": "0.5",
            "DIGITALHUB_SERVE_ACCESS_LOG": "false",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self, ready: bool = True) -> Replica:
        return self.launch().wait(ready)

    def launch(self) -> Replica:
        """Start the process without waiting for it (start several at once, then ``wait`` for each)."""
        port = free_port()
        env = {
            **os.environ,
            **self.project.backend.settings.environ(),
            **self.env,
            "PORT": str(port),
            "DIGITALHUB_SERVE_HOST": "127.0.0.1",
        }
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                command(Action.SERVE, self.run_key), env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self.url = f"http://127.0.0.1:{port}"
        return self

    def wait(self, ready: bool = True) -> Replica:
        """Wait until the server is ready (or only live, when it cannot be ready)."""
        wait_for(lambda: self.answers("/readyz" if ready else "/healthz"), timeout=60, what=f"{self.url} to answer")
        return self

    def answers(self, path: str) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"server exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
        try:
            return httpx.get(self.url + path, timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send ``sig`` and wait for the exit code."""
        assert self.process is not None
        self.process.send_signal(sig)
        return self.process.wait(timeout=30)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(self.url + path, params=params, timeout=70)

    def post(self, path: str, body: Any) -> httpx.Response:
        return httpx.post(self.url + path, json=body, timeout=10)

    def delete(self, path: str) -> httpx.Response:
        return httpx.delete(self.url + path, timeout=10)

    def result(self, job_id: str) -> dict[str, Any]:
        """The finished job (long polls; fails the test if it does not finish)."""
        response = self.get(f"/jobs/{job_id}/result", wait=30)
        assert response.status_code == 200, response.text
        return response.json()

    def running(self) -> int:
        return httpx.get(self.url + "/healthz", timeout=5).json()["jobs_running"]

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def status(replica: Replica, job_id: str) -> str:
    return replica.get(f"/jobs/{job_id}").json()["status"]


@pytest.fixture
def serve_run(server: Server) -> str:
    return stored_serve_run(server.project).key


@pytest.fixture(scope="module")
def started_pair(
    server: Server, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Replica]]:
    """Two replicas of one run, shared by the tests of this module (job ids keep them apart)."""
    run_key, logs = stored_serve_run(server.project).key, tmp_path_factory.mktemp("replicas")
    pair = [Replica(server.project, run_key, redis_server, logs / f"replica-{n}.log") for n in range(2)]
    try:
        for replica in [replica.launch() for replica in pair]:
            replica.wait()
        yield pair
    finally:
        for replica in pair:
            replica.close()


@pytest.fixture
def replicas(started_pair: list[Replica]) -> list[Replica]:
    """The module's two replicas, both serving (one killed by an earlier test is started again)."""
    for replica in started_pair:
        if replica.process is None or replica.process.poll() is not None:
            replica.start()
    return started_pair


def test_any_replica_answers_for_jobs_submitted_to_the_other(replicas: list[Replica], tmp_path: Path) -> None:
    a, b = replicas
    submitted = a.post("/jobs", {"command": "add", "args": {"a": 1, "b": 2}, "request_id": "add-1"})
    assert submitted.status_code == 202
    assert b.result("add-1")["result"] == {"sum": 3}
    batch = b.post("/jobs/batch", {"command": "add", "requests": [{"args": {"a": n}} for n in range(3)]})
    assert [a.result(job["id"])["result"]["sum"] for job in batch.json()["jobs"]] == [0, 1, 2]
    # a batch is all or nothing, whichever replica checks it
    refused = a.post(
        "/jobs/batch",
        {
            "command": "add",
            "requests": [{"args": {"a": 1}, "request_id": "fresh"}, {"args": {"a": 1}, "request_id": "add-1"}],
        },
    )
    assert refused.status_code == 409 and "add-1" in refused.json()["details"]
    assert b.get("/jobs/fresh").status_code == 404
    # a long poll on one replica wakes when the other finishes the job
    slow = a.post("/jobs", {"command": "sleep", "args": {"seconds": 0.5}}).json()["id"]
    assert b.get(f"/jobs/{slow}", wait=30).json()["status"] == "SUCCESS"
    # cancelled through one replica, the job stops where it runs
    never = tmp_path / "never"
    held = b.post("/jobs", {"command": "wait-file", "args": {"path": str(never)}}).json()["id"]
    wait_for(lambda: status(a, held) == "RUNNING", what="the job to start")
    cancelled = a.delete(f"/jobs/{held}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
    assert b.get(f"/jobs/{held}").json()["status"] == "CANCELLED"
    wait_for(lambda: a.running() + b.running() == 0, what="the cancelled job to stop on its replica")
    assert b.delete(f"/jobs/{held}").status_code == 409


def test_a_job_whose_server_is_killed_runs_again_on_the_other(replicas: list[Replica], tmp_path: Path) -> None:
    release = tmp_path / "release"
    job_id = replicas[0].post("/jobs", {"command": "wait-file", "args": {"path": str(release)}}).json()["id"]
    wait_for(lambda: status(replicas[1], job_id) == "RUNNING", what="the job to start")
    worker = replicas[1].get(f"/jobs/{job_id}").json()["worker"]
    victim = next(replica for replica in replicas if f":{replica.pid}:" in worker)  # worker: host:pid:suffix
    survivor = next(replica for replica in replicas if replica is not victim)
    assert victim.stop(signal.SIGKILL) == -signal.SIGKILL
    release.touch()
    done = survivor.result(job_id)
    assert done["status"] == "SUCCESS" and done["attempts"] == 2
    assert done["result"]["pid"] == survivor.pid and f":{survivor.pid}:" in done["worker"]
    assert done["result"]["job"] == job_id and done["result"]["attempt"] == "2"  # what idempotent handlers key on


def test_a_rolling_restart_of_both_servers_loses_no_job(replicas: list[Replica], tmp_path: Path) -> None:
    a, b = replicas
    release = tmp_path / "release"
    # four held jobs fill both replicas' two workers, so each replica has two in hand when it stops
    held: list[dict[str, Any]] = [{"args": {"path": str(release)}, "request_id": f"held-{n}"} for n in range(4)]
    assert a.post("/jobs/batch", {"command": "wait-file", "requests": held}).status_code == 202
    queued: list[dict[str, Any]] = [
        {"args": {"seconds": 0.1, "tag": f"q-{n}"}, "request_id": f"q-{n}"} for n in range(6)
    ]
    assert b.post("/jobs/batch", {"command": "sleep", "requests": queued}).status_code == 202
    wait_for(lambda: a.running() == b.running() == 2, what="both replicas to hold two jobs")
    for replica in (a, b):  # one after the other, as a Deployment's rolling update does
        assert replica.stop() == 0
        assert "given back to the queue unfinished" in replica.log.read_text()
        replica.start()
    release.touch()
    for job in held + queued:
        done = b.result(job["request_id"])
        assert done["status"] == "SUCCESS" and done["attempts"] == 1  # given back, not re-run after a lapsed lease
    assert [b.result(job["request_id"])["result"]["tag"] for job in queued] == [f"q-{n}" for n in range(6)]


def test_redis_restarted_mid_run_loses_nothing_stored_and_errors_are_clear(
    server: Server,
    serve_run: str,
    tmp_path: Path,
) -> None:
    with RedisServer(tmp_path / "redis") as redis:
        pair = [Replica(server.project, serve_run, redis, tmp_path / f"replica-{n}.log") for n in range(2)]
        try:
            a, b = [replica.launch() for replica in pair]
            a.wait(), b.wait()
            stored = [a.post("/jobs", {"command": "add", "args": {"a": n}}).json()["id"] for n in range(3)]
            assert [b.result(job_id)["result"]["sum"] for job_id in stored] == [0, 1, 2]
            release = tmp_path / "release"
            running = a.post("/jobs", {"command": "wait-file", "args": {"path": str(release)}}).json()["id"]
            wait_for(lambda: status(b, running) == "RUNNING", what="the job to start")
            redis.stop()
            refused = b.post("/jobs", {"command": "add", "args": {"a": 9}})
            assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
            details = refused.json()["details"]
            assert f"job store ({redis.url}) is unreachable" in details and "retry" in details
            poll = a.get(f"/jobs/{stored[0]}")  # a known job: retried for a few seconds, then a clear 503
            assert poll.status_code == 503 and "unreachable" in poll.json()["details"]
            assert a.get("/readyz").status_code == 200  # synchronous requests still work: stay in the Service
            assert a.post("/add", {"a": 1, "b": 1}).json() == {"sum": 2}
            release.touch()  # the running job finishes while Redis is away; its result waits to be stored
            with AsyncEndpoint(a.url) as endpoint, ThreadPoolExecutor(1) as pool:
                waiting = pool.submit(AsyncEndpointBatchResponse(endpoint, [*stored, running]).wait, 60)
                redis.start()  # the client's polls meanwhile got 503 (or were retried by the server): still PENDING
                responses = waiting.result()
            assert [responses[job_id].value["sum"] for job_id in stored] == [0, 1, 2]
            # stored once Redis is back (or, if its lease lapsed first, run again elsewhere: at least once)
            assert responses[running].status == "SUCCESS"
            assert b.result(a.post("/jobs", {"command": "add", "args": {"a": 5}}).json()["id"])["result"] == {"sum": 5}
        finally:
            for replica in pair:
                replica.close()
    logs = "".join(replica.log.read_text() for replica in pair)
    assert "unreachable" in logs and PASSWORD not in logs


def test_redis_unreachable_at_start_keeps_the_server_not_ready_and_says_why(
    server: Server,
    serve_run: str,
    tmp_path: Path,
) -> None:
    redis = RedisServer(tmp_path / "redis")  # not started yet
    replica = Replica(server.project, serve_run, redis, tmp_path / "replica.log")
    try:
        replica.start(ready=False)
        wait_for(lambda: "unreachable" in replica.log.read_text(), what="the log to say why")
        not_ready = replica.get("/readyz")
        assert not_ready.status_code == 503
        assert f"job store {redis.url} unreachable" in not_ready.json()["details"]
        assert f"not ready: job store {redis.url} unreachable" in replica.log.read_text()
        assert replica.post("/jobs", {"command": "add", "args": {"a": 1}}).status_code == 503
        redis.start()
        wait_for(lambda: replica.answers("/readyz"), what="readiness once Redis answers")
        assert (
            replica.result(replica.post("/jobs", {"command": "add", "args": {"a": 1}}).json()["id"])["status"]
            == "SUCCESS"
        )
    finally:
        replica.close()
        redis.stop()
    assert PASSWORD not in replica.log.read_text()


def test_a_local_serve_run_keeps_its_jobs_across_a_restart(
    server: Server,
    redis_server: RedisServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DIGITALHUB_SERVE_JOB_STORE_PASSWORD", PASSWORD)  # no Secrets locally: the environment
    run = server.start(job_store={"url": redis_server.url})
    assert run.status.state == "RUNNING", run.status.message
    job_id = httpx.post(f"{run.endpoint}/jobs", json={"command": "add", "args": {"a": 4}}).json()["id"]
    assert httpx.get(f"{run.endpoint}/jobs/{job_id}/result", params={"wait": 30}, timeout=40).json()["result"] == {
        "sum": 4
    }
    run.stop()
    run.resume()
    run.refresh()
    kept = httpx.get(f"{run.endpoint}/jobs/{job_id}/result", timeout=10)
    assert kept.status_code == 200 and kept.json()["result"] == {"sum": 4}
    task = run.backend.store.get_as(Task, run.spec.task)
    assert task.spec.job_store.url == redis_server.url and PASSWORD not in str(task.document())
    run.stop()
