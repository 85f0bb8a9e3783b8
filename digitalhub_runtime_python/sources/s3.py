"""Code on S3: ``zip+s3://bucket/key.zip`` (an archive) and ``s3://bucket/key`` (a .py file or archive).

Each fetch asks S3 for the object's ETag/VersionId (one HEAD request) and downloads only when that changed
since the last fetch; with ``#sha256=<hex>`` a cached source needs no request at all.
"""

from __future__ import annotations

from pathlib import Path

from digitalhub_runtime_python.extras import require

from .base import CodeTree, register_fetcher, source_error
from .cache import digest, read_index, staging, write_index
from .downloads import Target, build, cached, save


def fetch_zip_s3(code_src: str, cache_dir: Path) -> CodeTree:
    """Fetch and extract an archive from S3."""
    return _fetch(code_src, cache_dir, archive=True)


def fetch_s3(code_src: str, cache_dir: Path) -> CodeTree:
    """Fetch a .py file (or an archive, by its name) from S3."""
    return _fetch(code_src, cache_dir, archive=None)


def _fetch(code_src: str, cache_dir: Path, archive: bool | None) -> CodeTree:
    uri, target = Target.parse(code_src, archive)
    if tree := cached(cache_dir, target, target.sha256):
        return tree
    require("s3")
    from botocore.exceptions import BotoCoreError, ClientError

    from ..stores.s3 import s3_client, s3_problem, split_uri

    try:
        bucket, key = split_uri(uri)
    except ValueError as exc:
        raise source_error(code_src, str(exc)) from None
    if not key:
        raise source_error(code_src, "no object key: use s3://<bucket>/<key>")
    client = s3_client()
    index_key = digest("s3", client.meta.endpoint_url, bucket, key)
    try:
        head = client.head_object(Bucket=bucket, Key=key)
        version = f"{head.get('ETag', '')}|{head.get('VersionId', '')}"
        known = read_index(cache_dir, index_key)
        if known.get("version") == version and (tree := cached(cache_dir, target, known.get("sha256"))):
            return tree
        with staging(cache_dir) as scratch:
            pin = {"VersionId": head["VersionId"]} if head.get("VersionId") else {"IfMatch": head["ETag"]}
            with client.get_object(Bucket=bucket, Key=key, **pin)["Body"] as body:
                save(body, scratch / "download", code_src)
            tree = build(cache_dir, target, scratch / "download")
    except (BotoCoreError, ClientError) as exc:
        raise source_error(code_src, s3_problem(exc, bucket, key)) from None
    write_index(cache_dir, index_key, {"version": version, "sha256": str(tree.revision)})
    return tree


register_fetcher("zip+s3", fetch_zip_s3)
register_fetcher("s3", fetch_s3)
