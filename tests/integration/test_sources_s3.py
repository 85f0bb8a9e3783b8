"""zip+s3 and s3 sources, the S3 file store and pack_to_s3 against moto's S3 server on loopback."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from digitalhub_runtime_python.sources.base import SourceError
from digitalhub_runtime_python.sources.s3 import fetch_s3, fetch_zip_s3
from digitalhub_runtime_python.sources.upload import pack_to_s3
from digitalhub_runtime_python.stores.files import file_store_for
from digitalhub_runtime_python.stores.s3 import s3_client
from tests.servers.s3 import S3Server

pytestmark = pytest.mark.integration


def zip_bytes(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buffer.getvalue()


def put(bucket: str, key: str, body: bytes) -> None:
    s3_client().put_object(Bucket=bucket, Key=key, Body=body)


CODE = {"pkg/__init__.py": "", "pkg/mod.py": "def f():\n    return 'zip'\n"}


def test_zip_s3_archive_and_path(bucket: str, tmp_path: Path) -> None:
    put(bucket, "code/app.zip", zip_bytes(CODE))
    tree = fetch_zip_s3(f"zip+s3://{bucket}/code/app.zip", tmp_path / "cache")
    assert tree.entry is None and (tree.root / "pkg" / "mod.py").is_file() and len(tree.revision or "") == 64
    module = fetch_zip_s3(f"zip+s3://{bucket}/code/app.zip#path=pkg/mod.py", tmp_path / "cache")
    assert module.entry == tree.root / "pkg" / "mod.py"


def test_s3_single_file(bucket: str, tmp_path: Path) -> None:
    put(bucket, "handlers/calc.py", b"def add(a, b):\n    return a + b\n")
    tree = fetch_s3(f"s3://{bucket}/handlers/calc.py", tmp_path / "cache")
    assert tree.entry == tree.root / "calc.py" and tree.entry.read_text().startswith("def add")


def test_s3_key_not_ending_in_py_is_an_archive(bucket: str, tmp_path: Path) -> None:
    put(bucket, "releases/app-1.0", zip_bytes(CODE))
    tree = fetch_s3(f"s3://{bucket}/releases/app-1.0#path=pkg", tmp_path / "cache")
    assert tree.root.name == "pkg" and (tree.root / "mod.py").is_file()


def test_missing_key(bucket: str, tmp_path: Path) -> None:
    with pytest.raises(
        SourceError, match=f"code_src 's3://{bucket}/nope.py': no object s3://{bucket}/nope.py: check the key"
    ):
        fetch_s3(f"s3://{bucket}/nope.py", tmp_path / "cache")


def test_wrong_bucket(s3_env: None, tmp_path: Path) -> None:
    with pytest.raises(
        SourceError, match="bucket 'no-such-bucket' does not exist at http://127.0.0.1:.*S3_ENDPOINT_URL"
    ):
        fetch_zip_s3("zip+s3://no-such-bucket/app.zip", tmp_path / "cache")


def test_cache_hit_sends_no_get_object(bucket: str, s3_server: S3Server, tmp_path: Path) -> None:
    put(bucket, "app.zip", zip_bytes(CODE))
    path, cache = f"/{bucket}/app.zip", tmp_path / "cache"
    first = fetch_zip_s3(f"zip+s3://{bucket}/app.zip", cache)
    assert s3_server.count("GET", path) == 1
    second = fetch_zip_s3(f"zip+s3://{bucket}/app.zip", cache)
    assert second == first and s3_server.count("GET", path) == 1 and s3_server.count("HEAD", path) == 2


def test_changed_object_is_fetched_again(bucket: str, s3_server: S3Server, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    put(bucket, "app.zip", zip_bytes(CODE))
    first = fetch_zip_s3(f"zip+s3://{bucket}/app.zip", cache)
    put(bucket, "app.zip", zip_bytes({**CODE, "pkg/mod.py": "def f():\n    return 'new'\n"}))
    second = fetch_zip_s3(f"zip+s3://{bucket}/app.zip", cache)
    assert first.revision != second.revision and "new" in (second.root / "pkg" / "mod.py").read_text()
    assert s3_server.count("GET", f"/{bucket}/app.zip") == 2


def test_pack_to_s3_round_trip_needs_no_request_once_cached(bucket: str, s3_server: S3Server, tmp_path: Path) -> None:
    code = tmp_path / "code"
    (code / "pkg").mkdir(parents=True)
    (code / "pkg" / "mod.py").write_text("def f():\n    return 1\n")
    (code / "pkg" / "__pycache__").mkdir()
    (code / "pkg" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"junk")
    uri = pack_to_s3(code, f"s3://{bucket}/artifacts", "demo")
    assert uri.startswith(f"zip+s3://{bucket}/artifacts/demo/code/") and "#sha256=" in uri
    puts = s3_server.count("PUT", uri.partition("#")[0].removeprefix("zip+s3:/"))
    assert pack_to_s3(code, f"s3://{bucket}/artifacts", "demo") == uri
    assert s3_server.count("PUT", uri.partition("#")[0].removeprefix("zip+s3:/")) == puts == 1  # re-upload is a no-op

    cache = tmp_path / "cache"
    tree = fetch_zip_s3(uri, cache)
    assert sorted(str(p.relative_to(tree.root)) for p in tree.root.rglob("*")) == ["pkg", "pkg/mod.py"]
    seen = len(s3_server.requests)
    assert fetch_zip_s3(uri, cache) == tree and len(s3_server.requests) == seen


def test_pack_single_file_points_at_it(bucket: str, tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    uri = pack_to_s3(tmp_path / "calc.py", f"s3://{bucket}", "demo")
    tree = fetch_zip_s3(uri, tmp_path / "cache")
    assert tree.entry is not None and tree.entry.name == "calc.py"


def test_pinned_content_must_match(bucket: str, tmp_path: Path) -> None:
    put(bucket, "app.zip", zip_bytes(CODE))
    with pytest.raises(SourceError, match=f"content has sha256 .*, not the pinned {'a' * 64}"):
        fetch_zip_s3(f"zip+s3://{bucket}/app.zip#sha256={'a' * 64}", tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("trees/*"))


def test_pack_to_s3_needs_an_s3_store(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="artifact_store '/data': code for remote runs goes to S3"):
        pack_to_s3(tmp_path, "/data", "demo")


def test_s3_file_store_round_trip(bucket: str, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    (folder / "weights").mkdir(parents=True)
    (folder / "weights" / "w.bin").write_bytes(b"\x00\x01")
    (folder / "card.md").write_text("# model")
    store = file_store_for(f"s3://{bucket}/artifacts")
    folder_uri = store.upload(folder, "demo/model")
    file_uri = store.upload(folder / "card.md", "demo/card.md")
    assert (folder_uri, file_uri) == (f"s3://{bucket}/artifacts/demo/model", f"s3://{bucket}/artifacts/demo/card.md")

    back = store.download(folder_uri, tmp_path / "back")
    assert back == tmp_path / "back" / "model" and (back / "weights" / "w.bin").read_bytes() == b"\x00\x01"
    assert store.download(file_uri, tmp_path / "back").read_text() == "# model"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        store.download(f"s3://{bucket}/artifacts/missing", tmp_path / "back")


def test_s3_file_store_refuses_keys_escaping_the_folder(bucket: str, tmp_path: Path) -> None:
    put(bucket, "art/x/../../../evil", b"x")
    with pytest.raises(OSError, match="would land outside"):
        file_store_for(f"s3://{bucket}").download(f"s3://{bucket}/art/x", tmp_path / "dest")
    assert not (tmp_path / "evil").exists()
