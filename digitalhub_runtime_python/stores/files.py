"""File stores for artifact and dataitem contents, chosen by URI scheme."""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

from digitalhub_runtime_python.models.data import FileInfo
from digitalhub_runtime_python.stores.progress import Advance, transfer_progress

CHUNK = 8 * 1024 * 1024
_SEPARATORS = tuple(sep for sep in (os.sep, os.altsep, "/") if sep)


class FileStore(Protocol):
    """Puts local files under a base URI and brings stored files back."""

    def upload(self, src: Path, dest: str) -> str:
        """Copy a file or folder to ``<base>/<dest>``; return its URI."""

    def download(self, uri: str, destination: str | Path) -> Path:
        """Copy the file or folder at ``uri`` to the path ``download_target`` gives; return that path."""

    def remove(self, uri: str) -> None:
        """Delete the file or folder at ``uri``; nothing there is not an error."""


def download_target(destination: str | Path, name: str, is_file: bool) -> Path:
    """Where a download named ``name`` lands.

    A file goes to ``destination`` itself, unless ``destination`` ends with a separator or is an existing folder:
    then, like a folder always does, it goes inside, as ``destination/name``.
    """
    text = os.fspath(destination)
    inside = not is_file or text.endswith(_SEPARATORS) or Path(text).is_dir()
    return Path(text, name) if inside else Path(text)


def _local_path(uri: str) -> Path:
    parsed = urlparse(uri)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(uri)


def files_under(path: Path) -> list[Path]:
    """The file itself, or the files in a folder and its subfolders, sorted."""
    return [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())


def file_digest(path: Path) -> str:
    """sha256 of a file's content, read in chunks."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def file_info(path: Path) -> list[FileInfo]:
    """Size and sha256 of a file, or of each file in a folder."""
    return [
        FileInfo(
            path=str(f.relative_to(path.parent if path.is_file() else path)),
            size=f.stat().st_size,
            sha256=file_digest(f),
        )
        for f in files_under(path)
    ]


def copy_file(src: str | Path, dst: str | Path, advance: Advance) -> None:
    """Copy a file and its permissions in fixed-size chunks (constant memory), telling ``advance`` each size."""
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    with open(src, "rb") as source, open(dst, "wb") as target:
        while size := source.readinto(buffer):
            target.write(view[:size])
            advance(size)
    shutil.copystat(src, dst)


def copy_with_progress(source: Path, target: Path, label: str) -> None:
    """Copy a file to ``target``, or a folder's tree into folder ``target``, showing progress when it is long."""
    total = sum(f.stat().st_size for f in files_under(source))
    with transfer_progress(f"{label} {source.name}", total) as advance:
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True, copy_function=lambda s, d: copy_file(s, d, advance))
        else:
            copy_file(source, target, advance)


class LocalFiles:
    """Files under a local folder, addressed as ``file://`` URIs."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def upload(self, src: Path, dest: str) -> str:
        target = self.root / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        copy_with_progress(Path(src), target, "uploading")
        return target.resolve().as_uri()

    def download(self, uri: str, destination: str | Path) -> Path:
        source = _local_path(uri)
        if not source.exists():
            raise FileNotFoundError(f"{uri} does not exist")
        target = download_target(destination, source.name, source.is_file())
        target.parent.mkdir(parents=True, exist_ok=True)
        copy_with_progress(source, target, "downloading")
        return target

    def remove(self, uri: str) -> None:
        path = _local_path(uri)
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


BUILTIN_SCHEMES = {"s3": "digitalhub_runtime_python.stores.s3:S3Files"}
SCHEMES: dict[str, Callable[[str], FileStore]] = {}


def register_scheme(scheme: str, factory: Callable[[str], FileStore]) -> None:
    """Make ``factory(base_uri)`` the file store for URIs of ``scheme``."""
    SCHEMES[scheme] = factory


def file_store_for(base_uri: str) -> FileStore:
    """The file store serving ``base_uri`` (a ``file://`` URI or plain path is local)."""
    scheme = urlparse(base_uri).scheme
    if scheme in ("", "file"):
        return LocalFiles(_local_path(base_uri))
    factory = SCHEMES.get(scheme)
    if factory is None and scheme in BUILTIN_SCHEMES:
        module, _, name = BUILTIN_SCHEMES[scheme].partition(":")
        factory = SCHEMES[scheme] = getattr(importlib.import_module(module), name)
    if factory is None:
        known = ", ".join(sorted({"file", *BUILTIN_SCHEMES, *SCHEMES}))
        raise ValueError(f"no file store for {base_uri!r}: supported schemes are {known}")
    return factory(base_uri)
