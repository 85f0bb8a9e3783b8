"""The pod contract: ``python -m digitalhub_runtime_python.serving --run KEY`` on PORT, probes, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from digitalhub_runtime_python.contract import command
from digitalhub_runtime_python.models.task import Action
from tests.waiting import wait_for

from .conftest import free_port, stored_serve_run

pytestmark = pytest.mark.integration


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_the_pod_entrypoint_is_live_at_once_and_ready_after_init(server, tmp_path: Path) -> None:
    project, store = server.project, server.project.backend.store
    run = stored_serve_run(project)
    started = tmp_path / "go"
    port = free_port()
    env = {
        **os.environ,
        **project.backend.settings.environ(),
        "PORT": str(port),
        "DIGITALHUB_SERVE_HOST": "127.0.0.1",
        "DIGITALHUB_SERVE_OPTIONS": json.dumps({"wait_for": str(started), "scale": 5}),
    }
    process = subprocess.Popen(
        command(Action.SERVE, run.key), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(f"{url}/healthz"), timeout=30, what="the server to listen")
        not_ready = httpx.get(f"{url}/readyz")
        assert not_ready.status_code == 503 and "initialising" in not_ready.json()["details"]
        early = httpx.post(url, json={"x": 1})
        assert early.status_code == 503 and "init function is still running" in early.json()["details"]
        started.touch()
        wait_for(lambda: _answers(f"{url}/readyz"), what="readiness after init")
        assert httpx.post(url, json={"x": 1}).json()["y"] == 5.0
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        output = process.stdout.read().decode()
        process.stdout.close()
    assert f"Uvicorn running on http://127.0.0.1:{port}" in output
    assert store.get_key(run.key).status.state == "CREATED"  # in a pod the operator owns the run's state
