"""materialize() then load the handler as a run does and call it, for every remote form of code_src."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from digitalhub_runtime_python.execution.loader import load_handler
from digitalhub_runtime_python.models.function import FunctionSpec
from digitalhub_runtime_python.sources.materialize import materialize
from digitalhub_runtime_python.sources.upload import pack_to_s3
from digitalhub_runtime_python.stores.s3 import s3_client
from tests.servers.git_http import GitServer, Repo
from tests.servers.static_http import StaticServer

pytestmark = pytest.mark.integration


PACKAGE = {"shop/__init__.py": "", "shop/prices.py": "def total(a, b):\n    return a + b\n"}
MODULE = "def add(a, b):\n    return a + b\n"


def write(folder: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return folder


@pytest.mark.usefixtures("git_env")
def test_git_forms(git_server: GitServer, repo: Repo, tmp_path: Path) -> None:
    base = f"git+{git_server.url(repo.bare.name)}"
    for code_src, handler, args, expected in [
        (f"{base}#ref=v1&path=handler.py", "add", (2, 3), 5),
        (f"{base}#ref=main&path=src", "pkg.mod:hello", ("you",), "hello you"),
        (base, "src.pkg.mod:hello", ("me",), "hello me"),
    ]:
        tree = materialize(FunctionSpec(code_src=code_src, handler=handler), tmp_path / "cache")
        assert load_handler(tree, handler)(*args) == expected


def test_s3_forms(bucket: str, tmp_path: Path) -> None:
    s3_client().put_object(Bucket=bucket, Key="fn/calc.py", Body=MODULE.encode())
    packed = pack_to_s3(write(tmp_path / "code", PACKAGE), f"s3://{bucket}/store", "demo")
    for code_src, handler in [(f"s3://{bucket}/fn/calc.py", "add"), (packed, "shop.prices:total")]:
        tree = materialize(FunctionSpec(code_src=code_src, handler=handler), tmp_path / "cache")
        assert load_handler(tree, handler)(4, 5) == 9


def test_http_and_local_archive_forms(static_server: StaticServer, tmp_path: Path) -> None:
    (static_server.root / "calc.py").write_text(MODULE)
    archive = Path(shutil.make_archive(str(static_server.root / "shop"), "zip", write(tmp_path / "code", PACKAGE)))
    for code_src, handler in [
        (f"{static_server.base_url}/calc.py", "add"),
        (f"{static_server.base_url}/shop.zip", "shop.prices:total"),
        (str(archive), "shop.prices:total"),
    ]:
        tree = materialize(FunctionSpec(code_src=code_src, handler=handler), tmp_path / "cache")
        assert load_handler(tree, handler)(1, 1) == 2


@pytest.mark.usefixtures("git_env")
def test_job_from_git_and_a_refused_token_leaves_no_trace(
    git_server: GitServer, repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import digitalhub_runtime_python as dh

    home = tmp_path / "home"
    project = dh.get_or_create_project("demo", home=home)
    fn = project.new_function(
        name="add", code_src=f"git+{git_server.url(repo.bare.name)}#ref=v1&path=handler.py", handler="add"
    )
    assert fn.run(action="job", local_execution=True, parameters={"a": 1, "b": 2}).wait().results() == {"output_0": 3}

    token = "refused-token-4f9c2b"
    monkeypatch.setenv("GIT_TOKEN", token)
    failed = project.new_function(
        name="other", code_src=f"git+{git_server.url(repo.bare.name)}#ref=main", handler="h:f"
    )
    run = failed.run(action="job", local_execution=True).wait()
    assert run.status.state == "ERROR" and "authentication failed" in (run.status.message or "")
    for path in home.rglob("*"):  # store, logs and cache
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path


def test_packed_code_runs_in_a_subprocess_like_a_pod(bucket: str, tmp_path: Path) -> None:
    import digitalhub_runtime_python as dh

    code_src = pack_to_s3(write(tmp_path / "code", PACKAGE), f"s3://{bucket}/store", "demo")
    project = dh.get_or_create_project("demo", home=tmp_path / "home")
    fn = project.new_function(name="total", code_src=code_src, handler="shop.prices:total")
    run = fn.run(action="job", local_execution=True, isolation="subprocess", parameters={"a": 20, "b": 22}).wait(
        timeout=60
    )
    assert run.results() == {"output_0": 42}, run.status.message
