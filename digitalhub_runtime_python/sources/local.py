"""Code given inline, as base64, or as a local file, folder or archive."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from digitalhub_runtime_python.sources.archives import ARCHIVE_SUFFIXES, is_archive_name
from digitalhub_runtime_python.sources.base import CodeTree, SourceError
from digitalhub_runtime_python.sources.cache import digest, store_tree
from digitalhub_runtime_python.sources.downloads import Target, build

INLINE_MODULE = "main.py"


def write_inline(code: str, cache_dir: Path) -> CodeTree:
    """Write inline code once per content, atomically, as ``main.py`` of a cached tree."""

    def write(folder: Path) -> None:
        (folder / INLINE_MODULE).write_text(code)

    tree = store_tree(cache_dir, digest("inline", code), write)
    return CodeTree(root=tree, entry=tree / INLINE_MODULE)


def decode_base64(text: str) -> str:
    """Decode base64-encoded source; the error says which field is wrong."""
    try:
        return base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise SourceError(
            f"base64: not valid base64-encoded UTF-8 source ({exc}); encode the file with base64.b64encode"
        ) from None


def local_path(code_src: str, cache_dir: Path) -> CodeTree:
    """A local file (its folder goes on sys.path), folder, or archive (extracted into the cache)."""
    path = Path(code_src).expanduser()
    if path.is_file():
        if is_archive_name(path.name):
            return build(cache_dir, Target(code_src, path.name, archive=True), path)
        if path.suffix != ".py":
            raise SourceError(
                f"code_src {code_src!r}: a local file must be a .py file or an archive ({', '.join(ARCHIVE_SUFFIXES)})"
            )
        return CodeTree(root=path.parent.resolve(), entry=path.resolve())
    if path.is_dir():
        return CodeTree(root=path.resolve())
    raise SourceError(f"code_src {code_src!r}: no such file or folder (relative paths start at {Path.cwd()})")
