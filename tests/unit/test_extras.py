"""Missing extras: one line naming the pip install to run."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

from digitalhub_runtime_python.extras import EXTRAS, MissingExtra, missing_modules, require


def test_installed_extras_pass() -> None:
    for extra in EXTRAS:  # the test environment installs them all
        require(extra)


def test_a_missing_module_names_the_extra_and_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # what Python does for an absent package
    assert missing_modules("data") == ["pyarrow"]
    with pytest.raises(MissingExtra) as caught:
        require("data")
    assert str(caught.value) == (
        "DataFrames (log_dataitem(df=...), as_df(), returned DataFrames) needs the 'data' extra "
        "(not installed: pyarrow): run pip install 'digitalhub-runtime-python[data]'"
    )
    assert isinstance(caught.value, ImportError)  # code that catches ImportError keeps working


def test_every_extra_is_declared_in_pyproject() -> None:
    declared = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert set(EXTRAS) <= set(declared)
