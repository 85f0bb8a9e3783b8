"""http(s) sources against a plain http.server on loopback."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

from digitalhub_runtime_python.sources.base import SourceError
from digitalhub_runtime_python.sources.cache import file_digest
from digitalhub_runtime_python.sources.http import fetch_http
from tests.servers.static_http import StaticServer

pytestmark = pytest.mark.integration


def publish_archive(server: StaticServer, name: str, files: dict[str, str], mtime: int = 1_700_000_000) -> Path:
    staging = server.root.parent / "staging" / name
    for rel, text in files.items():
        (staging / rel).parent.mkdir(parents=True, exist_ok=True)
        (staging / rel).write_text(text)
    archive = server.root / name
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(staging, arcname=".")
    os.utime(archive, (mtime, mtime))
    return archive


CODE = {"app/__init__.py": "", "app/main.py": "def run():\n    return 'v1'\n"}


def test_archive_and_path(static_server: StaticServer, tmp_path: Path) -> None:
    publish_archive(static_server, "code.tgz", CODE)
    tree = fetch_http(f"{static_server.base_url}/code.tgz", tmp_path / "cache")
    assert tree.entry is None and (tree.root / "app" / "main.py").is_file()
    entry = fetch_http(f"{static_server.base_url}/code.tgz#path=app/main.py", tmp_path / "cache")
    assert entry.entry == tree.root / "app" / "main.py"


def test_single_file(static_server: StaticServer, tmp_path: Path) -> None:
    (static_server.root / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    tree = fetch_http(f"{static_server.base_url}/calc.py", tmp_path / "cache")
    assert tree.entry == tree.root / "calc.py" and tree.entry.read_text().startswith("def add")


def test_not_found(static_server: StaticServer, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"code_src 'http://127.0.0.1:\d+/missing.py': the server answered HTTP 404"):
        fetch_http(f"{static_server.base_url}/missing.py", tmp_path / "cache")


def test_unreachable(tmp_path: Path) -> None:
    with StaticServer(tmp_path) as server:
        url = f"{server.base_url}/calc.py"
    with pytest.raises(SourceError, match="cannot download .*check the URL and the network"):
        fetch_http(url, tmp_path / "cache")


def test_unchanged_file_is_revalidated_not_downloaded(static_server: StaticServer, tmp_path: Path) -> None:
    publish_archive(static_server, "code.tgz", CODE)
    url, cache = f"{static_server.base_url}/code.tgz", tmp_path / "cache"
    first = fetch_http(url, cache)
    second = fetch_http(url, cache)
    assert first == second
    assert static_server.requests[0] == "GET /code.tgz"
    assert (
        static_server.requests[1].startswith("GET /code.tgz ") and "GMT" in static_server.requests[1]
    )  # If-Modified-Since


def test_changed_file_is_downloaded_again(static_server: StaticServer, tmp_path: Path) -> None:
    publish_archive(static_server, "code.tgz", CODE)
    url, cache = f"{static_server.base_url}/code.tgz", tmp_path / "cache"
    first = fetch_http(url, cache)
    publish_archive(
        static_server, "code.tgz", {**CODE, "app/main.py": "def run():\n    return 'v2'\n"}, mtime=1_700_000_100
    )
    second = fetch_http(url, cache)
    assert first.revision != second.revision and "v2" in (second.root / "app" / "main.py").read_text()


def test_pinned_sha256_needs_no_request_once_cached(static_server: StaticServer, tmp_path: Path) -> None:
    archive = publish_archive(static_server, "code.tgz", CODE)
    url = f"{static_server.base_url}/code.tgz#sha256={file_digest(archive)}"
    first = fetch_http(url, tmp_path / "cache")
    archive.unlink()
    assert fetch_http(url, tmp_path / "cache") == first and len(static_server.requests) == 1


def test_path_option_on_a_single_file_is_refused(static_server: StaticServer, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="path= picks a folder or file inside an archive"):
        fetch_http(f"{static_server.base_url}/calc.py#path=x", tmp_path / "cache")
