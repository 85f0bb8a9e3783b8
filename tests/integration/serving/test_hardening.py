"""What a server refuses, and how a server that cannot start says why: real server processes on loopback."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.integration

TOKEN = "setup-t0ken-4a1f"
NESTED = "[" * 100_000 + "]" * 100_000
JSON = {"content-type": "application/json"}


def test_setup_is_disabled_without_a_token(served) -> None:
    with httpx.Client(base_url=served.endpoint, timeout=10) as client:
        generation = client.post("/", json={"x": 1}).json()["generation"]
        refused = client.post("/setup", json={"path": "/etc/shadow"})
        assert refused.status_code == 403
        assert "POST /setup is disabled: set DIGITALHUB_SERVE_ADMIN_TOKEN" in refused.json()["details"]
        assert client.post("/", json={"x": 1}).json()["generation"] == generation  # init did not run again


def test_setup_needs_the_token(server, monkeypatch) -> None:
    monkeypatch.setenv("DIGITALHUB_SERVE_ADMIN_TOKEN", TOKEN)
    run = server.start(init_parameters={"scale": 2})
    with httpx.Client(base_url=run.endpoint, timeout=10) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            answer = client.post("/setup", json={"scale": 5}, headers=headers)
            assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
            assert TOKEN not in answer.text
        allowed = {"Authorization": f"Bearer {TOKEN}"}
        assert client.post("/setup", json={"scale": 5}, headers=allowed).json()["options"]["scale"] == 5.0
        unknown = client.post("/setup", json={"path": "/etc/shadow", "mode": 1}, headers=allowed)
        assert unknown.status_code == 400
        details = unknown.json()["details"]
        assert "path: unknown option" in details and "mode: unknown option" in details
        assert "the init function takes fail, scale, wait_for" in details
        assert client.post("/", json={"x": 1}).json()["y"] == 5.0  # the options in force are unchanged
    run.stop()


def test_unknown_init_parameters_end_the_run_naming_them(server) -> None:
    run = server.start(init_parameters={"scale": 2, "path": "/etc/shadow"})
    assert run.status.state == "ERROR"
    assert run.status.message.startswith("init failed: SpecError: invalid init options:")
    assert "path: unknown option: the init function takes fail, scale, wait_for" in run.status.message


def test_a_service_without_init_function_takes_no_options(server) -> None:
    function = server.project.new_function("no-init", code="def echo(event):\n    return event.body\n", handler="echo")
    run = function.run("serve", init_parameters={"debug": True})
    server.runs.append(run)
    assert run.status.state == "ERROR" and "debug: unknown option: this service takes no options" in run.status.message


def test_deeply_nested_json_is_a_bad_request(served) -> None:
    with httpx.Client(base_url=served.endpoint, timeout=30) as client:
        for path in ("/", "/add", "/jobs"):
            answer = client.post(path, content=NESTED, headers={"content-type": "application/json"})
            assert answer.status_code == 400, (path, answer.text)
        assert (
            "nested too deeply" in client.post("/", content=NESTED, headers={"content-type": "application/json"}).text
        )
        assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            "def predict(event:\n    return 1\n",
            ["cannot serve store://serving/run/python+run/", "syntax error in", "was never closed"],
        ),
        ("import no_such_module_here\ndef predict(event):\n    return 1\n", ["No module named 'no_such_module_here'"]),
        (
            "def init():\n    raise ValueError('the model file is missing')\ndef predict(event):\n    return 1\n",
            ["init failed: ValueError: the model file is missing"],
        ),
    ],
    ids=["syntax-error", "import-error", "init-error"],
)
def test_a_server_that_cannot_start_says_why_at_once(server, code: str, expected: list[str]) -> None:
    spec = {"init_function": "init"} if "def init" in code else {}
    function = server.project.new_function("broken", code=code, handler="predict", **spec)
    run = function.run("serve")  # returns once the server serves or failed: the start timeout plays no part
    server.runs.append(run)
    assert run.status.state == "ERROR"
    assert all(part in run.status.message for part in expected), run.status.message
    if "def init" in code:  # the cause alone: none of the server's log lines that came before it
        assert run.status.message == expected[0]
    assert "Uvicorn" not in run.status.message and " INFO " not in run.status.message
