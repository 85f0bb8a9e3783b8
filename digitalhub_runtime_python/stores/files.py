"""File stores for artifact and dataitem contents, chosen by URI scheme."""

from __future__ import annotations

import hashlib
import importlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

from digitalhub_runtime_python.models.data import FileInfo


class FileStore(Protocol):
    """Puts local files under a base URI and brings stored files back."""

    def upload(self, src: Path, dest: str) -> str:
        """Copy a file or folder to ``<base>/<dest>``; return its URI."""

    def download(self, uri: str, dest: Path) -> Path:
        """Copy the file or folder at ``uri`` into folder ``dest``; return the local path."""

    def remove(self, uri: str) -> None:
        """Delete the file or folder at ``uri``; nothing there is not an error."""


def _local_path(uri: str) -> Path:
    parsed = urlparse(uri)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(uri)


def file_info(path: Path) -> list[FileInfo]:
    """Size and sha256 of a file, or of each file in a folder."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return [
        FileInfo(
            path=str(f.relative_to(path.parent if path.is_file() else path)),
            size=f.stat().st_size,
            sha256=hashlib.sha256(f.read_bytes()).hexdigest(),
        )
        for f in files
    ]


class LocalFiles:
    """Files under a local folder, addressed as ``file://`` URIs."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def upload(self, src: Path, dest: str) -> str:
        target = self.root / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        if Path(src).is_dir():
            shutil.copytree(src, target, dirs_exist_ok=True)
        else:
            shutil.copyfile(src, target)
        return target.resolve().as_uri()

    def download(self, uri: str, dest: Path) -> Path:
        source = _local_path(uri)
        if not source.exists():
            raise FileNotFoundError(f"{uri} does not exist")
        dest.mkdir(parents=True, exist_ok=True)
        target = dest / source.name
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copyfile(source, target)
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
