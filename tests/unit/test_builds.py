"""Function images: the Dockerfile rendered from a function, its build context, build settings, image references,
and a run taking its code from the image it runs in."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import pytest

from digitalhub_runtime_python.builds.context import write_context
from digitalhub_runtime_python.builds.dockerfile import BuildError, ImageRecipe, pip_options, render_dockerfile
from digitalhub_runtime_python.builds.engine import failed_step
from digitalhub_runtime_python.builds.settings import BuildSettings, BuildSettingsError
from digitalhub_runtime_python.contract import ENV_IMAGE_CODE, ENV_IMAGE_CODE_ENTRY, code_fingerprint, image_reference
from digitalhub_runtime_python.entrypoints.build import read_digest
from digitalhub_runtime_python.models.errors import validate
from digitalhub_runtime_python.models.function import Function, FunctionSpec
from digitalhub_runtime_python.sources import materialize as materialize_module
from digitalhub_runtime_python.sources.materialize import materialize

RECIPE = ImageRecipe(
    base_image="python:3.11-slim", python="3.11", runtime="digitalhub-runtime-python==0.1.0", uv="0.9.0"
)


def function(**spec: object) -> Function:
    return validate(
        Function,
        {"project": "demo", "name": "train", "spec": {"code": "def f():\n    return 1\n", "handler": "f", **spec}},
    )


def context(
    tmp_path: Path,
    fn: Function,
    settings: BuildSettings | None = None,
    instructions: tuple[str, ...] = (),
    environ: Mapping[str, str] | None = None,
) -> str:
    """The Dockerfile of ``fn``'s build context (written in ``tmp_path``/ctx)."""
    built = write_context(
        fn, instructions, settings or BuildSettings(), environ or {}, tmp_path / "ctx", tmp_path / "cache"
    )
    return built.dockerfile


def steps(dockerfile: str) -> list[str]:
    """The Dockerfile's instructions (continuation lines and comments left out)."""
    return [line for line in dockerfile.splitlines() if line and line[0].isupper()]


def test_layers_go_from_what_changes_least_to_what_changes_most(tmp_path: Path) -> None:
    dockerfile = context(tmp_path, function(requirements=["TinyPkg>=1"]), instructions=("apt-get install -y libgomp1",))
    lines = steps(dockerfile)
    order = [
        "FROM ghcr.io/scc-digitalhub/digitalhub-runtime-python:py3.11",
        "RUN set -eu; \\",  # user, workspace, virtualenv, Python check
        "RUN set -eu; \\",  # uv and the runtime
        "COPY requirements.txt /opt/digitalhub/function-requirements.txt",
        "RUN set -eu; \\",  # uv pip install the requirements, uv pip check
        "RUN apt-get install -y libgomp1",
        "COPY code /opt/digitalhub-function",
    ]
    found = [line for line in lines if line.startswith(("FROM", "RUN", "COPY"))]
    assert found == order
    assert lines[-3:] == [
        "USER 1000:1000",
        "WORKDIR /workspace",
        'CMD ["python", "-m", "digitalhub_runtime_python.runner"]',
    ]
    assert "uv pip install 'digitalhub-runtime-python[data,s3,kubernetes,serve]==" in dockerfile
    assert "install -d -o 1000 -g 1000 /workspace" in dockerfile
    assert "uv pip install --requirements /opt/digitalhub/function-requirements.txt; \\\n    uv pip check" in dockerfile


def test_equal_requirements_written_differently_make_one_layer(tmp_path: Path) -> None:
    first = context(tmp_path / "a", function(requirements=["TinyPkg >= 1", "numpy", "numpy"]))
    second = context(tmp_path / "b", function(requirements=["numpy", "tinypkg>=1"]))
    assert (tmp_path / "a" / "ctx" / "requirements.txt").read_text() == "numpy\ntinypkg>=1\n"
    assert (tmp_path / "b" / "ctx" / "requirements.txt").read_text() == "numpy\ntinypkg>=1\n"
    assert (
        steps(first)[: steps(first).index("COPY code /opt/digitalhub-function")]
        == steps(second)[: steps(second).index("COPY code /opt/digitalhub-function")]
    )


def test_without_requirements_or_instructions_there_are_no_such_layers(tmp_path: Path) -> None:
    dockerfile = context(tmp_path, function())
    assert "requirements" not in dockerfile and "instructions" not in dockerfile
    assert not (tmp_path / "ctx" / "requirements.txt").exists()


def test_base_image_from_the_function_else_the_runtime_image_of_its_python(tmp_path: Path) -> None:
    assert "FROM ghcr.io/scc-digitalhub/digitalhub-runtime-python:py3.12\n" in context(
        tmp_path / "a", function(python_version="PYTHON3_12")
    )
    assert "FROM registry.example/python:3.13\n" in context(
        tmp_path / "b",
        function(python_version="PYTHON3_13"),
        BuildSettings(base_image="registry.example/python:{python}"),
    )
    own = context(tmp_path / "c", function(base_image="nvcr.io/nvidia/cuda:12.4-runtime"))
    assert "FROM nvcr.io/nvidia/cuda:12.4-runtime\n" in own
    assert "v == (3, 11) or sys.exit(" in own  # the base must have the function's Python


def test_code_is_copied_with_its_fingerprint_and_entry_or_left_to_fetch(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "pkg").mkdir(parents=True)
    (source / "train.py").write_text("def f():\n    return 1\n")
    (source / "pkg" / "__init__.py").write_text("")
    (source / ".git").mkdir()
    (source / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    fn = function(code=None, code_src=str(source / "train.py"))
    copied = context(tmp_path / "copy", fn)
    code = tmp_path / "copy" / "ctx" / "code"
    assert sorted(path.name for path in code.iterdir()) == ["pkg", "train.py"]  # no .git
    assert f'ENV {ENV_IMAGE_CODE}={code_fingerprint(fn.spec)} {ENV_IMAGE_CODE_ENTRY}="train.py"' in copied
    fetched = context(tmp_path / "fetch", fn, BuildSettings(code="fetch"))
    assert "COPY code" not in fetched and ENV_IMAGE_CODE not in fetched
    assert not (tmp_path / "fetch" / "ctx" / "code").exists()


def test_index_settings_become_build_arguments_and_pip_options(tmp_path: Path) -> None:
    environ = {"UV_INDEX_URL": "https://mirror.example/simple", "UV_EXTRA_INDEX_URL": "https://a/simple https://b/s"}
    dockerfile = context(tmp_path, function(), environ=environ)
    assert 'ARG UV_INDEX_URL="https://mirror.example/simple"\n' in dockerfile
    assert "--index-url https://mirror.example/simple --extra-index-url https://a/simple" in dockerfile
    assert pip_options([("UV_INDEX", "internal=https://x/simple"), ("UV_FIND_LINKS", "/w1,/w2")]) == [
        "--extra-index-url",
        "https://x/simple",
        "--find-links",
        "/w1",
        "--find-links",
        "/w2",
    ]


@pytest.mark.parametrize(
    "url", ["https://user:s3cr3t@mirror.example/simple", "https://mirror.example/simple?token=s3cr3t"]
)
def test_index_credentials_are_refused_and_not_repeated(tmp_path: Path, url: str) -> None:
    with pytest.raises(BuildError) as caught:
        context(tmp_path, function(), environ={"UV_INDEX_URL": url})
    assert "UV_INDEX_URL carries credentials" in str(caught.value) and "s3cr3t" not in str(caught.value)


@pytest.mark.parametrize(
    ("instructions", "problem"),
    [(["apt-get update", "echo a\necho b"], "instructions[1]"), (["  "], "instructions[0]")],
)
def test_an_instruction_must_be_one_command_on_one_line(instructions: list[str], problem: str) -> None:
    with pytest.raises(BuildError, match=rf"^{re.escape(problem)} .*one shell command on one line"):
        render_dockerfile(ImageRecipe(**{**RECIPE.__dict__, "instructions": tuple(instructions)}))


def test_a_base_image_reference_with_spaces_is_refused() -> None:
    with pytest.raises(BuildError, match="base_image 'python 3' is not an image reference"):
        render_dockerfile(ImageRecipe(**{**RECIPE.__dict__, "base_image": "python 3"}))


def test_build_settings_from_the_environment() -> None:
    settings = BuildSettings.from_env(
        {"DIGITALHUB_BUILD_CODE": "fetch", "DIGITALHUB_BUILD_RUNTIME_EXTRAS": "kubernetes, s3"}
    )
    assert settings.code == "fetch"
    assert settings.runtime_requirement("1.2") == "digitalhub-runtime-python[kubernetes,s3]==1.2"
    assert BuildSettings.from_env({"DIGITALHUB_BUILD_RUNTIME_EXTRAS": ""}).runtime_requirement("1.2") == (
        "digitalhub-runtime-python==1.2"
    )
    with pytest.raises(BuildSettingsError, match="DIGITALHUB_BUILD_CODE='bake': use copy"):
        BuildSettings.from_env({"DIGITALHUB_BUILD_CODE": "bake"})
    with pytest.raises(BuildSettingsError, match="unknown extra gpu"):
        BuildSettings.from_env({"DIGITALHUB_BUILD_RUNTIME_EXTRAS": "gpu"})


def test_image_references_keep_to_repository_names() -> None:
    assert (
        image_reference("registry.example/dh/", "demo", "my_fn.v2", "ab12") == "registry.example/dh/demo-my-fn-v2:ab12"
    )
    assert image_reference("localhost", "demo", "add", "ab12") == "localhost/demo-add:ab12"


def test_a_run_in_an_image_built_for_its_code_takes_the_code_from_the_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = FunctionSpec(code_src="git+https://example.com/repo.git", handler="f")
    monkeypatch.setenv(ENV_IMAGE_CODE, code_fingerprint(spec))
    monkeypatch.setenv(ENV_IMAGE_CODE_ENTRY, "train.py")
    tree = materialize(spec, tmp_path)  # no network: the image has it
    assert (str(tree.root), str(tree.entry)) == ("/opt/digitalhub-function", "/opt/digitalhub-function/train.py")
    other = FunctionSpec(code="def f():\n    return 2\n", handler="f")
    assert materialize_module.in_image(other, {ENV_IMAGE_CODE: code_fingerprint(spec)}) is None
    fetched = materialize(other, tmp_path)  # written to the cache, as usual
    assert fetched.root.is_relative_to(tmp_path) and fetched.entry is not None and fetched.entry.is_file()


def test_a_failed_builds_message_quotes_the_step_that_failed_and_its_output() -> None:
    log = (
        "STEP 1/3: FROM base\n--> Using cache 1a2b\nSTEP 2/3: RUN uv pip install absentpkg\nerror: No solution found\n"
    )
    assert failed_step(log) == "STEP 2/3: RUN uv pip install absentpkg\nerror: No solution found"
    docker = "Step 1/2 : FROM base\n ---> 1a2b\nStep 2/2 : RUN false\n ---> Running in 3c4d\n"
    assert failed_step(docker) == "Step 2/2 : RUN false\n ---> Running in 3c4d"
    assert failed_step("no steps here\nat all\n") == "no steps here\nat all"


def test_the_digest_a_builder_wrote_kaniko_or_buildkit(tmp_path: Path) -> None:
    digest = "sha256:" + "0f" * 32
    assert read_digest(tmp_path) is None
    (tmp_path / "metadata.json").write_text(json.dumps({"containerimage.digest": digest}))  # BuildKit
    assert read_digest(tmp_path) == digest
    (tmp_path / "digest").write_text(digest + "\n")  # Kaniko's --digest-file
    assert read_digest(tmp_path) == digest
    (tmp_path / "digest").write_text("not a digest")
    assert read_digest(tmp_path) is None
