"""Code in a git repository over HTTPS: ``git+https://host/org/repo.git#ref=<ref>&path=<subdir or file.py>``.

``ref`` is a branch, a tag or a full commit sha (default: the remote's HEAD). Branches and tags are
resolved with ``git ls-remote`` on every fetch, so a moved branch is picked up; the tree is cached per
commit, so a pinned commit that is cached needs no network. The cached tree has no ``.git`` folder.

Credentials come from ``GIT_TOKEN`` (and ``GIT_USER``, default ``oauth2``). They reach git through
``GIT_CONFIG_*`` variables of the git process only - never its command line, a config file or a message.
Without ``GIT_TOKEN``, git's own configuration (e.g. a credential helper on a laptop) applies.
``DIGITALHUB_GIT_CA`` (else ``GIT_SSL_CAINFO``) names a CA bundle for servers with a private CA.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
from pathlib import Path
from urllib.parse import urlparse

from digitalhub_runtime_python.sources.base import CodeTree, SourceError, select, source_error, split_options
from digitalhub_runtime_python.sources.cache import cached_tree, digest, staging, store_tree

OPTIONS = ("ref", "path")
TIMEOUT = 300.0
DEFAULT_USER = "oauth2"
COMMIT_SHA = re.compile(r"^([0-9a-f]{40}|[0-9a-f]{64})$", re.IGNORECASE)
AUTH_FAILED = re.compile(
    r"Authentication failed|could not read (Username|Password)|HTTP (401|403)|returned error: 40[13]"
)
TLS_FAILED = re.compile(r"SSL certificate problem|server certificate verification failed|certificate verify failed")
NO_SUCH_COMMIT = re.compile(r"not our ref|unadvertised object|couldn't find remote ref")
# Variables that would point git at another repository than the throwaway one.
REPOSITORY_VARIABLES = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
    }
)


class Git:
    """Runs git against one remote with credentials from the environment, redacting them from output."""

    def __init__(self, code_src: str, url: str):
        self.code_src = code_src
        self.url = url
        self.token = os.environ.get("GIT_TOKEN") or ""
        user = os.environ.get("GIT_USER") or DEFAULT_USER
        self.basic = base64.b64encode(f"{user}:{self.token}".encode()).decode() if self.token else ""
        self.env = self._env()

    def _env(self) -> dict[str, str]:
        """The git process's environment: no prompts, no inherited repository, the token as a scoped header."""
        env = {key: value for key, value in os.environ.items() if key not in REPOSITORY_VARIABLES}
        env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS": "", "GCM_INTERACTIVE": "never"})
        if os.environ.get("DIGITALHUB_GIT_CA"):
            env["GIT_SSL_CAINFO"] = os.environ["DIGITALHUB_GIT_CA"]
        parsed = urlparse(self.url)
        config = {"core.symlinks": "false"}
        if self.token:  # the token is the only credential: no credential helper may add or store another
            config["credential.helper"] = ""
            config[f"http.{parsed.scheme}://{parsed.netloc}/.extraHeader"] = f"Authorization: Basic {self.basic}"
        start = int(env.get("GIT_CONFIG_COUNT", "0") or 0)
        for i, (key, value) in enumerate(config.items(), start):
            env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"] = key, value
        env["GIT_CONFIG_COUNT"] = str(start + len(config))
        return env

    def attempt(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """Run one git command and return how it went."""
        try:
            return subprocess.run(
                ["git", *args], cwd=cwd, env=self.env, capture_output=True, text=True, timeout=TIMEOUT, check=False
            )
        except FileNotFoundError:
            raise source_error(self.code_src, "git is not installed: install git to use git+https:// sources") from None
        except subprocess.TimeoutExpired:
            raise source_error(
                self.code_src, f"git {args[0]} took longer than {TIMEOUT:.0f} s: check the server"
            ) from None

    def run(self, *args: str, cwd: Path | None = None) -> str:
        """Run one git command; a failure becomes a SourceError with the cause and the fix."""
        done = self.attempt(*args, cwd=cwd)
        if done.returncode != 0:
            raise self.explain(args[0], done.stderr)
        return done.stdout

    def redact(self, text: str) -> str:
        for secret in (self.token, self.basic):
            if secret:
                text = text.replace(secret, "***")
        return text

    def explain(self, command: str, stderr: str) -> SourceError:
        detail = self.redact(stderr).strip().splitlines()
        last = detail[-1] if detail else f"git {command} failed"
        if AUTH_FAILED.search(stderr):
            given = "GIT_TOKEN was refused" if self.token else "GIT_TOKEN is not set"
            return source_error(
                self.code_src,
                f"authentication failed for {self.url} ({given}): "
                "set GIT_TOKEN (and GIT_USER) to credentials with read access",
            )
        if TLS_FAILED.search(stderr):
            return source_error(
                self.code_src,
                f"TLS verification of {self.url} failed ({last}): set DIGITALHUB_GIT_CA to the server's CA bundle",
            )
        return source_error(self.code_src, f"git {command} failed: {last}")


def fetch_git(code_src: str, cache_dir: Path) -> CodeTree:
    """Resolve the ref, then check the commit out into the cache unless already there."""
    uri, options = split_options(code_src, OPTIONS)
    url = uri.removeprefix("git+")
    if urlparse(url).scheme != "https" or not urlparse(url).netloc:
        raise source_error(code_src, "use git+https://<host>/<org>/<repo>[.git][#ref=<ref>&path=<subdir>]")
    ref = options.get("ref") or None
    commit = ref.lower() if ref and COMMIT_SHA.match(ref) else None
    if commit and (tree := cached_tree(cache_dir, digest("git", url, commit))):
        return select(tree, options.get("path"), code_src, revision=commit)
    git = Git(code_src, url)
    commit = commit or resolve(git, ref)
    tree = store_tree(cache_dir, digest("git", url, commit), lambda dest: checkout(git, commit, dest, cache_dir))
    return select(tree, options.get("path"), code_src, revision=commit)


def resolve(git: Git, ref: str | None) -> str:
    """The commit a branch, tag (peeled) or the remote HEAD points at now."""
    patterns = [ref, f"{ref}^{{}}"] if ref else ["HEAD"]  # "^{}" lines carry the commit an annotated tag points at
    listing = git.run("ls-remote", "--", git.url, *patterns)
    refs = {name: sha for sha, name in (line.split("\t", 1) for line in listing.splitlines() if "\t" in line)}
    candidates = [f"refs/heads/{ref}", f"refs/tags/{ref}^{{}}", f"refs/tags/{ref}", ref] if ref else ["HEAD"]
    for name in candidates:
        if name in refs:
            return refs[name]
    hint = (
        " (a commit must be given as its full 40-character sha)" if ref and re.fullmatch(r"[0-9a-f]{4,39}", ref) else ""
    )
    raise source_error(
        git.code_src,
        f"ref {ref or 'HEAD'!r} is not a branch or tag of {git.url}{hint}: use an existing branch, tag or commit",
    )


def checkout(git: Git, commit: str, dest: Path, cache_dir: Path) -> None:
    """Fetch one commit into a throwaway repository and write its files (no .git) to ``dest``."""
    with staging(cache_dir) as scratch:
        repo = scratch / "repo.git"
        git.run("init", "--quiet", "--bare", str(repo))
        fetched = git.attempt("fetch", "--quiet", "--depth=1", "--no-tags", "--", git.url, commit, cwd=repo)
        if fetched.returncode != 0:
            if NO_SUCH_COMMIT.search(fetched.stderr):
                raise source_error(
                    git.code_src, f"commit {commit} is not in {git.url}: use an existing commit, branch or tag"
                )
            raise git.explain("fetch", fetched.stderr)
        git.run(f"--work-tree={dest}", "read-tree", "-u", "--reset", f"{commit}^{{tree}}", cwd=repo)
