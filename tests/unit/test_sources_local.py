"""Options after '#', picking a path inside a tree, refused credentials, the cache and local archives."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from digitalhub_runtime_python.models.function import FunctionSpec
from digitalhub_runtime_python.sources.base import CodeTree, SourceError, select, split_options
from digitalhub_runtime_python.sources.cache import store_tree
from digitalhub_runtime_python.sources.materialize import materialize
from digitalhub_runtime_python.sources.upload import pack_zip


def test_split_options() -> None:
    assert split_options("git+https://h/r.git#ref=v1.2&path=src%2Fa", ("ref", "path")) == (
        "git+https://h/r.git",
        {"ref": "v1.2", "path": "src/a"},
    )
    assert split_options("https://h/a.zip?x=1", ("path",)) == ("https://h/a.zip?x=1", {})


@pytest.mark.parametrize("fragment", ["branch=main", "ref=a&ref=b", "ref"])
def test_bad_options_name_the_source_and_the_syntax(fragment: str) -> None:
    with pytest.raises(SourceError, match=r"code_src 'git\+https://h/r#.*use #ref=...&path=..., each at most once"):
        split_options(f"git+https://h/r#{fragment}", ("ref", "path"))


def test_select_path(tmp_path: Path) -> None:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "mod.py").write_text("")
    (tmp_path / "notes.txt").write_text("")
    root = tmp_path.resolve()
    assert select(tmp_path, None, "s") == CodeTree(root)
    assert select(tmp_path, "src", "s", "abc") == CodeTree(root / "src", None, "abc")
    assert select(tmp_path, "src/pkg/mod.py", "s") == CodeTree(root / "src/pkg", root / "src/pkg/mod.py")
    for bad, problem in [
        ("../x", "inside the source"),
        ("/etc", "inside the source"),
        ("notes.txt", "not a folder or a .py"),
        ("missing", "not a folder or a .py"),
    ]:
        with pytest.raises(SourceError, match=problem):
            select(tmp_path, bad, "s")


def test_credentials_in_code_src_are_refused_without_echoing_them(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as info:
        materialize(FunctionSpec(code_src="git+https://bob:hunter2@example.com/r.git", handler="f"), tmp_path)
    assert "hunter2" not in str(info.value) and "bob" not in str(info.value)
    assert "GIT_TOKEN" in str(info.value) and "***@example.com" in str(info.value)


def test_unknown_scheme_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(
        SourceError, match="unsupported scheme 'ftp' .registered: git\\+https, http, https, s3, zip\\+s3"
    ):
        materialize(FunctionSpec(code_src="ftp://h/x.py", handler="f"), tmp_path)


def test_local_archive_is_extracted_once_per_content(tmp_path: Path) -> None:
    src = tmp_path / "code"
    (src / "pkg").mkdir(parents=True)
    (src / "pkg" / "__init__.py").write_text("")
    (src / "pkg" / "mod.py").write_text("def f():\n    return 42\n")
    archive = tmp_path / "code.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(src, arcname=".")
    cache = tmp_path / "cache"
    first = materialize(FunctionSpec(code_src=str(archive), handler="pkg.mod:f"), cache)
    (first.root / "marker").write_text("")
    second = materialize(FunctionSpec(code_src=str(archive), handler="pkg.mod:f"), cache)
    assert first == second and (second.root / "marker").exists() and first.revision
    assert (second.root / "pkg" / "mod.py").exists()


def test_local_file_that_is_no_module_or_archive(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("")
    with pytest.raises(SourceError, match=r"must be a .py file or an archive \(.zip, .tar.gz, .tgz, .tar\)"):
        materialize(FunctionSpec(code_src=str(tmp_path / "notes.txt"), handler="f"), tmp_path)


def test_concurrent_builders_of_one_tree_agree(tmp_path: Path) -> None:
    def build(folder: Path) -> None:
        (folder / "a.py").write_text("x = 1\n")

    with ThreadPoolExecutor(8) as pool:
        trees = list(pool.map(lambda _: store_tree(tmp_path, "same", build), range(16)))
    assert set(trees) == {tmp_path / "trees" / "same"}
    assert not any((tmp_path / ".staging").iterdir())


def test_failed_build_leaves_no_tree(tmp_path: Path) -> None:
    def build(folder: Path) -> None:
        (folder / "half.py").write_text("")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        store_tree(tmp_path, "broken", build)
    assert not (tmp_path / "trees" / "broken").exists() and not any((tmp_path / ".staging").iterdir())


def test_scratch_left_by_a_dead_fetch_is_swept(tmp_path: Path) -> None:
    old, recent = tmp_path / ".staging" / "tmp-old", tmp_path / ".staging" / "tmp-recent"
    for folder in (old, recent):
        (folder / "tree").mkdir(parents=True)
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    store_tree(tmp_path, "fresh", lambda folder: (folder / "a.py").write_text(""))
    assert not old.exists() and recent.exists()


def test_concurrent_processes_fetch_one_archive(tmp_path: Path) -> None:
    archive = tmp_path / "code.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(200):
            zf.writestr(f"m{i}.py", f"x = {i}\n")
    script = (
        "import sys; from pathlib import Path; from digitalhub_runtime_python.models import FunctionSpec;"
        "from digitalhub_runtime_python.sources.materialize import materialize;"
        f"print(materialize(FunctionSpec(code_src={str(archive)!r}, handler='m1:x'), "
        f"Path({str(tmp_path / 'cache')!r})).root)"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) for _ in range(4)]
    roots = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert all(p.returncode == 0 for p in procs) and len(roots) == 1
    assert len(list(Path(roots.pop()).iterdir())) == 200


def test_pack_zip_is_deterministic_and_skips_caches(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for name in ("b.py", "a/c.py", "__pycache__/b.cpython-311.pyc", ".git/config", "a/d.pyc"):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(name)
    pack_zip(src, tmp_path / "one.zip")
    (src / "b.py").touch()
    pack_zip(src, tmp_path / "two.zip")
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "one.zip") as zf:
        assert zf.namelist() == ["a/c.py", "b.py"]
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_importing_sources_loads_no_heavy_library() -> None:
    code = (
        "import sys, digitalhub_runtime_python.sources; "
        "print(sorted(m for m in ('boto3', 'botocore', 'tarfile', 'urllib.request') if m in sys.modules))"
    )
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
    )
