"""Code over http(s): a ``.py`` file, or an archive (``.zip``, ``.tar.gz``, ``.tgz``; any other name too).

A refetch is a conditional GET (If-None-Match / If-Modified-Since from the last answer): a 304 reuses the
cached tree. With ``#sha256=<hex>`` a cached source needs no request at all.
"""

from __future__ import annotations

from pathlib import Path

from digitalhub_runtime_python.sources.base import CodeTree, source_error
from digitalhub_runtime_python.sources.cache import digest, read_index, staging, write_index
from digitalhub_runtime_python.sources.downloads import Target, build, cached, save

TIMEOUT = 60.0
USER_AGENT = "digitalhub-runtime-python"


def fetch_http(code_src: str, cache_dir: Path) -> CodeTree:
    """Download a file or archive over http(s) unless the cached copy is still current."""
    url, target = Target.parse(code_src)
    if tree := cached(cache_dir, target, target.sha256):
        return tree
    from http.client import HTTPException
    from urllib.error import HTTPError, URLError
    from urllib.request import Request, urlopen

    index_key = digest("http", url)
    known = read_index(cache_dir, index_key)
    previous = cached(cache_dir, target, known.get("sha256"))
    headers = {"User-Agent": USER_AGENT}
    if previous and known.get("etag"):
        headers["If-None-Match"] = known["etag"]
    if previous and known.get("last_modified"):
        headers["If-Modified-Since"] = known["last_modified"]
    try:
        with staging(cache_dir) as scratch, urlopen(Request(url, headers=headers), timeout=TIMEOUT) as response:
            save(response, scratch / "download", code_src)
            tree = build(cache_dir, target, scratch / "download")
            validators = {
                "etag": response.headers.get("ETag", ""),
                "last_modified": response.headers.get("Last-Modified", ""),
            }
    except HTTPError as exc:
        if exc.code == 304 and previous:
            return previous
        raise source_error(code_src, f"the server answered HTTP {exc.code} {exc.reason}: check the URL") from None
    except (URLError, TimeoutError, ConnectionError, HTTPException) as exc:
        raise source_error(
            code_src, f"cannot download ({getattr(exc, 'reason', exc)}): check the URL and the network"
        ) from None
    write_index(cache_dir, index_key, {"sha256": str(tree.revision), **validators})
    return tree
