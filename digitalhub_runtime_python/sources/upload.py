"""Pack local code to a ``zip+s3://`` source, so a remote run fetches exactly what was on disk.

The zip is deterministic (sorted entries, fixed timestamps and permissions; ``__pycache__``, ``.git`` and
``*.pyc`` left out) and stored under its sha256, so uploading identical code again is a no-op. The URI
carries ``#sha256=`` so the fetcher verifies the content and, once cached, needs no network.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from digitalhub_runtime_python.s3 import object_exists, s3_client, s3_errors, s3_problem, split_uri
from digitalhub_runtime_python.sources.archives import CHUNK
from digitalhub_runtime_python.sources.cache import file_digest

SKIPPED_DIRS = frozenset({"__pycache__", ".git"})
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def pack_zip(local_path: Path, archive: Path) -> None:
    """Write a deterministic zip of a folder's files, or of one file at the zip's root."""
    local_path = Path(local_path)
    if local_path.is_file():
        files = [(local_path, local_path.name)]
    else:
        files = []
        for folder, dirs, names in os.walk(local_path):
            dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
            for name in names:
                if not name.endswith(".pyc"):
                    path = Path(folder, name)
                    files.append((path, path.relative_to(local_path).as_posix()))
    with zipfile.ZipFile(archive, "w") as zf:
        for path, name in sorted(files, key=lambda item: item[1]):
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.create_system = 3  # unix, whatever the packing OS, so the bytes (and the key) do not depend on it
            info.external_attr = (0o100755 if path.stat().st_mode & 0o100 else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED  # at zlib's default level, 6
            info.file_size = path.stat().st_size  # known up front, as for writestr: same header, same bytes
            with path.open("rb") as src, zf.open(info, "w") as dest:
                shutil.copyfileobj(src, dest, CHUNK)


def pack_to_s3(local_path: Path, artifact_store: str, project: str) -> str:
    """Upload ``local_path`` (folder or .py file) as ``<store>/<project>/code/<sha256>.zip``; return its code_src."""
    local_path = Path(local_path)
    if not local_path.exists():
        raise FileNotFoundError(f"cannot pack {local_path}: no such file or folder")
    try:
        bucket, prefix = split_uri(artifact_store)
    except ValueError:
        raise ValueError(
            f"artifact_store {artifact_store!r}: code for remote runs goes to S3; set it to s3://<bucket>[/<prefix>]"
        ) from None
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp, "code.zip")
        pack_zip(local_path, archive)
        sha256 = file_digest(archive)
        key = str(PurePosixPath(prefix, project, "code", f"{sha256}.zip"))
        client = s3_client()
        try:
            if not object_exists(client, bucket, key):
                client.upload_file(str(archive), bucket, key)
        except s3_errors() as exc:
            raise OSError(f"cannot upload code to {artifact_store}: {s3_problem(exc, bucket, key)}") from None
    entry = f"&path={quote(local_path.name)}" if local_path.is_file() else ""
    return f"zip+s3://{bucket}/{key}#sha256={sha256}{entry}"
