"""images/: the runtime and operator images build FROM the local base with no network and run as a pod runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.containers.engine import ROOT, podman
from tests.containers.images import OPERATOR, RUNTIME, build_image

pytestmark = [pytest.mark.container, pytest.mark.timeout(900)]

LOCKED_DOWN = ("--read-only", "--cap-drop=ALL", "--network=none")
POD = ("--user", "1000:1000", *LOCKED_DOWN, "--volume", "/workspace", "--tmpfs", "/tmp")
"""What the operator's pod spec imposes: uid 1000, read-only root, no capabilities, writable /workspace and /tmp."""


def run(image: str, options: tuple[str, ...], *command: str) -> str:
    """The output of ``command`` in ``image`` run with ``options`` (fails the test when it exits non-zero)."""
    return podman("run", "--rm", "--timeout=120", *options, image, *command).stdout


def inspect(image: str) -> dict[str, Any]:
    return json.loads(podman("image", "inspect", image).stdout)[0]


def test_runtime_image_passes_the_runner_self_check_as_a_pod(base_image: str, wheel_folder: Path) -> None:
    image = build_image(RUNTIME, base_image, wheel_folder)

    output = run(
        image, POD, "sh", "-c", "touch /workspace/probe && exec python -m digitalhub_runtime_python.runner --self-check"
    )

    lines = output.splitlines()
    assert "Python 3.11" in lines[0] and lines[0].endswith(" at /opt/digitalhub/bin/python")  # `python`: the venv
    assert "extra kubernetes: yes" in lines and "import kubernetes.client: ok" in lines
    assert any(line.startswith("extra data: missing pandas") for line in lines)  # test image: kubernetes extra only
    assert lines[-1] == "OK"
    config = inspect(image)["Config"]
    assert (config["User"], config["WorkingDir"]) == ("1000:1000", "/workspace")


def test_operator_image_answers_help_locked_down_as_uid_1000(base_image: str, wheel_folder: Path) -> None:
    image = build_image(OPERATOR, base_image, wheel_folder)

    output = run(image, LOCKED_DOWN, "python", "-m", "digitalhub_operator", "--help")

    assert output.startswith("usage: python -m digitalhub_operator")
    assert inspect(image)["Config"]["User"] == "1000:1000"


def test_a_change_to_code_or_project_settings_reuses_the_dependency_layer(
    base_image: str, wheel_folder: Path, tmp_path: Path
) -> None:
    image = build_image(RUNTIME, base_image, wheel_folder)
    for name in ("pyproject.toml", "README.md", ".dockerignore"):
        shutil.copy(ROOT / name, tmp_path / name)
    for name in ("images", "digitalhub_runtime_python"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    with open(tmp_path / "digitalhub_runtime_python" / "runner.py", "a") as module:
        module.write("# a code change\n")
    with open(tmp_path / "pyproject.toml", "a") as project:
        project.write("\n[tool.example]\nsetting = 1\n")  # not a dependency

    changed = build_image(RUNTIME, base_image, wheel_folder, context=tmp_path)

    before, after = (inspect(built)["RootFS"]["Layers"] for built in (image, changed))
    assert len(before) == len(after)
    assert after[:-3] == before[:-3]  # base, user and venv, dependencies
    assert all(a != b for a, b in zip(after[-3:], before[-3:], strict=True))  # project files, code, its install
