"""Functions with requirements run locally in their own environment, built with uv from a test package index."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.cli import main
from digitalhub_runtime_python.environments.cache import environments_root
from digitalhub_runtime_python.environments.specs import environment_spec, runtime_extras
from digitalhub_runtime_python.environments.uv import find_python
from digitalhub_runtime_python.launchers.environments import run_python
from digitalhub_runtime_python.models.function import Function as FunctionModel
from digitalhub_runtime_python.models.function import FunctionSpec
from digitalhub_runtime_python.models.run import Run as RunModel
from digitalhub_runtime_python.models.states import State
from tests.servers.package_index import PackageIndex
from tests.waiting import wait_for

WAIT = 120
USES_TINYPKG = "import sys\nimport tinypkg\n\ndef f():\n    return {'value': tinypkg.VALUE, 'prefix': sys.prefix}\n"


def test_subprocess_run_installs_what_the_test_venv_lacks(project: dh.Project, home: Path, index_env: object) -> None:
    assert importlib.util.find_spec("tinypkg") is None
    fn = project.new_function(name="tiny", code=USES_TINYPKG, handler="f", requirements=["tinypkg==1.0"])
    first = fn.run(isolation="subprocess").wait(WAIT)
    assert first.status.state == State.COMPLETED, first.status.message
    result = first.results()["output_0"]
    assert result["value"] == "1.0"
    environment = first.status.environment
    assert environment is not None and environment.built and environment.python == "3.11"
    assert Path(result["prefix"]) == home / "envs" / environment.key

    second = fn.run(isolation="subprocess").wait(WAIT)
    assert second.status.state == State.COMPLETED, second.status.message
    assert second.status.environment.key == environment.key and not second.status.environment.built
    assert second.results() == first.results()


def test_equal_requirements_written_differently_share_one_environment(project: dh.Project, index_env: object) -> None:
    one = project.new_function(name="one", code=USES_TINYPKG, handler="f", requirements=["TinyPkg >= 1", "needsnew"])
    other = project.new_function(name="other", code=USES_TINYPKG, handler="f", requirements=["needsnew", "tinypkg>=1"])
    first, second = (fn.run(isolation="subprocess").wait(WAIT) for fn in (one, other))
    assert first.results()["output_0"]["value"] == second.results()["output_0"]["value"] == "2.0"
    assert first.status.environment.key == second.status.environment.key
    assert first.status.environment.built and not second.status.environment.built
    assert [entry.key for entry in dh.list_environments()] == [first.status.environment.key]


def test_launcher_starts_a_built_environment_with_its_python(project: dh.Project, index_env: object) -> None:
    plain = project.new_function(name="plain", code="def f():\n    return 1\n", handler="f").run(isolation="subprocess")
    fn = project.new_function(name="tiny", code=USES_TINYPKG, handler="f", requirements=["tinypkg==1.0"])
    environ = dict(os.environ)
    spec = {**plain.entity.spec.model_dump(mode="json"), "function": fn.key}
    stored = project.backend.store.create(RunModel(project=project.name, name="unlaunched", id="unlaunched", spec=spec))
    unlaunched = dh.Run(stored, project.backend)
    assert run_python(project.backend, unlaunched, environ) == sys.executable  # its child builds, then re-executes
    run = fn.run(isolation="subprocess").wait(WAIT)
    built = project.backend.settings.home / "envs" / run.status.environment.key / "bin" / "python"
    assert run_python(project.backend, unlaunched, environ) == str(built)
    assert run_python(project.backend, plain.wait(WAIT), environ) is None  # the fork server may start it


def test_two_concurrent_runs_share_one_build(project: dh.Project, index_env: object) -> None:
    fn = project.new_function(name="tiny", code=USES_TINYPKG, handler="f", requirements=["needsnew"])
    runs = [fn.run(isolation="subprocess"), fn.run(isolation="subprocess")]
    done = [run.wait(WAIT) for run in runs]
    assert [run.status.state for run in done] == [State.COMPLETED, State.COMPLETED], [r.status.message for r in done]
    assert len({run.status.environment.key for run in done}) == 1
    assert sorted(run.status.environment.built for run in done) == [False, True]
    assert len(dh.list_environments()) == 1


def test_conflicting_requirements_end_in_error_with_uvs_explanation(
    project: dh.Project, home: Path, index_env: object
) -> None:
    fn = project.new_function(name="clash", code=USES_TINYPKG, handler="f", requirements=["needsnew", "tinypkg==1.0"])
    run = fn.run(isolation="subprocess").wait(WAIT)
    assert run.status.state == State.ERROR
    message = run.status.message
    assert message.startswith("uv could not install the function's requirements:")
    assert "needsnew" in message and "tinypkg==1.0" in message and "unsatisfiable" in message
    assert run.status.error.type == "EnvironmentBuildError" and run.status.environment is None
    envs = home / "envs"
    assert dh.list_environments() == [] and not list(envs.glob(".build-*")) and not list(envs.glob("[!.]*"))


def test_a_package_the_index_lacks_is_named(project: dh.Project, index_env: object) -> None:
    fn = project.new_function(name="missing", code="def f(): pass", handler="f", requirements=["surely-absent==1.0"])
    run = fn.run(isolation="subprocess").wait(WAIT)
    assert run.status.state == State.ERROR
    assert "surely-absent" in run.status.message and "uv could not install" in run.status.message


def test_an_unreachable_index_fails_without_showing_its_credentials(
    project: dh.Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nothing listens there
    for name in ("UV_FIND_LINKS", "UV_NO_INDEX", "UV_OFFLINE", "UV_EXTRA_INDEX_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("UV_INDEX_URL", f"http://reader:s3cr3t-t0ken@127.0.0.1:{port}/simple")
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    fn = project.new_function(name="offline", code="def f(): pass", handler="f", requirements=["tinypkg==1.0"])
    run = fn.run(isolation="subprocess").wait(WAIT)
    assert run.status.state == State.ERROR
    message = run.status.message
    assert "tinypkg" in message and f"127.0.0.1:{port}" in message
    assert "s3cr3t-t0ken" not in message and "s3cr3t-t0ken" not in json.dumps(run.to_dict())


def test_a_requirement_that_does_not_parse_is_refused_or_ends_the_run(project: dh.Project, index_env: object) -> None:
    with pytest.raises(dh.SpecError) as info:
        project.new_function(name="bad", code="def f(): pass", handler="f", requirements=["pandas", "tinypkg>>=1"])
    assert info.value.fields == ["spec.requirements[1]"] and "'tinypkg>>=1' does not parse" in str(info.value)
    # A function stored some other way (kubectl applies custom resources unchecked) reaches the run as it is.
    spec = {"code": "def f(): pass", "handler": "f", "requirements": ["tinypkg>>=1"]}
    stored = project.backend.store.create(FunctionModel(project=project.name, name="bad", spec=spec))
    run = dh.Function(stored, project.backend).run(isolation="subprocess").wait(WAIT)
    assert run.status.state == State.ERROR and "requirement 'tinypkg>>=1' does not parse" in run.status.message


def test_requirements_from_a_file(project: dh.Project, write, index_env: object) -> None:
    path = write("requirements.txt", "# what train.py needs\nneedsnew  # pulls tinypkg 2\n\ntinypkg\\\n  >=1\n")
    fn = project.new_function(name="filed", code=USES_TINYPKG, handler="f", requirements=str(path))
    assert fn.spec.requirements == ["needsnew", "tinypkg >=1"]
    assert fn.run(isolation="subprocess").wait(WAIT).results()["output_0"]["value"] == "2.0"
    write("options.txt", "--index-url https://example.org/simple\ntinypkg\n")
    with pytest.raises(dh.SpecError, match=r"options are not accepted in a function's requirements"):
        project.new_function(name="opts", code="def f(): pass", handler="f", requirements="options.txt")
    with pytest.raises(
        dh.SpecError, match=r"'pandas' is not a file: give a list of requirements \(e.g. \['pandas'\]\)"
    ):
        project.new_function(name="typo", code="def f(): pass", handler="f", requirements="pandas")


def test_in_process_run_warns_and_says_how_to_get_the_requirements(project: dh.Project, index_env: object) -> None:
    fn = project.new_function(name="tiny", code="def f():\n    return 1\n", handler="f", requirements=["tinypkg==1.0"])
    run = fn.run()
    assert run.status.state == State.COMPLETED and run.status.environment is None
    logs = run.logs()
    assert "requirement 'tinypkg==1.0' is not installed here" in logs
    assert "run it with isolation='subprocess' (dhrun run --subprocess) to install them in its own environment" in logs


def test_local_server_runs_in_the_environment(project: dh.Project, write, index_env: object) -> None:
    path = write("svc.py", "import tinypkg\n\ndef predict(event):\n    return {'value': tinypkg.VALUE}\n")
    fn = project.new_function(name="svc", code_src=str(path), handler="predict", requirements=["tinypkg==2.0"])
    run = fn.run("serve")
    try:
        assert run.status.state == State.RUNNING, run.status.message
        assert run.invoke(json={}).json() == {"value": "2.0"}
        assert run.status.environment.built
    finally:
        run.stop()


def test_another_python_version_falls_back_or_fails_when_strict(
    project: dh.Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))  # no other Python on the search path
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "no-uv-pythons"))
    fn = project.new_function(name="py314", code="def f():\n    return 1\n", handler="f", python_version="PYTHON3_14")
    run = fn.run(isolation="subprocess").wait(WAIT)
    assert run.status.state == State.COMPLETED and run.status.environment is None
    assert "function asks for Python 3.14; running on Python 3.11: uv found no Python 3.14 installed" in run.logs()
    monkeypatch.setenv("DIGITALHUB_STRICT_PYTHON", "1")
    strict = fn.run(isolation="subprocess").wait(WAIT)
    assert strict.status.state == State.ERROR and strict.status.error.type == "PythonNotFound"
    assert strict.status.message.startswith("function asks for Python 3.14 and none is installed here")
    assert "uv python install 3.14" in strict.status.message


def test_env_list_and_prune_keep_an_environment_in_use(
    project: dh.Project, home: Path, tmp_path: Path, index_env: object
) -> None:
    gate = tmp_path / "gate"
    code = f"import pathlib, time\nimport tinypkg\n\ndef f():\n    while not pathlib.Path({str(gate)!r}).exists():\n"
    code += "        time.sleep(0.02)\n    return tinypkg.VALUE\n"
    busy = project.new_function(name="busy", code=code, handler="f", requirements=["tinypkg==1.0"])
    idle = project.new_function(name="idle", code=USES_TINYPKG, handler="f", requirements=["tinypkg==2.0"])
    idle_key = idle.run(isolation="subprocess").wait(WAIT).status.environment.key
    running = busy.run(isolation="subprocess")
    running = wait_for(lambda: running.refresh().status.state == State.RUNNING and running, WAIT, "busy run")
    busy_key = running.status.environment.key

    cli = CliRunner()
    listed = json.loads(cli.invoke(main, ["env", "list", "-o", "json"], catch_exceptions=False).output)
    assert {entry["key"] for entry in listed} == {idle_key, busy_key}
    assert {tuple(entry["requirements"]) for entry in listed} == {("tinypkg==1.0",), ("tinypkg==2.0",)}
    table = cli.invoke(main, ["env", "list"], catch_exceptions=False).output
    assert idle_key in table and "tinypkg==2.0" in table

    dry = cli.invoke(main, ["env", "prune", "--all", "--dry-run"], catch_exceptions=False)
    assert "would remove 1 environment(s)" in dry.output and (home / "envs" / idle_key).is_dir()
    (home / "envs" / f".build-{idle_key}-deadbeef").mkdir()  # what a build killed halfway leaves
    pruned = cli.invoke(main, ["env", "prune", "--all"], catch_exceptions=False)
    assert "removed 1 environment(s)" in pruned.output
    assert not (home / "envs" / idle_key).exists() and not list((home / "envs").glob(".build-*"))
    assert [entry.key for entry in dh.list_environments()] == [busy_key]  # in use: kept

    gate.touch()
    assert running.wait(WAIT).results() == {"output_0": "1.0"}
    # Its process ends just after the run COMPLETED: then the environment is no longer in use.
    wait_for(lambda: dh.prune_environments(unused_for=None), WAIT, "the run's process to end and prune to remove")
    assert dh.list_environments() == []
    assert not environments_root(home, {}).joinpath(busy_key).exists()


def test_a_crashed_build_leaves_nothing_that_is_reused(project: dh.Project, home: Path, index_env: object) -> None:
    fn = project.new_function(name="tiny", code=USES_TINYPKG, handler="f", requirements=["tinypkg==1.0"])
    key = fn.run(isolation="subprocess").wait(WAIT).status.environment.key
    envs = home / "envs"
    for path in (envs / key, *envs.glob(".aliases/*")):
        path.rename(envs / f".build-{key}-crashed") if path.is_dir() else path.unlink()
    (envs / key).mkdir()  # a folder without its record is not an environment
    (envs / key / "half-installed").touch()
    run = fn.run(isolation="subprocess").wait(WAIT)
    assert run.status.state == State.COMPLETED and run.status.environment.built
    assert not (envs / key / "half-installed").exists() and not list(envs.glob(".build-*"))


def test_concurrent_builders_in_threads_of_one_process_wait_for_each_other(
    project: dh.Project, index_env: object
) -> None:
    from digitalhub_runtime_python.environments.cache import ensure_environment

    fn = project.new_function(name="tiny", code=USES_TINYPKG, handler="f", requirements=["tinypkg==2.0"])
    spec = environment_spec(fn.spec, dict(os.environ), local=True)
    root = project.backend.settings.home / "envs"
    results: list[object] = []
    threads = [
        threading.Thread(target=lambda: results.append(ensure_environment(root, spec, os.environ))) for _ in "ab"
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert len(results) == 2 and sorted(record is None for _, record in results) == [False, True]


def _other_python() -> tuple[str, str] | None:
    """(version, PATH) for an installed interpreter of another supported version that uv finds (pyenv's version
    folders, where there are some, added to PATH); None on a machine with only this Python."""
    folders = [str(path) for path in sorted(Path.home().glob(".pyenv/versions/3.1[234]*/bin"))]
    path = os.pathsep.join([*folders, os.environ["PATH"]])
    for version in ("3.12", "3.13", "3.14"):
        if find_python(version, {**os.environ, "PATH": path}):
            return version, path
    return None


OTHER_PYTHON = _other_python()
needs_other_python = pytest.mark.skipif(OTHER_PYTHON is None, reason="no other Python version installed here")


@needs_other_python
def test_another_installed_python_version_is_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    assert OTHER_PYTHON is not None
    version, path = OTHER_PYTHON
    monkeypatch.setenv("PATH", path)
    function = FunctionSpec(code="x", handler="f", python_version=f"PYTHON3_{version.split('.')[1]}")
    spec = environment_spec(function, dict(os.environ), local=True, extras=runtime_extras("serve", "local"))
    assert spec is not None and not spec.layered and spec.python_version == version
    assert spec.python == find_python(version, os.environ) and spec.extras == ("serve",)
    assert environment_spec(function, dict(os.environ), local=False) is None  # a pod runs on its image's Python


@needs_other_python
@pytest.mark.skipif(not os.environ.get("DIGITALHUB_TEST_PYPI"), reason="installs the runtime's dependencies from PyPI")
def test_a_subprocess_run_executes_on_another_installed_python(
    project: dh.Project, monkeypatch: pytest.MonkeyPatch, package_index: PackageIndex
) -> None:
    assert OTHER_PYTHON is not None
    version, path = OTHER_PYTHON
    monkeypatch.setenv("PATH", path)
    monkeypatch.setenv("UV_FIND_LINKS", str(package_index.wheels))  # tinypkg from the test index, the rest from PyPI
    code = "import sys\nimport tinypkg\n\ndef f():\n    return ['%d.%d' % sys.version_info[:2], tinypkg.VALUE]\n"
    fn = project.new_function(
        name="other",
        code=code,
        handler="f",
        python_version=f"PYTHON3_{version.split('.')[1]}",
        requirements=["tinypkg"],
    )
    first = fn.run(isolation="subprocess").wait(600)
    assert first.status.state == State.COMPLETED, first.status.message
    assert first.results() == {"output_0": [version, "2.0"]} and first.status.environment.python == version
    second = fn.run(isolation="subprocess").wait(WAIT)
    assert second.results() == first.results() and not second.status.environment.built
