"""Where a function's code ends up once fetched, and helpers every fetcher shares: ``#key=value`` options and
picking a sub-folder or entry file of a fetched tree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qsl, urlparse


class SourceError(ValueError):
    """Code could not be fetched; the message names the source and the fix."""


@dataclass(frozen=True)
class CodeTree:
    """Fetched code: ``root`` goes on ``sys.path``; ``entry`` is the file holding a bare handler, if any.

    ``revision`` says what a remote source resolved to (commit sha, content sha256), for the record.
    """

    root: Path
    entry: Path | None = None
    revision: str | None = None


Fetcher = Callable[[str, Path], CodeTree]
"""``fetcher(code_src, cache_dir)`` brings the code a URI names into the cache and says where it is."""


def scheme_of(code_src: str) -> str:
    """URI scheme of a code source; '' for a local path (Windows drive letters count as local)."""
    scheme = urlparse(code_src).scheme
    return "" if len(scheme) <= 1 else scheme


def source_error(code_src: str, problem: str) -> SourceError:
    """A SourceError naming the field and the source."""
    return SourceError(f"code_src {code_src!r}: {problem}")


def split_options(code_src: str, allowed: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """Split ``uri#key=value&key=value`` into the URI and its options (never sent to any server)."""
    uri, _, fragment = code_src.partition("#")
    try:
        pairs = parse_qsl(fragment, keep_blank_values=True, strict_parsing=bool(fragment))
    except ValueError:
        pairs = None
    options = dict(pairs or [])
    if pairs is None or len(options) != len(pairs) or not set(options) <= set(allowed):
        usage = "&".join(f"{key}=..." for key in allowed)
        raise source_error(
            code_src, f"cannot read the options after '#' ({fragment!r}): use #{usage}, each at most once"
        )
    return uri, options


def select(tree: Path, subpath: str | None, code_src: str, revision: str | None = None) -> CodeTree:
    """The whole fetched tree, or the folder or ``.py`` file (then the entry) that ``path=`` names inside it."""
    root = tree.resolve()
    if not subpath:
        return CodeTree(root=root, revision=revision)
    rel = PurePosixPath(subpath)
    target = (root / rel).resolve()
    if rel.is_absolute() or ".." in rel.parts or not target.is_relative_to(root):
        raise source_error(code_src, f"path={subpath!r} must be a relative path inside the source, without '..'")
    if target.is_dir():
        return CodeTree(root=target, revision=revision)
    if target.is_file() and target.suffix == ".py":
        return CodeTree(root=target.parent, entry=target, revision=revision)
    raise source_error(code_src, f"path={subpath!r} is not a folder or a .py file in the fetched source")
