"""Runway parity: its example module serving itself (``python runway_model.py``), data types over HTTP and in
OpenAPI, ``meta`` for discovery, ``no_serve`` for the module's own tests, and the same file as a served function."""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from PIL import Image

import digitalhub_runtime_python as dh
from tests.waiting import wait_for

from .conftest import free_port

MODEL = Path(__file__).with_name("runway_model.py")


def decode_image(data_uri: str) -> Image.Image:
    header, _, data = data_uri.partition(",")
    assert header == "data:image/png;base64"
    return Image.open(io.BytesIO(base64.b64decode(data)))


def _environ(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGITALHUB_SERVE_")}
    return {**env, "DIGITALHUB_HOME": str(home), **extra}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runway-home")


@pytest.fixture(scope="module")
def served_module(home: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """``python runway_model.py`` with the port, host and options set by the environment, not its arguments."""
    port = free_port()
    env = _environ(
        home,
        DIGITALHUB_SERVE_PORT=str(port),
        DIGITALHUB_SERVE_HOST="127.0.0.1",
        DIGITALHUB_SERVE_OPTIONS=json.dumps({"network_size": 512}),
        DIGITALHUB_SERVE_ACCESS_LOG="false",
    )
    process = subprocess.Popen(
        [sys.executable, str(MODEL)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: httpx.get(f"{url}/readyz").status_code == 200, timeout=60, what="the module to serve")
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
        process.stdout.close()  # type: ignore[union-attr]


def test_sample_takes_a_vector_and_a_category_and_answers_an_image(served_module) -> None:
    url, _ = served_module
    z = [0.5] + [0.0] * 511
    answer = httpx.post(f"{url}/sample", json={"z": z, "category": "night"}, timeout=30)
    assert answer.status_code == 200, answer.text
    picture = decode_image(answer.json()["image"])
    assert picture.size == (1024, 1024) and picture.mode == "RGB"
    assert picture.getpixel((0, 0)) == (0, 0, (50 + 512) % 256)  # options from DIGITALHUB_SERVE_OPTIONS: 512
    sampled = httpx.post(f"{url}/sample", json={"category": "day"}, timeout=30)  # z left out: sampled
    assert sampled.status_code == 200 and decode_image(sampled.json()["image"]).getpixel((0, 0))[:2] == (255, 200)


def test_a_bad_value_is_a_400_naming_the_input(served_module) -> None:
    url, _ = served_module
    short = httpx.post(f"{url}/sample", json={"z": [0.1, 0.2], "category": "day"})
    assert short.status_code == 400 and "z: " in short.json()["details"] and "512" in short.json()["details"]
    unknown = httpx.post(f"{url}/sample", json={"category": "dusk"})
    assert unknown.status_code == 400 and "category: " in unknown.json()["details"]
    assert "'day' or 'night'" in unknown.json()["details"]
    refused = httpx.post(f"{url}/setup", json={"network_size": 100})
    assert refused.status_code in (400, 403)  # an unknown size, or /setup locked (issue 9): never applied


def test_meta_and_openapi_carry_the_types_and_their_constraints(served_module) -> None:
    url, _ = served_module
    meta = httpx.get(f"{url}/meta").json()
    network_size = meta["options"]["schema"]["properties"]["network_size"]
    assert network_size["enum"] == [64, 128, 256, 512] and network_size["default"] == 256
    assert meta["options"]["values"] == {"network_size": 512}
    [sample] = meta["commands"]
    z = sample["inputs"]["properties"]["z"]
    assert z["x-data-type"] == "vector" and z["minItems"] == z["maxItems"] == 512 and z["x-sampling-std"] == 1.0
    picture = sample["outputs"]["properties"]["image"]
    assert picture["x-data-type"] == "image" and picture["x-width"] == picture["x-height"] == 1024
    openapi = httpx.get(f"{url}/openapi.json").json()
    schemas = openapi["components"]["schemas"]
    assert schemas["SampleInputs"]["properties"]["category"]["enum"] == ["day", "night"]
    assert schemas["SampleOutputs"]["properties"]["image"]["contentEncoding"] == "base64"
    assert "/sample" in openapi["paths"] and "/" not in openapi["paths"]  # only commands: no handler at /
    assert httpx.post(url, json={}).status_code == 404


def test_the_module_run_is_recorded_and_stopped_by_sigint(served_module, home: Path) -> None:
    url, process = served_module
    [run] = dh.get_project("runway-model", home=home).list_runs()
    wait_for(lambda: run.refresh().status.state == "RUNNING", what="the run to be RUNNING")
    assert run.status.service.url == url
    assert run.status.process.pid == process.pid
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    output = process.stdout.read()  # type: ignore[union-attr]
    assert "Setup ran, and the network size is 512" in output and "Traceback" not in output
    assert run.refresh().status.state == "STOPPED"


def test_meta_prints_options_and_commands_as_json_and_exits(home: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(MODEL)],
        env=_environ(home, DIGITALHUB_SERVE_META="1"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    described = json.loads(done.stdout)
    assert [command["name"] for command in described["commands"]] == ["sample"]
    assert described["options"]["schema"]["properties"]["network_size"]["x-data-type"] == "category"
    assert "Setup ran" not in done.stdout  # nothing was started


def _import_model() -> ModuleType:
    spec = importlib.util.spec_from_file_location("runway_model_under_test", MODEL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_serve_gives_an_in_process_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGITALHUB_HOME", str(tmp_path / "home"))
    with dh.serve(no_serve=True, model_options={"network_size": 128}, module=_import_model()) as client:
        answer = client.post("/sample", json={"z": [0.0] * 512, "category": "day"})
        assert answer.status_code == 200
        assert decode_image(answer.json()["image"]).getpixel((0, 0)) == (255, 200, 128)
        [run] = dh.get_project("runway-model").list_runs()
        assert run.status.state == "RUNNING"
    assert run.refresh().status.state == "STOPPED"


def test_the_file_served_as_a_function_serves_its_commands(server) -> None:
    function = server.project.new_function("runway", code_src=str(MODEL), handler="sample")
    run = function.run("serve", init_parameters={"network_size": 64})
    server.runs.append(run)
    assert run.status.state == "RUNNING", run.status.message
    answer = run.invoke(json={})
    assert answer.status_code == 404 and "POST /sample" in answer.json()["details"]
    sample = httpx.post(f"{run.endpoint}/sample", json={"z": [0.0] * 512, "category": "day"}, timeout=30)
    assert decode_image(sample.json()["image"]).getpixel((0, 0)) == (255, 200, 64)
