"""Fetch a function's code into a local tree, from any source its spec names."""

from __future__ import annotations

from pathlib import Path

from ..models import FunctionSpec
from .base import FETCHERS, CodeTree, Fetcher, SourceError, register_fetcher, scheme_of
from .local import decode_base64, local_path, write_inline


def materialize(spec: FunctionSpec, cache_dir: Path) -> CodeTree:
    """Bring the function's code to a local folder and say where the entry is."""
    if spec.code is not None:
        return write_inline(spec.code, cache_dir)
    if spec.base64 is not None:
        return write_inline(decode_base64(spec.base64), cache_dir)
    code_src = spec.code_src or ""
    scheme = scheme_of(code_src)
    if not scheme:
        return local_path(code_src)
    try:
        fetcher = FETCHERS[scheme]
    except KeyError:
        known = ", ".join(sorted(FETCHERS)) or "none"
        raise SourceError(f"code_src {code_src!r}: unsupported scheme {scheme!r} (registered: {known}; or a local path)") from None
    return fetcher(code_src, cache_dir)


__all__ = ["CodeTree", "Fetcher", "SourceError", "materialize", "register_fetcher", "scheme_of"]
