"""Safe extraction of zip and tar archives: every archive any source brings goes through here.

Refused: absolute member paths, ``..`` components, backslashes, members stored under a symlink member,
links pointing outside the archive or through another link, hard links to links, device files and
FIFOs, and archives whose files add up to more than ``DIGITALHUB_MAX_ARCHIVE_BYTES`` or number more
than ``DIGITALHUB_MAX_ARCHIVE_FILES``. All members are checked before anything is written.
"""

from __future__ import annotations

import copy
import os
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, NamedTuple

from digitalhub_runtime_python.sources.base import SourceError, source_error

if TYPE_CHECKING:
    import tarfile

ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
DEFAULT_MAX_FILES = 20_000
CHUNK = 1024 * 1024
MAX_LINK = 4096


class Limits(NamedTuple):
    """Upper bounds for one archive: total uncompressed bytes and number of members."""

    max_bytes: int
    max_files: int

    @classmethod
    def from_env(cls) -> Limits:
        return cls(
            max_bytes=_positive_int("DIGITALHUB_MAX_ARCHIVE_BYTES", DEFAULT_MAX_BYTES),
            max_files=_positive_int("DIGITALHUB_MAX_ARCHIVE_FILES", DEFAULT_MAX_FILES),
        )


def _positive_int(var: str, default: int) -> int:
    text = os.environ.get(var)
    if text is None:
        return default
    if not text.isdigit() or int(text) == 0:
        raise SourceError(f"{var}={text!r} is not a positive whole number: set it to e.g. {default}")
    return int(text)


def is_archive_name(name: str) -> bool:
    """True when a file name ends like an archive this module extracts."""
    return name.lower().endswith(ARCHIVE_SUFFIXES)


class Member(NamedTuple):
    """What the checks need to know about one archive member."""

    name: str
    kind: str  # file | dir | symlink | hardlink | special
    size: int = 0
    link: str = ""


def extract(archive: Path, dest: Path, code_src: str, limits: Limits | None = None) -> None:
    """Extract a zip or tar(.gz) archive into the empty folder ``dest`` after checking every member."""
    import tarfile  # imported on first use: keeps importing the sources package cheap

    limits = limits or Limits.from_env()
    try:
        if zipfile.is_zipfile(archive):
            _extract_zip(archive, dest, code_src, limits)
        elif tarfile.is_tarfile(archive):
            _extract_tar(archive, dest, code_src, limits)
        else:
            raise source_error(
                code_src, "not a zip or tar archive (nor a .py file): point code_src at a .py, .zip, .tar.gz or .tgz"
            )
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        raise source_error(code_src, f"cannot extract the archive ({type(exc).__name__}: {exc})") from None


def check_members(members: list[Member], code_src: str, limits: Limits) -> None:
    """Refuse an archive if any member could land outside the extraction folder or it is too big."""
    if len(members) > limits.max_files:
        raise _unsafe(code_src, f"more than {limits.max_files} members, the limit set by DIGITALHUB_MAX_ARCHIVE_FILES")
    total = sum(m.size for m in members)
    if total > limits.max_bytes:
        raise _unsafe(
            code_src,
            f"{total} bytes uncompressed, more than {limits.max_bytes}, the limit set by DIGITALHUB_MAX_ARCHIVE_BYTES",
        )
    symlinks = {_clean(m.name, code_src) for m in members if m.kind == "symlink"}
    for m in members:
        path = _clean(m.name, code_src)
        if m.kind == "special":
            raise _unsafe(code_src, f"member {m.name!r} is a device file or FIFO")
        if any(parent in symlinks for parent in _parents(path)):
            raise _unsafe(code_src, f"member {m.name!r} is stored under a symlink")
        if m.kind == "symlink":
            _resolve(m, str(PurePosixPath(path).parent), symlinks, code_src)
        elif m.kind == "hardlink" and _resolve(m, "", symlinks, code_src) in symlinks:
            raise _unsafe(code_src, f"hard link {m.name!r} points at the symlink {m.link!r}")


def _unsafe(code_src: str, problem: str) -> SourceError:
    return source_error(code_src, f"unsafe archive refused: {problem}")


def _clean(name: str, code_src: str) -> str:
    """A member name as a relative POSIX path, or an error if it is absolute or climbs out."""
    if "\\" in name or "\0" in name:
        raise _unsafe(code_src, f"member {name!r} has a backslash or NUL in its path")
    path = PurePosixPath(name)
    if path.is_absolute() or (path.parts and path.parts[0].endswith(":")):
        raise _unsafe(code_src, f"member {name!r} has an absolute path")
    if ".." in path.parts:
        raise _unsafe(code_src, f"member {name!r} has '..' in its path")
    return str(path)


def _parents(path: str) -> list[str]:
    return [str(p) for p in PurePosixPath(path).parents if str(p) != "."]


def _resolve(member: Member, base: str, symlinks: set[str], code_src: str) -> str:
    """Walk a link target from ``base`` without following links; refuse escapes and passing through a link."""
    if member.link.startswith("/") or "\\" in member.link or "\0" in member.link:
        raise _unsafe(code_src, f"link {member.name!r} points at an absolute or Windows-style path {member.link!r}")
    parts = [p for p in base.split("/") if p not in ("", ".")]
    for part in member.link.split("/"):
        if part in ("", "."):
            continue
        if "/".join(parts) in symlinks:
            raise _unsafe(code_src, f"link {member.name!r} -> {member.link!r} passes through another symlink")
        if part == "..":
            if not parts:
                raise _unsafe(code_src, f"link {member.name!r} -> {member.link!r} points outside the archive")
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def _zip_members(zf: zipfile.ZipFile, code_src: str) -> list[Member]:
    members = []
    for info in zf.infolist():
        file_type = stat.S_IFMT(info.external_attr >> 16) if info.create_system == 3 else 0
        if info.is_dir():
            kind = "dir"
        elif file_type == stat.S_IFLNK:
            kind = "symlink"
        elif file_type not in (0, stat.S_IFREG):
            kind = "special"
        else:
            kind = "file"
        if kind == "symlink" and info.file_size > MAX_LINK:
            raise _unsafe(code_src, f"symlink {info.filename!r} has a target longer than {MAX_LINK} bytes")
        link = zf.read(info).decode("utf-8", "replace") if kind == "symlink" else ""
        members.append(Member(info.filename, kind, info.file_size if kind == "file" else 0, link))
    return members


def _extract_zip(archive: Path, dest: Path, code_src: str, limits: Limits) -> None:
    with zipfile.ZipFile(archive) as zf:
        members = _zip_members(zf, code_src)
        check_members(members, code_src, limits)
        for info, member in zip(zf.infolist(), members, strict=True):
            target = dest / member.name
            if member.kind == "dir":
                target.mkdir(parents=True, exist_ok=True)
            elif member.kind == "symlink":
                target.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(member.link, target)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                _copy(zf, info, target)


def _copy(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    """Stream one member to a new file, never through an existing path (zipfile stops at the declared size)."""
    with zf.open(info) as src, target.open("xb") as out:
        shutil.copyfileobj(src, out, CHUNK)


def _tar_members(tf: tarfile.TarFile, limits: Limits) -> list[Member]:
    """Members in order, reading headers only up to one past the file limit (a tar lists them as it goes)."""

    def kind(info: tarfile.TarInfo) -> str:
        if info.isdir():
            return "dir"
        if info.issym():
            return "symlink"
        if info.islnk():
            return "hardlink"
        return "file" if info.isreg() else "special"

    members = []
    for info in tf:
        members.append(Member(info.name, kind(info), info.size if info.isreg() else 0, info.linkname))
        if len(members) > limits.max_files:
            break
    return members


def _extract_tar(archive: Path, dest: Path, code_src: str, limits: Limits) -> None:
    import tarfile

    with tarfile.open(archive) as tf:
        check_members(_tar_members(tf, limits), code_src, limits)
        if not hasattr(tarfile, "data_filter"):  # Python 3.11.0-3.11.3 (e.g. Debian 12's 3.11.2): no filters yet
            tf.extractall(dest, members=[_as_data(info) for info in tf.getmembers()])
            return
        try:
            tf.extractall(dest, filter="data")
        except tarfile.FilterError as exc:
            raise _unsafe(code_src, str(exc)) from None


def _as_data(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """A checked member as the ``data`` filter would extract it: no owner taken from the archive, no set-id or
    group/other write bits, readable and writable by its owner."""
    plain = copy.copy(info)
    plain.uid = plain.gid = -1  # os.chown(path, -1, -1) when extracting as root: ownership stays the extractor's
    plain.uname = plain.gname = ""
    plain.mode = (info.mode & 0o755) | (0o700 if info.isdir() else 0o600)
    return plain
