"""Safe extraction: a corpus of malicious archives built here is refused and writes nothing outside the cache."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from digitalhub_runtime_python.models.function import FunctionSpec
from digitalhub_runtime_python.sources.base import SourceError
from digitalhub_runtime_python.sources.materialize import materialize


def make_zip(path: Path, entries: list[tuple[str, bytes, int]]) -> Path:
    """Entries are (name, data, unix mode); a symlink's data is its target."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return path


def make_tar(path: Path, entries: list[tarfile.TarInfo | tuple[str, bytes]]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tf.addfile(entry)
            else:
                name, data = entry
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return path


def link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


def device(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
    return info


FILE = stat.S_IFREG | 0o644
LINK = stat.S_IFLNK | 0o777
OK = ("ok.py", b"x = 1\n")

# Each case writes an archive into a folder and returns it; `evil` is where an escape would land.
CASES: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    "zip slip ../evil": (
        lambda d, evil: make_zip(d / "a.zip", [("ok.py", b"", FILE), ("../evil", b"x", FILE)]),
        "'..'",
    ),
    "zip absolute path": (lambda d, evil: make_zip(d / "a.zip", [(str(evil), b"x", FILE)]), "absolute"),
    "zip symlink escape": (
        lambda d, evil: make_zip(d / "a.zip", [("out", b"../..", LINK), ("out/evil", b"x", FILE)]),
        "outside",
    ),
    "zip absolute symlink": (
        lambda d, evil: make_zip(d / "a.zip", [("out", str(evil.parent).encode(), LINK)]),
        "absolute",
    ),
    "zip backslash": (lambda d, evil: make_zip(d / "a.zip", [("..\\evil", b"x", FILE)]), "backslash"),
    "zip device": (lambda d, evil: make_zip(d / "a.zip", [("dev", b"", stat.S_IFCHR | 0o644)]), "device"),
    "tar with ..": (lambda d, evil: make_tar(d / "a.tar.gz", [OK, ("sub/../../evil", b"x")]), "'..'"),
    "tar absolute path": (lambda d, evil: make_tar(d / "a.tar.gz", [(str(evil), b"x")]), "absolute"),
    "tar symlink escape": (
        lambda d, evil: make_tar(d / "a.tar.gz", [link("out", "../../.."), ("out/evil", b"x")]),
        "outside",
    ),
    "tar absolute symlink": (lambda d, evil: make_tar(d / "a.tar.gz", [link("out", str(evil.parent))]), "absolute"),
    "tar symlink chain": (
        lambda d, evil: make_tar(d / "a.tar.gz", [link("s/up", ".."), link("t", "s/up/../.."), ("t/evil", b"x")]),
        "another symlink",
    ),
    "tar write under symlink": (
        lambda d, evil: make_tar(d / "a.tar.gz", [link("s", "."), ("s/evil", b"x")]),
        "under a symlink",
    ),
    "tar hardlink escape": (
        lambda d, evil: make_tar(d / "a.tar.gz", [link("h", "../../etc/passwd", tarfile.LNKTYPE)]),
        "outside",
    ),
    "tar hardlink to symlink": (
        lambda d, evil: make_tar(d / "a.tar.gz", [link("s", "ok.py"), link("h", "s", tarfile.LNKTYPE), OK]),
        "hard link",
    ),
    "tar device": (lambda d, evil: make_tar(d / "a.tar.gz", [device("dev")]), "device"),
}


def tree_snapshot(root: Path, skip: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if skip not in (p, *p.parents)}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malicious_archive_is_refused_and_writes_nothing(case: str, tmp_path: Path) -> None:
    build, expected = CASES[case]
    src = tmp_path / "src"
    src.mkdir()
    evil = tmp_path / "evil"
    archive = build(src, evil)
    cache = tmp_path / "deep" / "cache"
    cache.parent.mkdir()
    before = tree_snapshot(tmp_path, cache)

    with pytest.raises(SourceError) as info:
        materialize(FunctionSpec(code_src=str(archive), handler="f"), cache)

    message = str(info.value)
    assert message.startswith(f"code_src {str(archive)!r}: unsafe archive refused") and expected in message
    assert tree_snapshot(tmp_path, cache) == before, "something was written outside the cache"
    assert not evil.exists() and not Path("/evil").exists()
    assert not (cache / "trees").exists() or not any((cache / "trees").iterdir())
    assert not any((cache / ".staging").iterdir())


def test_zip_bomb_beyond_byte_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGITALHUB_MAX_ARCHIVE_BYTES", str(1024 * 1024))
    archive = make_zip(tmp_path / "bomb.zip", [(f"zeros{i}", b"\0" * 600_000, FILE) for i in range(2)])
    assert archive.stat().st_size < 10_000
    with pytest.raises(SourceError, match="more than 1048576, the limit set by DIGITALHUB_MAX_ARCHIVE_BYTES"):
        materialize(FunctionSpec(code_src=str(archive), handler="f"), tmp_path / "cache")


def test_zip_lying_about_its_size_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGITALHUB_MAX_ARCHIVE_BYTES", "1000")
    archive = make_zip(tmp_path / "liar.zip", [("big", b"\0" * 5000, FILE)])
    data = bytearray(archive.read_bytes())
    for header, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # uncompressed size: local and central headers
        at = data.index(header) + offset
        data[at : at + 4] = (10).to_bytes(4, "little")
    archive.write_bytes(bytes(data))
    with pytest.raises(SourceError, match="code_src .*liar.zip"):
        materialize(FunctionSpec(code_src=str(archive), handler="f"), tmp_path / "cache")
    assert not any((tmp_path / "cache" / "trees").iterdir())


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_too_many_files_is_refused(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGITALHUB_MAX_ARCHIVE_FILES", "10")
    if kind == "zip":
        archive = make_zip(tmp_path / "many.zip", [(f"f{i}.py", b"", FILE) for i in range(50)])
    else:
        archive = make_tar(tmp_path / "many.tar.gz", [(f"f{i}.py", b"") for i in range(50)])
    with pytest.raises(SourceError, match="more than 10 members, the limit set by DIGITALHUB_MAX_ARCHIVE_FILES"):
        materialize(FunctionSpec(code_src=str(archive), handler="f"), tmp_path / "cache")


def test_bad_limit_setting_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGITALHUB_MAX_ARCHIVE_FILES", "lots")
    archive = make_tar(tmp_path / "a.tar.gz", [OK])
    with pytest.raises(SourceError, match="DIGITALHUB_MAX_ARCHIVE_FILES='lots' is not a positive whole number"):
        materialize(FunctionSpec(code_src=str(archive), handler="f"), tmp_path / "cache")


def test_not_an_archive(tmp_path: Path) -> None:
    fake = tmp_path / "fake.zip"
    fake.write_text("hello")
    with pytest.raises(SourceError, match="not a zip or tar archive"):
        materialize(FunctionSpec(code_src=str(fake), handler="f"), tmp_path / "cache")


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_safe_archive_with_internal_symlink_extracts(kind: str, tmp_path: Path) -> None:
    if kind == "zip":
        archive = make_zip(
            tmp_path / "a.zip",
            [
                ("pkg/__init__.py", b"", FILE),
                ("pkg/mod.py", b"def f():\n    return 1\n", FILE),
                ("alias.py", b"pkg/mod.py", LINK),
            ],
        )
    else:
        archive = make_tar(
            tmp_path / "a.tar.gz",
            [("pkg/__init__.py", b""), ("pkg/mod.py", b"def f():\n    return 1\n"), link("alias.py", "pkg/mod.py")],
        )
    tree = materialize(FunctionSpec(code_src=str(archive), handler="pkg.mod:f"), tmp_path / "cache")
    assert tree.entry is None and tree.root.parent == (tmp_path / "cache" / "trees").resolve()
    assert (tree.root / "pkg" / "mod.py").read_text().startswith("def f")
    assert (tree.root / "alias.py").is_symlink() and (tree.root / "alias.py").read_text() == (
        tree.root / "pkg/mod.py"
    ).read_text()


def test_tar_members_extract_as_plain_data(tmp_path: Path) -> None:
    """Set-id bits, group/other write and the archive's owner are dropped, as the ``data`` filter does (on Pythons
    that lack it too); executable bits stay."""
    archive = tmp_path / "a.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        for name, mode in (("run.sh", 0o4777), ("data.txt", 0o666)):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.uid, info.gid, info.uname = 3, mode, 4242, 4242, "nobody-here"
            tf.addfile(info, io.BytesIO(b"x=1"))
    tree = materialize(FunctionSpec(code_src=str(archive), handler="f"), tmp_path / "cache")
    modes = {name: stat.S_IMODE((tree.root / name).stat().st_mode) for name in ("run.sh", "data.txt")}
    assert modes == {"run.sh": 0o755, "data.txt": 0o644}
    assert {(tree.root / name).stat().st_uid for name in modes} == {tmp_path.stat().st_uid}
