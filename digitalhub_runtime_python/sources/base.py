"""Where a function's code ends up once fetched, and the registry of fetchers by URI scheme."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse


class SourceError(ValueError):
    """Code could not be fetched; the message names the source and the fix."""


@dataclass(frozen=True)
class CodeTree:
    """Fetched code: ``root`` goes on ``sys.path``; ``entry`` is the file holding a bare handler, if any."""

    root: Path
    entry: Path | None = None


Fetcher = Callable[[str, Path], CodeTree]
FETCHERS: dict[str, Fetcher] = {}


def register_fetcher(scheme: str, fetcher: Fetcher) -> None:
    """Serve ``code_src`` URIs of ``scheme`` with ``fetcher(uri, cache_dir)``."""
    FETCHERS[scheme] = fetcher


def scheme_of(code_src: str) -> str:
    """URI scheme of a code source; '' for a local path (Windows drive letters count as local)."""
    scheme = urlparse(code_src).scheme
    return "" if len(scheme) <= 1 else scheme
