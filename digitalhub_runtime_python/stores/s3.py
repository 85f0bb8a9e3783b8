"""Artifact and dataitem files on S3 or an S3-compatible store (MinIO...): the ``s3://`` file store."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from digitalhub_runtime_python.s3 import object_exists, s3_client, s3_errors, s3_problem, split_uri


class S3Files:
    """Files under ``s3://bucket/prefix``, implementing the FileStore protocol."""

    def __init__(self, base_uri: str):
        self.bucket, self.prefix = split_uri(base_uri)

    def _key(self, dest: str) -> str:
        return str(PurePosixPath(self.prefix, dest)) if self.prefix else dest

    def upload(self, src: Path, dest: str) -> str:
        src, key = Path(src), self._key(dest)
        files = sorted(p for p in src.rglob("*") if p.is_file()) if src.is_dir() else [src]
        client = s3_client()
        for file in files:
            file_key = f"{key}/{file.relative_to(src).as_posix()}" if src.is_dir() else key
            try:
                client.upload_file(str(file), self.bucket, file_key)
            except s3_errors() as exc:
                raise OSError(s3_problem(exc, self.bucket, file_key)) from None
        return f"s3://{self.bucket}/{key}"

    def download(self, uri: str, dest: Path) -> Path:
        bucket, key = split_uri(uri)
        client = s3_client()
        name = PurePosixPath(key.rstrip("/")).name
        try:
            folder = key.rstrip("/") + "/"
            objects = (
                [(key, Path(name))]
                if object_exists(client, bucket, key)
                else [
                    (item["Key"], Path(name, *PurePosixPath(item["Key"][len(folder) :]).parts))
                    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder)
                    for item in page.get("Contents", [])
                ]
            )
            if not objects:
                raise FileNotFoundError(f"{uri} does not exist (no object and no folder under that key)")
            root = Path(dest).resolve()
            for object_key, relative in objects:
                target = (root / relative).resolve()
                if ".." in relative.parts or not target.is_relative_to(root):
                    raise OSError(
                        f"{uri}: object key {object_key!r} would land outside {root}; refusing to download it"
                    )
                target.parent.mkdir(parents=True, exist_ok=True)
                client.download_file(bucket, object_key, str(target))
        except s3_errors() as exc:
            raise OSError(s3_problem(exc, bucket, key)) from None
        return Path(dest) / name

    def remove(self, uri: str) -> None:
        bucket, key = split_uri(uri)
        client = s3_client()
        try:
            keys = [key] if object_exists(client, bucket, key) else []
            folder = key.rstrip("/") + "/"
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder):
                keys += [item["Key"] for item in page.get("Contents", [])]
            for start in range(0, len(keys), 1000):  # the most one DeleteObjects call takes
                batch = [{"Key": k} for k in keys[start : start + 1000]]
                client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        except s3_errors() as exc:
            raise OSError(s3_problem(exc, bucket, key)) from None
