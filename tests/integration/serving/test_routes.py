"""Every route of a served function, against a real server process on loopback."""

from __future__ import annotations

import json

import httpx
import pytest

pytestmark = pytest.mark.integration


def test_handler_gets_context_event_and_run_parameters(http: httpx.Client) -> None:
    response = http.post("/", json={"x": 3}, params={"q": "v"}, headers={"x-test": "yes"})
    assert response.status_code == 200
    assert response.json() == {
        "y": 7.0,
        "method": "POST",
        "path": "/",
        "query": {"q": "v"},
        "agent": "yes",
        "generation": 1,
    }


def test_health_and_readiness(http: httpx.Client) -> None:
    assert http.get("/healthz").json() == {"status": "ok", "in_flight": 0, "draining": False, "jobs_running": 0}
    assert http.get("/readyz").json() == {"status": "ready"}


def test_handler_takes_any_method_and_raw_bodies(http: httpx.Client) -> None:
    assert http.put("/", json={"x": 1}).json()["method"] == "PUT"
    assert http.get("/", params={"x": "1"}).status_code == 500  # the handler needs a JSON body: its own error
    raw = http.post("/", content=b"\x00", headers={"content-type": "application/octet-stream"})
    assert raw.status_code == 500 and set(raw.json()) == {"id", "code", "details"}
    options = http.options("/")
    assert options.status_code == 405 and "POST" in options.headers["allow"]


def test_typed_command_validates_inputs_and_outputs(http: httpx.Client) -> None:
    assert http.post("/add", json={"a": 2, "b": 5}).json() == {"sum": 7}
    assert http.post("/add", json={"a": 2}).json() == {"sum": 2}  # b has a default
    bad = http.post("/add", json={"a": "two"})
    assert bad.status_code == 400
    assert set(bad.json()) == {"id", "code", "details"} and bad.json()["code"] == 400
    assert "a:" in bad.json()["details"]
    wrong = http.post("/wrong-output", json={"a": 1})
    assert wrong.status_code == 500 and "does not match its declared outputs" in wrong.json()["details"]


def test_meta_lists_options_and_commands(http: httpx.Client) -> None:
    meta = http.get("/meta").json()
    assert meta["options"]["values"] == {"scale": 2.0, "fail": False, "wait_for": ""}
    assert meta["options"]["schema"]["properties"]["scale"]["default"] == 1.0
    commands = {c["name"]: c for c in meta["commands"]}
    assert {"add", "count", "ticks", "hold", "release"} <= set(commands)
    assert commands["add"]["description"] == "Add two integers"
    assert commands["add"]["inputs"]["required"] == ["a"]
    assert commands["count"]["streaming"] is True and commands["add"]["streaming"] is False


def test_openapi_and_docs_show_commands(http: httpx.Client) -> None:
    spec = http.get("/openapi.json").json()
    assert {"/", "/add", "/count", "/jobs", "/jobs/batch", "/jobs/{job_id}", "/setup", "/meta"} <= set(spec["paths"])
    body = spec["paths"]["/add"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/AddInputs")
    assert spec["components"]["schemas"]["AddOutputs"]["required"] == ["sum"]
    assert "swagger" in http.get("/docs").text.lower()


def test_setup_reruns_init_with_new_options(server, http: httpx.Client, monkeypatch) -> None:
    monkeypatch.setenv("DIGITALHUB_SERVE_ADMIN_TOKEN", "t0ken")  # the server process inherits it
    run = server.start(init_parameters={"scale": 2})
    with httpx.Client(base_url=run.endpoint, timeout=10, headers={"Authorization": "Bearer t0ken"}) as client:
        assert client.post("/setup", json={"scale": 10}).json() == {
            "options": {"scale": 10.0, "fail": False, "wait_for": ""}
        }
        assert client.post("/", json={"x": 1}).json()["y"] == 10.0
        assert client.post("/", json={"x": 1}).json()["generation"] == 2
        refused = client.post("/setup", json={"scale": "big"})
        assert refused.status_code == 400 and "scale" in refused.json()["details"]
        failed = client.post("/setup", json={"fail": True})
        assert failed.status_code == 500 and "init asked to fail" not in failed.json()["details"]
        assert client.post("/", json={"x": 1}).json()["y"] == 10.0  # the previous state still serves
    run.stop()


def test_sse_streams_sync_and_async_generators(http: httpx.Client) -> None:
    with http.stream("POST", "/count", json={"n": 3}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        data = [json.loads(line[5:]) for line in response.iter_lines() if line.startswith("data:")]
    assert data == [{"i": 0}, {"i": 1}, {"i": 2}]
    text = http.post("/ticks", json={"n": 2}).text
    assert [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")] == [
        {"tick": 0},
        {"tick": 1},
    ]


def test_sse_failure_midway_ends_with_error_event(http: httpx.Client) -> None:
    text = http.post("/count", json={"n": 5, "fail_at": 2}).text
    assert "event: error" in text
    error = json.loads(text.split("event: error", 1)[1].split("data:", 1)[1].splitlines()[0])
    assert error["code"] == 500 and "stream broke" not in error["details"]


def test_errors_are_structured_without_traceback(http: httpx.Client) -> None:
    failed = http.post("/", json="boom")
    assert failed.status_code == 500
    body = failed.json()
    assert set(body) == {"id", "code", "details"} and body["id"] in body["details"]
    assert "secret detail" not in failed.text and "Traceback" not in failed.text
    assert http.post("/", content=b"{not json", headers={"content-type": "application/json"}).status_code == 400
    teapot = http.post("/teapot")
    assert teapot.status_code == 418 and teapot.json()["details"] == "short and stout"
    missing = http.get("/nope")
    assert missing.status_code == 404 and set(missing.json()) == {"id", "code", "details"}


def test_debug_puts_message_and_traceback_in_errors(server) -> None:
    run = server.start(envs={"DIGITALHUB_SERVE_DEBUG": "1"})
    failed = run.invoke(json="boom")
    assert failed.status_code == 500
    assert "secret detail" in failed.json()["details"] and "Traceback" in failed.json()["traceback"]
    run.stop()
