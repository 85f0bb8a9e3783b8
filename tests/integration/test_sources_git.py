"""git+https sources against git http-backend over TLS with basic auth on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from digitalhub_runtime_python.sources.base import SourceError
from digitalhub_runtime_python.sources.git import fetch_git
from tests.servers.git_http import PASSWORD, GitServer, Repo, git

pytestmark = pytest.mark.integration


def src(server: GitServer, repo: Repo, fragment: str = "") -> str:
    return f"git+{server.url(repo.bare.name)}{fragment}"


def head(repo: Repo, ref: str = "HEAD") -> str:
    return git("rev-parse", f"{ref}^{{commit}}", cwd=repo.work)


@pytest.mark.usefixtures("git_env")
@pytest.mark.parametrize("fragment", ["", "#ref=main", "#ref=v1", "#ref=v0", "#ref=refs/heads/main"])
def test_branch_tag_and_default_head(git_server: GitServer, repo: Repo, fragment: str, tmp_path: Path) -> None:
    tree = fetch_git(src(git_server, repo, fragment), tmp_path / "cache")
    assert tree.revision == head(repo) and tree.entry is None
    assert sorted(p.name for p in tree.root.iterdir()) == ["handler.py", "src"]  # no .git


@pytest.mark.usefixtures("git_env")
def test_inherited_repository_variables_are_ignored(
    git_server: GitServer, repo: Repo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GIT_DIR", str(repo.work / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(repo.work))
    tree = fetch_git(src(git_server, repo, f"#ref={head(repo).upper()}"), tmp_path / "cache")
    assert tree.revision == head(repo) and (tree.root / "handler.py").is_file()
    assert git("status", "--porcelain", cwd=repo.work) == ""


@pytest.mark.usefixtures("git_env")
def test_commit_that_is_no_branch_tip(git_server: GitServer, repo: Repo, tmp_path: Path) -> None:
    old = head(repo)
    repo.commit({"handler.py": "def add(a, b):\n    return a + b + 1\n"})
    repo.push("main")
    tree = fetch_git(src(git_server, repo, f"#ref={old}"), tmp_path / "cache")
    assert tree.revision == old and "+ 1" not in (tree.root / "handler.py").read_text()


@pytest.mark.usefixtures("git_env")
def test_commit_from_a_protocol_v0_server(cert, repo: Repo, tmp_path: Path) -> None:
    old = head(repo)
    repo.commit({"new.py": ""})
    repo.push("main")
    with GitServer(repo.bare.parent, cert, protocol_v2=False) as v0:
        tree = fetch_git(f"git+{v0.url(repo.bare.name)}#ref={old}", tmp_path / "cache")
    assert tree.revision == old and not (tree.root / "new.py").exists()


@pytest.mark.usefixtures("git_env")
def test_subdirectory_and_file_entry(git_server: GitServer, repo: Repo, tmp_path: Path) -> None:
    folder = fetch_git(src(git_server, repo, "#ref=v1&path=src"), tmp_path / "cache")
    assert folder.entry is None and (folder.root / "pkg" / "mod.py").is_file()
    module = fetch_git(src(git_server, repo, "#path=src/pkg/mod.py"), tmp_path / "cache")
    assert module.entry == module.root / "mod.py" and module.root.name == "pkg"
    with pytest.raises(SourceError, match="path='nope' is not a folder or a .py file"):
        fetch_git(src(git_server, repo, "#path=nope"), tmp_path / "cache")


@pytest.mark.usefixtures("git_env")
@pytest.mark.parametrize("ref, hint", [("nope", ""), ("abc1234", "full 40-character sha")])
def test_wrong_ref_is_named(git_server: GitServer, repo: Repo, ref: str, hint: str, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=f"ref '{ref}' is not a branch or tag of https://127.0.0.1.*{hint}"):
        fetch_git(src(git_server, repo, f"#ref={ref}"), tmp_path / "cache")


@pytest.mark.usefixtures("git_env")
def test_unknown_commit_is_named(git_server: GitServer, repo: Repo, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=f"commit {'0' * 40} is not in https://"):
        fetch_git(src(git_server, repo, f"#ref={'0' * 40}"), tmp_path / "cache")
    assert not any((tmp_path / "cache" / "trees").iterdir())


@pytest.mark.usefixtures("git_env")
@pytest.mark.parametrize("token", ["wrong-token-value", None])
@pytest.mark.parametrize("pinned", [False, True])
def test_bad_credentials(
    git_server: GitServer, repo: Repo, token: str | None, pinned: bool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if token:
        monkeypatch.setenv("GIT_TOKEN", token)
    else:
        monkeypatch.delenv("GIT_TOKEN")
    with pytest.raises(SourceError) as info:
        fetch_git(src(git_server, repo, f"#ref={head(repo)}" if pinned else ""), tmp_path / "cache")
    message = str(info.value)
    assert "authentication failed" in message and "GIT_TOKEN" in message
    assert ("was refused" if token else "is not set") in message
    assert (token or PASSWORD) not in message


@pytest.mark.usefixtures("git_env")
def test_untrusted_certificate_says_which_variable_to_set(
    git_server: GitServer, repo: Repo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DIGITALHUB_GIT_CA")
    with pytest.raises(SourceError, match="TLS verification .* set DIGITALHUB_GIT_CA"):
        fetch_git(src(git_server, repo), tmp_path / "cache")


@pytest.mark.usefixtures("git_env")
def test_token_is_left_nowhere_on_disk(git_server: GitServer, repo: Repo, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    fetch_git(src(git_server, repo, "#ref=v1"), cache)
    assert not list(cache.rglob(".git")) and not list(cache.rglob("config"))
    for path in cache.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path


@pytest.mark.usefixtures("git_env")
def test_moved_branch_is_re_resolved(git_server: GitServer, repo: Repo, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = fetch_git(src(git_server, repo, "#ref=main"), cache)
    new = repo.commit({"handler.py": "def add(a, b):\n    return 0\n"})
    repo.push("main")
    second = fetch_git(src(git_server, repo, "#ref=main"), cache)
    assert (first.revision, second.revision) == (head(repo, "v1"), new)
    assert "return 0" in (second.root / "handler.py").read_text()
    assert "return a + b" in (first.root / "handler.py").read_text()


@pytest.mark.usefixtures("git_env")
def test_cached_branch_only_asks_for_refs(git_server: GitServer, repo: Repo, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    fetch_git(src(git_server, repo, "#ref=main"), cache)
    seen, trees = len(git_server.requests), list((cache / "trees").iterdir())
    fetch_git(src(git_server, repo, "#ref=main"), cache)
    assert len(git_server.requests) - seen == 2  # ls-remote only: GET info/refs + POST ls-refs; no fetch
    assert list((cache / "trees").iterdir()) == trees


def test_cached_commit_needs_no_network(cert, repo: Repo, git_env: None, tmp_path: Path) -> None:
    cache, sha = tmp_path / "cache", head(repo)
    with GitServer(repo.bare.parent, cert) as server:
        first = fetch_git(f"git+{server.url(repo.bare.name)}#ref={sha}", cache)
        url = server.url(repo.bare.name)
    assert server.requests  # the first fetch went to the server, which is now stopped
    again = fetch_git(f"git+{url}#ref={sha}&path=src/pkg/mod.py", cache)
    assert again.revision == first.revision == sha and again.entry and again.entry.is_relative_to(first.root)
