"""Artifact and dataitem files on S3 or an S3-compatible store (MinIO...): the ``s3://`` file store."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from digitalhub_runtime_python.s3 import object_head, s3_client, s3_errors, s3_problem, split_uri
from digitalhub_runtime_python.stores.files import download_target, files_under
from digitalhub_runtime_python.stores.progress import transfer_progress


class S3Files:
    """Files under ``s3://bucket/prefix``, implementing the FileStore protocol."""

    def __init__(self, base_uri: str):
        self.bucket, self.prefix = split_uri(base_uri)

    def _key(self, dest: str) -> str:
        return str(PurePosixPath(self.prefix, dest)) if self.prefix else dest

    def upload(self, src: Path, dest: str) -> str:
        src, key = Path(src), self._key(dest)
        files = files_under(src)
        client = s3_client()
        with transfer_progress(f"uploading {src.name}", sum(f.stat().st_size for f in files)) as advance:
            for file in files:
                file_key = f"{key}/{file.relative_to(src).as_posix()}" if src.is_dir() else key
                try:
                    client.upload_file(str(file), self.bucket, file_key, Callback=advance)
                except s3_errors() as exc:
                    raise OSError(s3_problem(exc, self.bucket, file_key)) from None
        return f"s3://{self.bucket}/{key}"

    def download(self, uri: str, destination: str | Path) -> Path:
        bucket, key = split_uri(uri)
        client = s3_client()
        name = PurePosixPath(key.rstrip("/")).name
        try:
            head = object_head(client, bucket, key)
            objects = [(key, Path(), head["ContentLength"])] if head else _objects(client, bucket, key)
            if not objects:
                raise FileNotFoundError(f"{uri} does not exist (no object and no folder under that key)")
            target = download_target(destination, name, is_file=head is not None)
            root = target.resolve()
            with transfer_progress(f"downloading {name}", sum(size for _, _, size in objects)) as advance:
                for object_key, relative, _ in objects:
                    path = (root / relative).resolve()
                    if ".." in relative.parts or not path.is_relative_to(root):
                        raise OSError(
                            f"{uri}: object key {object_key!r} would land outside {root}; refusing to download it"
                        )
                    path.parent.mkdir(parents=True, exist_ok=True)
                    client.download_file(bucket, object_key, str(path), Callback=advance)
        except s3_errors() as exc:
            raise OSError(s3_problem(exc, bucket, key)) from None
        return target

    def remove(self, uri: str) -> None:
        bucket, key = split_uri(uri)
        client = s3_client()
        try:
            keys = [key] if object_head(client, bucket, key) else []
            folder = key.rstrip("/") + "/"
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder):
                keys += [item["Key"] for item in page.get("Contents", [])]
            for start in range(0, len(keys), 1000):  # the most one DeleteObjects call takes
                batch = [{"Key": k} for k in keys[start : start + 1000]]
                client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        except s3_errors() as exc:
            raise OSError(s3_problem(exc, bucket, key)) from None


def _objects(client: Any, bucket: str, key: str) -> list[tuple[str, Path, int]]:
    """(key, path inside the download, size) of each object in folder ``key``."""
    folder = key.rstrip("/") + "/"
    return [
        (item["Key"], Path(*PurePosixPath(item["Key"][len(folder) :]).parts), item["Size"])
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder)
        for item in page.get("Contents", [])
    ]
