"""Secrets never persist: credentials in URLs are refused before anything is stored, and masked wherever shown.

A token is planted everywhere a user might put one or a handler might print one; then every file of the store
folder (the database, its WAL, the processes' log files) and every CLI output is searched for it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.models.errors import SpecError
from digitalhub_runtime_python.models.function import Function as FunctionModel
from digitalhub_runtime_python.models.states import State

TOKEN = "ghp_PLANTEDtoken0123456789abcdef"
CLI = [sys.executable, "-m", "digitalhub_runtime_python.cli", "-P", "demo"]
LEAKY = (
    "import os\n"
    "def leak(fail=False):\n"
    "    token = os.environ['PLANTED_TOKEN']\n"
    "    print(f'fetching https://example.com/data.csv?access_token={token}&rows=10')\n"
    "    print(f'cloning git+https://bot:{token}@git.example.com/team/models.git')\n"
    "    if fail:\n"
    "        raise ConnectionError(f'GET https://bucket.s3.amazonaws.com/k?X-Amz-Signature={token}: 403')\n"
    "    return 'done'\n"
)


def dhrun(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("field", "spec"),
    [
        ("spec.code_src", {"code_src": f"git+https://user:{TOKEN}@git.example.com/team/repo.git#ref=main"}),
        ("spec.code_src", {"code_src": f"git+https://{TOKEN}@github.com/team/repo.git"}),
        ("spec.code_src", {"code_src": f"https://example.com/code.zip?access_token={TOKEN}"}),
        (
            "spec.requirements[1]",
            {"code": "def f(): pass", "requirements": ["rich", f"pkg @ https://x:{TOKEN}@h/p.whl"]},
        ),
    ],
)
def test_credentials_in_a_url_are_refused_before_anything_is_stored(
    project: dh.Project, field: str, spec: dict
) -> None:
    with pytest.raises(SpecError) as refused:
        project.new_function(name="creds", handler="f", **spec)
    message = str(refused.value)
    assert f"{field}: " in message and "carries credentials" in message and "GIT_TOKEN" in message
    assert "***" in message and TOKEN not in message
    assert project.list_functions() == []


def test_a_planted_token_reaches_no_file_and_no_output(
    project: dh.Project, home: Path, write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLANTED_TOKEN", TOKEN)  # where a secret belongs: the environment (runs inherit it)
    refused = dhrun("run", "--code-src", f"git+https://user:{TOKEN}@git.example.com/r.git", "--handler", "f")
    assert refused.returncode == 2 and "spec.code_src" in refused.stderr
    write("leaky.py", LEAKY)
    outputs = [refused.stdout + refused.stderr]
    for args in (["leaky.py:leak"], ["leaky.py:leak", "--subprocess"], ["leaky.py:leak", "-p", "fail=true"]):
        done = dhrun("run", *args)
        outputs.append(done.stdout + done.stderr)
    runs = project.list_runs()
    assert sorted(run.status.state for run in runs) == [State.COMPLETED, State.COMPLETED, State.ERROR]
    failed = next(run for run in runs if run.status.state == State.ERROR)
    assert failed.status.message == "ConnectionError: GET https://bucket.s3.amazonaws.com/k?X-Amz-Signature=***: 403"
    for run in runs:
        assert "access_token=***&rows=10" in run.logs() and "git+https://***@git.example.com" in run.logs()
        for command in (["logs", run.id], ["describe", run.id], ["describe", run.id, "-o", "json"]):
            outputs.append(dhrun(*command).stdout)
    for command in (["get", "runs"], ["get", "runs", "-o", "yaml"], ["get", "functions", "-o", "yaml"]):
        outputs.append(dhrun(*command).stdout)
    assert all(TOKEN not in output for output in outputs)
    assert "git+https://***@git.example.com/team/models.git" in "".join(outputs)  # masked, still shown
    files = [path for path in home.rglob("*") if path.is_file()]
    assert any(path.name.endswith(".log") for path in files)  # the child's own log file is searched too
    assert [path for path in files if TOKEN.encode() in path.read_bytes()] == []


def test_credentials_stored_before_they_were_refused_are_masked_when_shown(project: dh.Project) -> None:
    legacy = FunctionModel(
        project="demo", name="legacy", spec={"code_src": f"git+https://u:{TOKEN}@h/r.git", "handler": "f"}
    )
    project.backend.store.create(legacy)  # e.g. applied with kubectl, or stored by an older version
    for command in (["get", "functions", "-o", "yaml"], ["get", "functions", "-o", "json"]):
        shown = dhrun(*command)
        assert TOKEN not in shown.stdout and "git+https://***@h/r.git" in shown.stdout
    run = project.get_function("legacy").run()
    assert run.status.state == State.ERROR and TOKEN not in run.status.message and "***" in run.status.message
