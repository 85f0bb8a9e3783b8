"""Requirements, keys and the choice of environment: pure functions, no uv run."""

from __future__ import annotations

from pathlib import Path

import pytest

from digitalhub_runtime_python.contract import installs_requirements
from digitalhub_runtime_python.environments.base import Runtime, layer_pth, runtime_closure
from digitalhub_runtime_python.environments.keys import environment_key, index_settings, redact
from digitalhub_runtime_python.environments.requirements import (
    RequirementError,
    normalize_requirements,
    read_requirements_file,
)
from digitalhub_runtime_python.environments.specs import environment_spec, runtime_extras
from digitalhub_runtime_python.models.function import FunctionSpec


def test_normalized_requirements_are_canonical_sorted_and_unique() -> None:
    assert normalize_requirements(
        ["Scikit_Learn >= 1.5", "pandas", "  ", "# a comment", "numpy<2,>=1.26", "pandas", "requests[Socks,security]"]
    ) == ("numpy<2,>=1.26", "pandas", "requests[security,socks]", "scikit-learn>=1.5")
    assert normalize_requirements(['tomli; python_version < "3.11"']) == ('tomli; python_version < "3.11"',)
    assert normalize_requirements(["pkg @ https://host/pkg-1.0-py3-none-any.whl ; os_name == 'posix'"]) == (
        'pkg @ https://host/pkg-1.0-py3-none-any.whl ; os_name == "posix"',
    )


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("pandas>>=2", "requirement 'pandas>>=2' does not parse"),
        ("--index-url https://example.org/simple", "is an option, not a requirement: set package indexes with"),
        ("pkg @ https://user:token@host/pkg.whl", "has credentials in its URL: the function spec is stored in clear"),
    ],
)
def test_unusable_requirements_are_named_with_the_fix(line: str, words: str) -> None:
    with pytest.raises(RequirementError) as info:
        normalize_requirements([line])
    assert words in str(info.value)
    assert "token" not in str(info.value)


def test_requirements_files_have_comments_continuations_and_no_options(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("# top\npandas>=2  # inline\n\nnumpy\\\n  <2\n")
    assert read_requirements_file(path) == ["pandas>=2", "numpy <2"]
    path.write_text("pandas\n-r other.txt\n")
    with pytest.raises(RequirementError, match=r"requirements.txt:2: '-r other.txt': options are not accepted"):
        read_requirements_file(path)
    with pytest.raises(RequirementError, match="cannot read requirements file"):
        read_requirements_file(tmp_path / "absent.txt")


def test_the_key_changes_with_each_part_and_only_with_them() -> None:
    base = environment_key("3.11", ("pandas",), (), "runtime a")
    assert base == environment_key("3.11", ("pandas",), (), "runtime a") and len(base) == 20
    assert (
        len(
            {
                base,
                *(
                    environment_key(*parts)
                    for parts in [
                        ("3.12", ("pandas",), (), "runtime a"),
                        ("3.11", ("pandas", "numpy"), (), "runtime a"),
                        ("3.11", ("pandas",), (("UV_INDEX_URL", "https://mirror/simple"),), "runtime a"),
                        ("3.11", ("pandas",), (), "runtime b"),
                    ]
                ),
            }
        )
        == 5
    )


def test_index_settings_leave_credentials_out() -> None:
    environ = {
        "UV_INDEX_URL": "https://reader:t0ken@pypi.example.org/simple",
        "UV_EXTRA_INDEX_URL": "https://mirror.example.org/simple",
        "UV_INDEX_PRIVATE_PASSWORD": "hunter22",
        "HOME": "/home/me",
    }
    assert index_settings(environ) == (
        ("UV_INDEX_URL", "https://***@pypi.example.org/simple"),
        ("UV_EXTRA_INDEX_URL", "https://mirror.example.org/simple"),
    )
    text = "Failed to fetch https://reader:t0ken@pypi.example.org/simple/x/ with password hunter22 in /home/me"
    assert (
        redact(text, environ) == "Failed to fetch https://***@pypi.example.org/simple/x/ with password *** in /home/me"
    )


def test_which_runs_need_an_environment() -> None:
    plain = FunctionSpec(code="x", handler="f")
    with_requirements = FunctionSpec(code="x", handler="f", requirements=["pandas"])
    imaged = FunctionSpec(code="x", handler="f", requirements=["pandas"], image="registry/built:1")
    assert environment_spec(plain, {}, local=True) is None and environment_spec(plain, {}, local=False) is None
    spec = environment_spec(with_requirements, {"UV_INDEX_URL": "https://mirror/simple"}, local=False)
    assert spec is not None and spec.layered and spec.python == Runtime.current().python
    assert spec.index == (("UV_INDEX_URL", "https://mirror/simple"),) and spec.requirements == ("pandas",)
    assert environment_spec(imaged, {}, local=False) is None and not installs_requirements(imaged)
    assert environment_spec(imaged, {}, local=True) is not None  # locally there is no image to run in
    assert installs_requirements(with_requirements) and not installs_requirements(plain)
    assert runtime_extras("serve", "kubernetes") == ("kubernetes", "serve") and runtime_extras("job", "local") == ()


def test_a_layered_environment_sees_the_runtimes_site_packages_and_keeps_its_dependencies() -> None:
    runtime = Runtime.current()
    assert layer_pth(["/a/site-packages", "/b's"]) == (
        "import site; site.addsitedir('/a/site-packages')\nimport site; site.addsitedir(\"/b's\")\n"
    )
    closure = runtime_closure(runtime.site_dirs, ["serve"])
    assert {"pydantic", "pydantic-core", "click", "fastapi", "starlette"} <= set(closure)
    assert "digitalhub-runtime-python" not in closure and "pytest" not in closure
    assert "fastapi" not in runtime_closure(runtime.site_dirs, [])
