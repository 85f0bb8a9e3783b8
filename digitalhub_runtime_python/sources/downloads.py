"""One fetched file - a ``.py`` module or an archive - turned into a cached code tree.

Shared by the http(s) and S3 sources and by local archives. Trees are named by the file's sha256, so the
same content fetched from anywhere is extracted once; ``#sha256=<hex>`` pins the content: a cached pinned
source needs no network, and a download that does not match is refused.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path, PurePosixPath
from typing import BinaryIO, NamedTuple
from urllib.parse import unquote, urlparse

from digitalhub_runtime_python.sources.archives import CHUNK, Limits, extract
from digitalhub_runtime_python.sources.base import CodeTree, select, source_error, split_options
from digitalhub_runtime_python.sources.cache import cached_tree, digest, file_digest, store_tree

OPTIONS = ("path", "sha256")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class Target(NamedTuple):
    """What to make of a remote file: keep it as one module, or extract it and maybe pick a ``path=``."""

    code_src: str
    filename: str
    archive: bool
    path: str | None = None
    sha256: str | None = None

    @classmethod
    def parse(cls, code_src: str, archive: bool | None = None) -> tuple[str, Target]:
        """Split ``code_src`` into the URI and a Target; a file not ending in ``.py`` is an archive."""
        uri, options = split_options(code_src, OPTIONS)
        filename = PurePosixPath(unquote(urlparse(uri).path)).name
        archive = not filename.endswith(".py") if archive is None else archive
        pinned = options.get("sha256")
        if pinned is not None and not _SHA256.match(pinned):
            raise source_error(code_src, f"sha256={pinned!r} is not 64 lowercase hex digits")
        if options.get("path") and not archive:
            raise source_error(
                code_src, "path= picks a folder or file inside an archive; this source is a single .py file"
            )
        return uri, cls(code_src, filename, archive, options.get("path"), pinned)

    def tree_name(self, sha256: str) -> str:
        return sha256 if self.archive else digest("module", sha256, self.filename)

    def code_tree(self, tree: Path, sha256: str) -> CodeTree:
        if self.archive:
            return select(tree, self.path, self.code_src, revision=sha256)
        return CodeTree(root=tree.resolve(), entry=(tree / self.filename).resolve(), revision=sha256)


def cached(cache_dir: Path, target: Target, sha256: str | None) -> CodeTree | None:
    """The cached tree of content ``sha256`` (the pinned or last fetched one), if present."""
    if not sha256:
        return None
    tree = cached_tree(cache_dir, target.tree_name(sha256))
    return target.code_tree(tree, sha256) if tree else None


class TooLarge(ValueError):
    """A download went past its byte budget."""


def copy_bounded(stream: BinaryIO, out: BinaryIO, budget: int) -> None:
    """Copy ``stream`` to ``out`` in chunks; TooLarge as soon as more than ``budget`` bytes came."""
    left = budget
    while chunk := stream.read(CHUNK):
        left -= len(chunk)
        if left < 0:
            raise TooLarge(f"more than {budget} bytes")
        out.write(chunk)


def save(stream: BinaryIO, dest: Path, code_src: str) -> None:
    """Copy a download to ``dest``, refusing more than DIGITALHUB_MAX_ARCHIVE_BYTES."""
    try:
        with dest.open("wb") as out:
            copy_bounded(stream, out, Limits.from_env().max_bytes)
    except TooLarge:
        raise source_error(
            code_src, "download is larger than DIGITALHUB_MAX_ARCHIVE_BYTES; raise the limit if intended"
        ) from None


def build(cache_dir: Path, target: Target, file: Path) -> CodeTree:
    """Store a fetched file's tree under its sha256 (checked against a pin); ``revision`` is that sha256."""
    sha256 = file_digest(file)
    if target.sha256 and sha256 != target.sha256:
        raise source_error(
            target.code_src, f"content has sha256 {sha256}, not the pinned {target.sha256}: fix the pin or the upload"
        )

    def fill(folder: Path) -> None:
        if target.archive:
            extract(file, folder, target.code_src)
        else:
            shutil.copyfile(file, folder / target.filename)

    return target.code_tree(store_tree(cache_dir, target.tree_name(sha256), fill), sha256)
