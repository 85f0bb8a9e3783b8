"""``dhrun ui``: serves the console over the configured store until interrupted, even with pages still open."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import digitalhub_runtime_python as dh
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dhrun(*args: str, home: Path, **env: str) -> subprocess.Popen:
    environ = {**os.environ, "DIGITALHUB_HOME": str(home), **env}
    command = [sys.executable, "-m", "digitalhub_runtime_python.cli", *args]
    return subprocess.Popen(command, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_dhrun_ui_serves_and_stops_on_ctrl_c_with_a_page_open(tmp_path: Path) -> None:
    port = free_port()
    dh.get_or_create_project("demo", home=tmp_path / "home")
    process = dhrun("ui", "--port", str(port), home=tmp_path / "home")
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: httpx.get(f"{url}/healthz").status_code == 200, timeout=60, what="dhrun ui to serve")
        assert "Projects" in httpx.get(url).text and "Read only" in httpx.get(url).text
        with httpx.stream("GET", f"{url}/projects/demo/events", timeout=30) as events:
            assert next(events.iter_lines()) == "event: live"
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert f"http://127.0.0.1:{port}/ (read only, local backend)" in process.stderr.read()


def test_a_bad_setting_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    process = dhrun("ui", home=tmp_path / "home", DIGITALHUB_CONSOLE_ACTIONS="maybe")
    assert process.wait(timeout=60) == 2
    assert process.stderr.read().strip() == (
        "error: DIGITALHUB_CONSOLE_ACTIONS='maybe' is not a boolean: use true or false"
    )
