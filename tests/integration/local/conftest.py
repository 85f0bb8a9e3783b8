"""A project in the fresh embedded store of each test (``home``, tests/integration/conftest.py), and a helper to
write handler code."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import digitalhub_runtime_python as dh


@pytest.fixture
def project(home: Path) -> dh.Project:
    return dh.get_or_create_project("demo")


@pytest.fixture
def write(tmp_path: Path):
    """Write dedented source to a file under the test folder and return its path."""

    def write(relative: str, source: str) -> Path:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
        return path

    return write
