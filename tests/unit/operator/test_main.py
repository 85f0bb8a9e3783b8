"""``python -m digitalhub_operator`` answers --help without a cluster and refuses arguments it does not know."""

from __future__ import annotations

import pytest

from digitalhub_operator.__main__ import main


def test_help_describes_the_operator_and_its_settings(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])

    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m digitalhub_operator") and "DIGITALHUB_OPERATOR_" in out


def test_an_unknown_argument_is_refused_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--namespace", "team-a"])

    assert exited.value.code == 2
    assert "unrecognized arguments: --namespace team-a" in capsys.readouterr().err
