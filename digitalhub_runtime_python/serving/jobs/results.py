"""A job's return value as its outcome: JSON kept in the job store or, past a size limit or when the request asked
for it pickled, a file in the project's artifact store that the job points to (``result_url``: ``file://``
locally, a presigned ``https://`` URL on S3)."""

from __future__ import annotations

import json
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.concurrency import iterate_in_threadpool

from digitalhub_runtime_python.serving.jobs.records import JobStatus, Outcome
from digitalhub_runtime_python.serving.responses import is_stream, json_bytes
from digitalhub_runtime_python.stores.files import FileStore

MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # the longest an S3 (SigV4) presigned URL may live


class ResultStoreError(RuntimeError):
    """A large result could not be put in the artifact store; the message says why and what to change."""


async def collect(value: Any) -> Any:
    """A stream's items as a list (sync generators run in a worker thread); other values as they are."""
    if not is_stream(value):
        return value
    if hasattr(value, "__aiter__"):
        return [item async for item in value]
    return [item async for item in iterate_in_threadpool(value)]


def presign(uri: str, seconds: float) -> str:
    """An ``https://`` URL anyone holding it may GET ``s3://bucket/key`` with, for ``seconds``."""
    from digitalhub_runtime_python.s3 import s3_client, split_uri

    bucket, key = split_uri(uri)
    return s3_client().generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=int(min(seconds, MAX_PRESIGN_SECONDS))
    )


class ResultWriter:
    """Results up to ``limit`` bytes of JSON stay in the job store (0: no limit); larger ones, and pickled ones, are
    written under ``folder`` of the artifact store that ``files()`` opens, reachable for ``url_ttl`` seconds."""

    def __init__(self, limit: int, files: Callable[[], FileStore], folder: str, url_ttl: float):
        self.limit, self.files, self.folder, self.url_ttl = limit, files, folder, url_ttl

    async def outcome(self, job_id: str, value: Any, pickled: bool = False) -> Outcome:
        """SUCCESS with the value as JSON, or with the URL of the stored file when the JSON is over the limit or
        ``pickled`` asks for the value pickled."""
        value = await collect(value)
        if pickled:
            return await self.pickled(job_id, value)
        data = json_bytes(value)
        if not self.limit or len(data) <= self.limit:
            return Outcome(JobStatus.SUCCESS, result=json.loads(data))
        why = f"the result is {len(data)} bytes, over DIGITALHUB_SERVE_JOB_RESULT_LIMIT ({self.limit})"
        return Outcome(
            JobStatus.SUCCESS, result_url=await anyio.to_thread.run_sync(self._store, f"{job_id}.json", data, why)
        )

    async def pickled(self, job_id: str, value: Any) -> Outcome:
        """SUCCESS with the URL of the value pickled into the artifact store."""
        try:
            data = await anyio.to_thread.run_sync(pickle.dumps, value)
        except Exception as exc:
            raise ResultStoreError(f"the result cannot be pickled ({type(exc).__name__}: {exc})") from exc
        why = "the request asked for the result pickled"
        return Outcome(
            JobStatus.SUCCESS, result_url=await anyio.to_thread.run_sync(self._store, f"{job_id}.pkl", data, why)
        )

    def _store(self, filename: str, data: bytes, why: str) -> str:
        try:
            files = self.files()
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder, filename)
                path.write_bytes(data)
                uri = files.upload(path, f"{self.folder}/{filename}")
            return presign(uri, self.url_ttl) if uri.startswith("s3://") else uri
        except Exception as exc:
            raise ResultStoreError(f"{why}, and storing it in the artifact store failed: {exc}") from exc
