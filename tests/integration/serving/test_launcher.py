"""The local serve launcher: run states, stop, resume, failures, crashes, logs."""

from __future__ import annotations

import os
import signal

import httpx
import pytest

pytestmark = pytest.mark.integration


def _states(run) -> list[str]:
    return [t.state for t in run.refresh().status.transitions]


def test_serve_run_goes_running_stops_and_resumes(server) -> None:
    run = server.start(init_parameters={"scale": 3})
    assert run.status.state == "RUNNING" and _states(run) == ["CREATED", "READY", "RUNNING"]
    assert run.wait(timeout=1).status.state == "RUNNING"  # wait() returns once a serve run serves
    first_url, pid = run.endpoint, run.status.process.pid
    assert first_url.startswith("http://127.0.0.1:") and run.status.service.available_replicas == 1
    assert run.invoke(json={"x": 1}).json()["y"] == 3.0

    run.stop()
    assert run.status.state == "STOPPED" and run.status.process is None and run.status.service.available_replicas == 0
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{first_url}/healthz")
    with pytest.raises(RuntimeError, match="not serving"):
        run.invoke(json={"x": 1})

    run.resume()
    assert run.status.state == "RUNNING" and _states(run)[-3:] == ["STOPPED", "READY", "RUNNING"]
    assert run.invoke(json={"x": 2}).json()["y"] == 6.0
    with pytest.raises(RuntimeError, match="only a STOPPED"):
        run.resume()
    run.stop()
    assert "initialised with scale 3.0" in run.logs()


def test_init_failure_ends_the_run_in_error_with_the_reason(server) -> None:
    run = server.start(init_parameters={"fail": True})
    assert run.status.state == "ERROR"
    assert "init asked to fail" in run.status.message and run.status.process is None


def test_bad_init_options_and_bad_handler_are_named(server) -> None:
    run = server.start(init_parameters={"scale": "big"})
    assert run.status.state == "ERROR" and "scale" in run.status.message
    run = server.start(handler="no_such_function")
    assert run.status.state == "ERROR" and "no_such_function" in run.status.message


def test_a_crashed_server_puts_the_run_in_error(server) -> None:
    run = server.start()
    os.kill(run.status.process.pid, signal.SIGKILL)
    crashed = run.backend.store.wait(run.key, lambda entity: entity.status.state != "RUNNING", timeout=20)
    assert crashed.status.state == "ERROR" and "exited without reporting (exit code -9)" in crashed.status.message


def test_job_runs_cannot_resume(server) -> None:
    function = server.project.new_function("plain-job", code="def main():\n    return 1\n", handler="main")
    run = function.run("job")
    assert run.status.state == "COMPLETED"
    with pytest.raises(RuntimeError, match="only a STOPPED"):
        run.resume()


def test_run_inputs_reach_the_served_handler(server, tmp_path) -> None:
    weights = tmp_path / "weights.txt"
    weights.write_text("w")
    artifact = server.project.log_artifact("weights", source=weights)
    function = server.project.new_function(
        "uses-input", code="def predict(event, weights):\n    return weights.key\n", handler="predict"
    )
    run = function.run("serve", inputs={"weights": artifact.key})
    server.runs.append(run)
    assert run.invoke().json() == artifact.key


def test_a_server_not_ready_in_time_is_killed_and_the_run_fails(server, tmp_path, monkeypatch) -> None:
    from digitalhub_runtime_python.launchers.serve import LocalServeLauncher

    backend = server.project.backend
    monkeypatch.setitem(backend.launchers(True), "serve", LocalServeLauncher(backend, start_timeout=1.0))
    run = server.start(init_parameters={"wait_for": str(tmp_path / "never")})
    assert run.status.state == "ERROR" and "was not ready within 1 s" in run.status.message
    assert run.status.process is None
