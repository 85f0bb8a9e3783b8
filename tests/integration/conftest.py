"""Fixtures for integration tests: real servers on loopback and the environment that points at them."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.git_http import PASSWORD, USER, GitServer, Repo, git
from tests.servers.package_index import PackageIndex
from tests.servers.redis import RedisServer
from tests.servers.s3 import S3Server
from tests.servers.static_http import StaticServer
from tests.servers.tls import Cert, make_cert

_names = itertools.count()
INTEGRATION = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/integration uses real servers or processes: mark it, so ``-m "not integration"``
    runs the fast unit tests alone."""
    for item in items:
        if INTEGRATION in item.path.parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh embedded store for the test (DIGITALHUB_HOME), the test's folder as the current one."""
    home = tmp_path / "home"
    monkeypatch.setenv("DIGITALHUB_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    return home


@pytest.fixture(scope="session")
def cert(tmp_path_factory: pytest.TempPathFactory) -> Cert:
    return make_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def git_server(cert: Cert, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServer]:
    with GitServer(tmp_path_factory.mktemp("git-root"), cert) as server:
        yield server


@pytest.fixture
def git_env(monkeypatch: pytest.MonkeyPatch, cert: Cert) -> None:
    """Credentials and CA for the loopback git server, as a pod would get them."""
    monkeypatch.setenv("GIT_USER", USER)
    monkeypatch.setenv("GIT_TOKEN", PASSWORD)
    monkeypatch.setenv("DIGITALHUB_GIT_CA", str(cert.cert))


@pytest.fixture
def repo(git_server: GitServer, tmp_path: Path) -> Repo:
    """A fresh repository on the git server: handler.py and src/pkg/mod.py on main, tags v1 (annotated) and v0."""
    repo = Repo(git_server.root, f"repo{next(_names)}.git", tmp_path / "work")
    repo.commit(
        {
            "handler.py": "def add(a, b):\n    return a + b\n",
            "src/pkg/__init__.py": "",
            "src/pkg/mod.py": "def hello(name):\n    return f'hello {name}'\n",
        },
        "first",
    )
    git("tag", "v0", cwd=repo.work)
    git("tag", "-a", "v1", "-m", "release 1", cwd=repo.work)
    repo.push("main", "v0", "v1")
    return repo


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    with S3Server() as server:
        yield server


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch, s3_server: S3Server) -> None:
    monkeypatch.setenv("S3_ENDPOINT_URL", s3_server.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def bucket(s3_env: None) -> str:
    """A fresh, empty bucket."""
    from digitalhub_runtime_python.stores.s3 import s3_client

    name = f"bucket-{next(_names)}"
    s3_client().create_bucket(Bucket=name)
    return name


@pytest.fixture
def static_server(tmp_path: Path) -> Iterator[StaticServer]:
    root = tmp_path / "www"
    root.mkdir()
    with StaticServer(root) as server:
        yield server


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the session; tests keep apart by namespace (a serve run's id)."""
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="session")
def package_index(tmp_path_factory: pytest.TempPathFactory) -> PackageIndex:
    """Wheels of packages the test environment does not have: tinypkg 1.0 and 2.0, needsnew (tinypkg>=2)."""
    index = PackageIndex(tmp_path_factory.mktemp("package-index"))
    index.add("tinypkg", "1.0")
    index.add("tinypkg", "2.0")
    index.add("needsnew", "1.0", ("tinypkg>=2",))
    return index


@pytest.fixture
def index_env(monkeypatch: pytest.MonkeyPatch, package_index: PackageIndex) -> PackageIndex:
    """uv installs from the test's package index only (as a shell or a pod's Secret would set it)."""
    for name in ("UV_INDEX", "UV_DEFAULT_INDEX", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in package_index.folder_env().items():
        monkeypatch.setenv(name, value)
    return package_index
