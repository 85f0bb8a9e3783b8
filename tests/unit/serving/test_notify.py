"""The readiness line the serving process writes to the launcher's pipe."""

from __future__ import annotations

import os
import threading

from digitalhub_runtime_python.contract import command
from digitalhub_runtime_python.launchers.processes import read_line
from digitalhub_runtime_python.models.task import Action


def test_read_line_returns_the_first_line_across_chunks() -> None:
    read_fd, write_fd = os.pipe()
    writer = threading.Thread(
        target=lambda: (os.write(write_fd, b"ready "), os.write(write_fd, b"8080\nmore"), os.close(write_fd))
    )
    writer.start()
    assert read_line(read_fd, 5) == "ready 8080"
    writer.join()
    os.close(read_fd)


def test_read_line_ends_on_timeout_with_none_and_on_eof_with_what_came() -> None:
    read_fd, write_fd = os.pipe()
    assert read_line(read_fd, 0.01) is None
    os.write(write_fd, b"partial")
    os.close(write_fd)
    assert read_line(read_fd, 5) == "partial"
    os.close(read_fd)


def test_the_pod_command() -> None:
    assert command(Action.SERVE, "store://p/run/python+run/r:1")[1:] == [
        "-m",
        "digitalhub_runtime_python.serving",
        "--run",
        "store://p/run/python+run/r:1",
    ]
