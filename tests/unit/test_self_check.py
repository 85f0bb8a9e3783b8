"""``runner --self-check`` reports what a pod needs and fails, naming it, when a required module is missing."""

from __future__ import annotations

import pytest

from digitalhub_runtime_python.entrypoints import self_check
from digitalhub_runtime_python.entrypoints.job import main


def test_self_check_passes_where_the_kubernetes_extra_is_installed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--self-check"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("digitalhub-runtime-python ") and ", Python 3." in lines[0]
    assert "extra kubernetes: yes" in lines and "import kubernetes.client: ok" in lines
    assert "import digitalhub_runtime_python.serving.app: ok" in lines  # the test install has the serve extra
    assert lines[-1] == "OK"


def test_self_check_fails_naming_a_missing_module(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(self_check, "REQUIRED", [*self_check.REQUIRED, "no_such_client"])

    assert main(["--self-check"]) == 1

    out = capsys.readouterr().out
    assert "import no_such_client: FAILED No module named 'no_such_client'" in out
    assert out.splitlines()[-1] == "FAILED: no_such_client"
