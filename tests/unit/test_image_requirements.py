"""images/requirements.py: the third-party requirements the Dockerfiles install before the code."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
requirements = runpy.run_path(str(ROOT / "images" / "requirements.py"))["requirements"]


def test_extras_are_added_and_the_operator_s_requirement_on_the_runtime_is_expanded() -> None:
    lines = requirements([f"{ROOT}/pyproject.toml[kubernetes]", f"{ROOT}/operator/pyproject.toml"])

    assert "pydantic>=2.6,<3" in lines and "kubernetes>=30" in lines and "kopf>=1.45,<2" in lines
    assert not any(line.startswith("digitalhub") for line in lines)
    assert len(lines) == len(set(lines)) and "pandas>=2.1" not in lines


def test_build_system_adds_the_build_backend() -> None:
    assert requirements([f"{ROOT}/pyproject.toml"], build_system=True)[-1] == "setuptools>=68"


def test_an_unknown_extra_is_refused_by_name() -> None:
    with pytest.raises(SystemExit, match="digitalhub-runtime-python has no extra 'gpu'"):
        requirements([f"{ROOT}/pyproject.toml[gpu]"])
