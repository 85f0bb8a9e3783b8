"""The console served by uvicorn on loopback over a fresh embedded store, and headless Chromium to look at it."""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.api import get_backend
from digitalhub_runtime_python.console.app import create_app
from digitalhub_runtime_python.console.settings import ConsoleSettings
from digitalhub_runtime_python.entities.backend import Backend
from tests.waiting import wait_for

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
# Headless, and quiet: no first-run pages, no background traffic (this machine reaches no other host).
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
)


@dataclass
class RunningConsole:
    url: str
    backend: Backend
    project: dh.Project


class ConsoleServer:
    """uvicorn serving the console in a thread of the test process."""

    def __init__(self, backend: Backend, settings: ConsoleSettings):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            create_app(backend, settings), host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="console-server")

    def __enter__(self) -> str:
        self.thread.start()
        wait_for(lambda: self.server.started, timeout=30, what="the console to listen")
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = self.server.force_exit = True  # open event streams never end by themselves
        self.thread.join(timeout=30)


def _console(home: Path, settings: ConsoleSettings) -> Iterator[RunningConsole]:
    project = dh.get_or_create_project("demo")
    backend = get_backend()
    with ConsoleServer(backend, settings) as url:
        yield RunningConsole(url, backend, project)


@pytest.fixture
def console(home: Path) -> Iterator[RunningConsole]:
    """A console with actions on (the server's identity: this test's store)."""
    yield from _console(home, ConsoleSettings(actions=True))


@pytest.fixture
def read_only_console(home: Path) -> Iterator[RunningConsole]:
    yield from _console(home, ConsoleSettings())


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    """Headless Chromium through chromedriver (Debian's packages, .ci/system-packages), with a fresh profile."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("chromium and chromium-driver are not installed: run .ci/system-packages as root")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)


def console_errors(driver: object) -> list[dict]:
    """Messages the page logged at SEVERE level (console errors, failed loads) since the last call."""
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]  # type: ignore[attr-defined]
