"""Fetch a function's code into a local tree, from any source its spec names.

Remote sources register themselves by scheme: ``git+https`` (git.py), ``zip+s3`` and ``s3`` (s3.py),
``http`` and ``https`` (http.py). See docs/sources.md for the forms ``code_src`` takes.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from ..models import FunctionSpec
from . import git, http, s3  # noqa: F401  (register their fetchers)
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
        return local_path(code_src, cache_dir)
    _refuse_credentials(code_src)
    try:
        fetcher = FETCHERS[scheme]
    except KeyError:
        known = ", ".join(sorted(FETCHERS)) or "none"
        raise SourceError(
            f"code_src {code_src!r}: unsupported scheme {scheme!r} (registered: {known}; or a local path)"
        ) from None
    return fetcher(code_src, cache_dir)


def _refuse_credentials(code_src: str) -> None:
    """code_src is stored with the function, so it must not carry a user or password."""
    parsed = urlparse(code_src)
    if parsed.username is not None or parsed.password is not None:
        shown = parsed._replace(
            netloc=f"***@{parsed.hostname or ''}{f':{parsed.port}' if parsed.port else ''}"
        ).geturl()
        raise SourceError(
            f"code_src {shown!r}: credentials in the URL would be stored with the function; remove them and set "
            "GIT_TOKEN/GIT_USER (git) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (S3) in the environment or a secret"
        )


__all__ = ["CodeTree", "Fetcher", "SourceError", "materialize", "register_fetcher", "scheme_of"]
