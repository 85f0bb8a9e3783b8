"""Transfer progress: nothing for small transfers, a rich bar on a terminal, a log line per 10% elsewhere."""

from __future__ import annotations

import os
import re
import select
import sys

import pytest

from digitalhub_runtime_python.stores.progress import THRESHOLD_BYTES, transfer_progress

MB = 1024 * 1024
TOTAL = 60 * MB


def test_small_transfers_show_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with transfer_progress("uploading small.bin", THRESHOLD_BYTES - 1) as advance:
        advance(THRESHOLD_BYTES - 1)
    assert capsys.readouterr().err == ""


def test_without_a_terminal_logs_one_line_per_tenth_and_draws_no_bar(capsys: pytest.CaptureFixture[str]) -> None:
    with transfer_progress("uploading big.bin", TOTAL) as advance:
        for _ in range(TOTAL // MB):
            advance(MB)
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert [re.findall(r"uploading big\.bin: (\d+)%", line) for line in lines] == [[str(p)] for p in range(10, 101, 10)]
    assert lines[-1].endswith("100% (62.9 MB of 62.9 MB)")
    assert all(" INFO " in line for line in lines)
    assert "\x1b" not in err and "\r" not in err and "━" not in err


def test_a_terminal_gets_a_rich_bar_with_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    master, replica = os.openpty()
    try:
        with os.fdopen(replica, "w", closefd=False) as terminal:
            monkeypatch.setattr(sys, "stderr", terminal)
            with transfer_progress("uploading big.bin", TOTAL) as advance:
                for _ in range(10):
                    advance(TOTAL // 10)
            terminal.flush()
        output = b""
        while select.select([master], [], [], 0.5)[0]:
            output += os.read(master, 65536)
    finally:
        os.close(master)
        os.close(replica)
    text = output.decode()
    assert "uploading big.bin" in text and "━" in text
    assert "62.9/62.9 MB" in text
    assert "%" not in text  # the bar, not the log lines
