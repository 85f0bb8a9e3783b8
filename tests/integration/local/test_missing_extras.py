"""A missing extra is one line naming the pip install to run: dhrun in a real process, with modules made absent.

The absence is real for the processes under test: a ``sitecustomize`` on their PYTHONPATH sets
``sys.modules[name] = None`` for each module in ``BLOCKED_MODULES``, which makes ``import name`` fail as it does
when the distribution is not installed; child processes (the serve launcher's server) inherit it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.models.states import State

SITECUSTOMIZE = """
import os, sys
for name in filter(None, os.environ.get("BLOCKED_MODULES", "").split(",")):
    sys.modules[name] = None
"""
INSTALL = "run pip install 'digitalhub-runtime-python[{}]'"


@pytest.fixture
def dhrun(home: Path, tmp_path: Path):
    """Run dhrun in a process where the given modules are not installed."""
    folder = tmp_path / "without"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE)

    def dhrun(blocked: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        environ = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(folder), os.environ["PYTHONPATH"]]),
            "BLOCKED_MODULES": blocked,
            **env,
        }
        return subprocess.run(
            [sys.executable, "-m", "digitalhub_runtime_python.cli", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=environ,
        )

    return dhrun


def test_serving_without_the_serve_extra_fails_fast_with_the_pip_command(dhrun, write, project: dh.Project) -> None:
    write("svc.py", "def echo(event):\n    return event.body\n")
    done = dhrun("uvicorn", "-P", "demo", "run", "svc.py:echo", "--action", "serve")
    assert done.returncode == 1
    message = (
        "serving (action serve, invoke, endpoint clients) needs the 'serve' extra "
        f"(not installed: uvicorn): {INSTALL.format('serve')}"
    )
    assert done.stderr == f"error: {message}\n"
    [run] = project.list_runs()
    assert run.status.state == State.ERROR and run.status.message == message


def test_invoke_without_the_serve_extra(dhrun, write, project: dh.Project) -> None:
    run = project.new_function(name="f", code="def f():\n    return 1\n", handler="f").run()
    done = dhrun("httpx", "-P", "demo", "invoke", run.id)
    assert done.returncode == 2
    assert done.stderr == (
        "error: serving (action serve, invoke, endpoint clients) needs the 'serve' extra (not installed: httpx): "
        f"{INSTALL.format('serve')}\n"
    )


def test_dataframe_output_without_the_data_extra(dhrun, write) -> None:
    write("table.py", "import pandas as pd\n\ndef table():\n    return pd.DataFrame({'n': [1, 2]})\n")
    done = dhrun("pyarrow", "run", "table.py:table")
    assert done.returncode == 1
    assert done.stderr == (
        "error: MissingExtra: DataFrames (log_dataitem(df=...), as_df(), returned DataFrames) needs the 'data' extra "
        f"(not installed: pyarrow): {INSTALL.format('data')}\n"
    )


def test_s3_code_without_the_s3_extra(dhrun) -> None:
    done = dhrun("boto3,botocore", "run", "--code-src", "s3://bucket/code.py", "--handler", "f")
    assert done.returncode == 1
    assert done.stderr == (
        "error: MissingExtra: S3 (s3:// code and artifact stores) needs the 's3' extra (not installed: boto3): "
        f"{INSTALL.format('s3')}\n"
    )


def test_kubernetes_backend_without_the_kubernetes_extra(dhrun) -> None:
    done = dhrun("kubernetes", "get", "runs", DIGITALHUB_BACKEND="kubernetes")
    assert done.returncode == 2
    assert done.stderr == (
        "error: the Kubernetes backend needs the 'kubernetes' extra (not installed: kubernetes): "
        f"{INSTALL.format('kubernetes')}\n"
    )


def test_info_lists_the_missing_extras(dhrun) -> None:
    done = dhrun("pandas", "info", COLUMNS="200")
    assert done.returncode == 0
    assert " extra data        missing pandas: pip install 'digitalhub-runtime-python[data]'" in done.stdout
