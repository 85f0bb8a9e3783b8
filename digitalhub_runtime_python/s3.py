"""The S3 client every part of the runtime shares (artifact files, code sources), and readable S3 errors.

Configuration comes from the environment: ``S3_ENDPOINT_URL`` (unset for AWS), ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN`` and ``AWS_DEFAULT_REGION`` (default ``us-east-1``).
boto3 is imported on first use only.
"""

from __future__ import annotations

import functools
import os
from typing import Any
from urllib.parse import unquote, urlparse

from digitalhub_runtime_python.extras import require

DEFAULT_REGION = "us-east-1"


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/key`` (any ``<x>+s3`` scheme too) -> ``("bucket", "some/key")``."""
    parsed = urlparse(uri)
    if parsed.scheme.rpartition("+")[2] != "s3" or not parsed.netloc:
        raise ValueError(f"{uri!r} is not an S3 URI: use s3://<bucket>/<key>")
    return parsed.netloc, unquote(parsed.path).lstrip("/")


def s3_client() -> Any:
    """A boto3 S3 client for the current environment (one per distinct configuration, per process)."""
    env = os.environ
    region = env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or DEFAULT_REGION
    return _client(
        env.get("S3_ENDPOINT_URL") or None,
        region,
        env.get("AWS_ACCESS_KEY_ID"),
        env.get("AWS_SECRET_ACCESS_KEY"),
        env.get("AWS_SESSION_TOKEN"),
    )


@functools.lru_cache(maxsize=8)
def _client(endpoint: str | None, region: str, key_id: str | None, secret: str | None, token: str | None) -> Any:
    require("s3")
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=5,
        read_timeout=60,
        retries={"max_attempts": 3, "mode": "standard"},
        s3={"addressing_style": "path"} if endpoint else {},
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=config,
    )


def s3_problem(exc: Exception, bucket: str, key: str) -> str:
    """A readable account of a failed S3 call, with the likely fix; never includes credentials."""
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

    where = f"s3://{bucket}/{key}"
    endpoint = os.environ.get("S3_ENDPOINT_URL") or "the AWS default endpoint"
    if isinstance(exc, NoCredentialsError):
        return f"no S3 credentials for {where}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    if isinstance(exc, EndpointConnectionError):
        return f"cannot reach S3 at {endpoint}: check S3_ENDPOINT_URL"
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code == "NoSuchBucket" or (code in ("404", "NoSuchKey") and not _bucket_exists(bucket)):
            return f"bucket {bucket!r} does not exist at {endpoint}: check the bucket name and S3_ENDPOINT_URL"
        if code in ("404", "NoSuchKey"):
            return f"no object {where}: check the key"
        if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            return (
                f"access to {where} denied ({code}): "
                "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket policy"
            )
        return f"S3 refused {where}: {code} {exc.response.get('Error', {}).get('Message', '')}".rstrip()
    return f"S3 request for {where} failed: {type(exc).__name__}: {exc}"


def _bucket_exists(bucket: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        s3_client().head_bucket(Bucket=bucket)
    except ClientError as exc:
        return str(exc.response.get("Error", {}).get("Code", "")) not in ("404", "NoSuchBucket")
    return True


def s3_errors() -> tuple[type[Exception], ...]:
    """The exception types a failed S3 call raises."""
    require("s3")
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


def object_head(client: Any, bucket: str, key: str) -> dict[str, Any] | None:
    """The object's metadata (``ContentLength``, ``ETag``...), or None if there is no such object; other errors
    propagate."""
    from botocore.exceptions import ClientError

    try:
        return dict(client.head_object(Bucket=bucket, Key=key))
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code", "")) in ("404", "NoSuchKey"):
            return None
        raise


def object_exists(client: Any, bucket: str, key: str) -> bool:
    """True if the object exists; errors other than "not found" propagate."""
    return object_head(client, bucket, key) is not None
