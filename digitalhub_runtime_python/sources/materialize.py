"""Fetch a function's code into a local tree, from any source its spec names.

Remote sources are served by scheme: ``git+https`` (git.py), ``zip+s3`` and ``s3`` (s3.py), ``http`` and ``https``
(http.py); a fetcher's module is imported when a source of its scheme is first fetched, so a run of local code
loads none of them. See docs/sources.md for the forms ``code_src`` takes.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from pathlib import Path

from digitalhub_runtime_python.contract import ENV_IMAGE_CODE, ENV_IMAGE_CODE_ENTRY, IMAGE_CODE, code_fingerprint
from digitalhub_runtime_python.models.function import FunctionSpec
from digitalhub_runtime_python.models.redaction import credentials_in, mask_url
from digitalhub_runtime_python.sources.base import CodeTree, Fetcher, SourceError, scheme_of
from digitalhub_runtime_python.sources.local import decode_base64, local_path, write_inline

BUILTIN_FETCHERS = {
    "git+https": "digitalhub_runtime_python.sources.git:fetch_git",
    "zip+s3": "digitalhub_runtime_python.sources.s3:fetch_zip_s3",
    "s3": "digitalhub_runtime_python.sources.s3:fetch_s3",
    "http": "digitalhub_runtime_python.sources.http:fetch_http",
    "https": "digitalhub_runtime_python.sources.http:fetch_http",
}
_registered: dict[str, Fetcher] = {}


def register_fetcher(scheme: str, fetcher: Fetcher) -> None:
    """Serve ``code_src`` URIs of ``scheme`` with ``fetcher(uri, cache_dir)`` (a built-in one included)."""
    _registered[scheme] = fetcher


def fetcher_for(scheme: str, code_src: str) -> Fetcher:
    """The fetcher serving ``scheme``; a SourceError naming the known schemes when there is none."""
    fetcher = _registered.get(scheme)
    if fetcher is None and scheme in BUILTIN_FETCHERS:
        module, _, name = BUILTIN_FETCHERS[scheme].partition(":")
        fetcher = _registered[scheme] = getattr(importlib.import_module(module), name)
    if fetcher is None:
        known = ", ".join(sorted({*BUILTIN_FETCHERS, *_registered}))
        raise SourceError(
            f"code_src {code_src!r}: unsupported scheme {scheme!r} (registered: {known}; or a local path)"
        )
    return fetcher


def in_image(spec: FunctionSpec, environ: Mapping[str, str]) -> CodeTree | None:
    """The function's code where an image built for it holds it, if this process runs in such an image."""
    if not environ.get(ENV_IMAGE_CODE) or environ[ENV_IMAGE_CODE] != code_fingerprint(spec):
        return None
    root = Path(IMAGE_CODE)
    entry = environ.get(ENV_IMAGE_CODE_ENTRY)
    return CodeTree(root=root, entry=root / entry if entry else None)


def materialize(spec: FunctionSpec, cache_dir: Path) -> CodeTree:
    """Bring the function's code to a local folder and say where the entry is: the image's copy when this process
    runs in an image built for this code, else from the source the spec names."""
    baked = in_image(spec, os.environ)
    if baked is not None:
        return baked
    if spec.code is not None:
        return write_inline(spec.code, cache_dir)
    if spec.base64 is not None:
        return write_inline(decode_base64(spec.base64), cache_dir)
    code_src = spec.code_src or ""
    scheme = scheme_of(code_src)
    if not scheme:
        return local_path(code_src, cache_dir)
    refuse_credentials(code_src)
    return fetcher_for(scheme, code_src)(code_src, cache_dir)


def refuse_credentials(code_src: str) -> None:
    """code_src is stored with the function, so it must not carry credentials (stored before they were refused)."""
    found = credentials_in(code_src)
    if found:
        raise SourceError(
            f"code_src {mask_url(code_src)!r}: credentials in the URL ({', '.join(found)}) would be stored with the "
            "function; remove them and set GIT_TOKEN/GIT_USER (git) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (S3) "
            "in the environment or a secret"
        )
