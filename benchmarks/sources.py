"""Code sources: cold fetch against doing the same by hand, and warm cache hits.

Starts loopback servers (git http-backend over TLS with basic auth, moto S3, http.server), publishes the
same code tree (``--files`` modules) to each, then measures in this one process (medians; the compared
actions run in alternation, so they see the same machine load):

* cold: ``materialize()`` into an empty cache, against the plain way to get the same runnable files -
  ``git clone --depth 1``; boto3 ``get_object`` + ``zipfile.extractall``; urllib + ``extractall`` (the
  download alone is shown too). The ratio is the cost of caching, checking and safe extraction.
* warm: ``materialize()`` again with the cache filled - git runs one ``ls-remote``, S3 sends one HEAD,
  https one conditional GET; the "floor" column is that one request done by hand. Pinned sources
  (``#ref=<sha>``, ``#sha256=``) send nothing. Target: warm <= 50 ms.

    python benchmarks/sources.py [--repeat 5] [--files 200]
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digitalhub_runtime_python.models.function import FunctionSpec
from digitalhub_runtime_python.sources.materialize import materialize
from digitalhub_runtime_python.sources.upload import pack_to_s3
from digitalhub_runtime_python.stores.s3 import s3_client
from tests.servers.git_http import PASSWORD, USER, GitServer, Repo
from tests.servers.s3 import S3Server
from tests.servers.static_http import StaticServer
from tests.servers.tls import make_cert

TARGET_WARM_MS = 50.0


def code_files(count: int) -> dict[str, str]:
    """A package of ``count`` modules (~2 KB each) plus an entry module."""
    body = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(60))
    files = {f"app/m{i:03d}.py": body for i in range(count)}
    files.update({"app/__init__.py": "", "main.py": "def add(a, b):\n    return a + b\n"})
    return files


@dataclass
class Source:
    name: str
    code_src: str
    pinned: str | None
    by_hand: str
    download: Callable[[Path], Path]  # fetch the raw file (or clone) into a new folder; return the file
    extract: bool  # whether the by-hand way also needs zipfile.extractall
    floor: Callable[[], object]  # the one request a warm fetch makes, done by hand


class Bench:
    """Times actions in alternation (one of each per round) so they see the same machine load."""

    def __init__(self, work: Path, repeat: int):
        self.work, self.repeat, self.round = work, repeat, 0

    def fresh(self) -> Path:
        self.round += 1
        return self.work / f"run-{self.round}"

    def interleaved(self, actions: dict[str, Callable[[Path], object]], fresh: bool, repeat: int) -> dict[str, float]:
        """Median ms per action; ``fresh`` gives each call a new folder, else each action keeps one."""
        samples: dict[str, list[float]] = {name: [] for name in actions}
        kept = {name: self.fresh() for name in actions}
        for _ in range(repeat):
            for name, action in actions.items():
                folder = self.fresh() if fresh else kept[name]
                start = time.perf_counter()
                action(folder)
                samples[name].append(time.perf_counter() - start)
        return {name: statistics.median(values) * 1000 for name, values in samples.items()}

    @staticmethod
    def fetch(code_src: str) -> Callable[[Path], object]:
        return lambda cache: materialize(FunctionSpec(code_src=code_src, handler="main:add"), cache)

    def row(self, source: Source) -> list[str]:
        def by_hand(folder: Path) -> None:
            file = source.download(folder)
            if source.extract:
                with zipfile.ZipFile(file) as zf:
                    zf.extractall(folder / "tree")

        cold_actions = {"cold": self.fetch(source.code_src), "by_hand": by_hand}
        if source.extract:
            cold_actions["download"] = source.download
        cold = self.interleaved(cold_actions, fresh=True, repeat=self.repeat)
        warm_actions = {"warm": self.fetch(source.code_src), "floor": lambda _: source.floor()}
        if source.pinned:
            warm_actions["pinned"] = self.fetch(source.pinned)
        for name, action in warm_actions.items():
            if name != "floor":
                action(self.work / "warm-cache")  # fill the shared cache once
        warm_actions = {
            name: (lambda _, a=action: a(self.work / "warm-cache")) for name, action in warm_actions.items()
        }
        warm = self.interleaved(warm_actions, fresh=False, repeat=max(self.repeat, 10))
        pinned = warm.get("pinned")
        verdict = (
            "[green]yes[/green]"
            if warm["warm"] <= TARGET_WARM_MS
            else "[yellow]pinned only[/yellow]"
            if pinned is not None and pinned <= TARGET_WARM_MS
            else "[red]no[/red]"
        )
        return [
            source.name,
            f"{cold['cold']:.1f}",
            source.by_hand,
            f"{cold['by_hand']:.1f}",
            f"{cold.get('download', cold['by_hand']):.1f}",
            f"{cold['cold'] / cold['by_hand']:.2f}x",
            f"{warm['warm']:.1f}",
            f"{warm['floor']:.1f}",
            f"{pinned:.2f}" if pinned is not None else "-",
            verdict,
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--files", type=int, default=200)
    args = parser.parse_args()
    files = code_files(args.files)

    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        work = Path(tmp)
        cert = make_cert(work)
        (work / "git-root").mkdir()
        (work / "www").mkdir()
        git_server = stack.enter_context(GitServer(work / "git-root", cert))
        s3_server = stack.enter_context(S3Server())
        http_server = stack.enter_context(StaticServer(work / "www"))
        os.environ.update(
            {
                "GIT_USER": USER,
                "GIT_TOKEN": PASSWORD,
                "DIGITALHUB_GIT_CA": str(cert.cert),
                "S3_ENDPOINT_URL": s3_server.endpoint,
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench",
                "AWS_DEFAULT_REGION": "us-east-1",
            }
        )

        repo = Repo(git_server.root, "code.git", work / "repo")
        sha = repo.commit(files)
        repo.push("main")
        tree = work / "tree"
        for rel, text in files.items():
            (tree / rel).parent.mkdir(parents=True, exist_ok=True)
            (tree / rel).write_text(text)
        client = s3_client()
        client.create_bucket(Bucket="bench")
        packed = pack_to_s3(tree, "s3://bench/store", "bench")
        key = packed.removeprefix("zip+s3://bench/").partition("#")[0]
        archive = Path(shutil.make_archive(str(http_server.root / "code"), "zip", tree))
        archive_url = f"{http_server.base_url}/{archive.name}"

        git_url = git_server.url("code.git")
        header = "Authorization: Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        git_env = {**os.environ, "GIT_SSL_CAINFO": str(cert.cert)}

        def git(*command: str) -> None:
            subprocess.run(
                ["git", "-c", f"http.extraHeader={header}", *command], check=True, env=git_env, capture_output=True
            )

        def clone(folder: Path) -> Path:
            git("clone", "--quiet", "--depth=1", "--branch=main", git_url, str(folder))
            return folder

        def get_object(folder: Path) -> Path:
            folder.mkdir()
            with (folder / "code.zip").open("wb") as out:
                shutil.copyfileobj(client.get_object(Bucket="bench", Key=key)["Body"], out)
            return folder / "code.zip"

        def urlretrieve(folder: Path) -> Path:
            folder.mkdir()
            with urllib.request.urlopen(archive_url) as response, (folder / archive.name).open("wb") as out:
                shutil.copyfileobj(response, out)
            return folder / archive.name

        sources = [
            Source(
                "git+https #ref=main",
                f"git+{git_url}#ref=main",
                f"git+{git_url}#ref={sha}",
                "git clone --depth 1",
                clone,
                False,
                lambda: git("ls-remote", git_url, "main"),
            ),
            Source(
                "zip+s3",
                f"zip+s3://bench/{key}",
                packed,
                "get_object + extractall",
                get_object,
                True,
                lambda: client.head_object(Bucket="bench", Key=key),
            ),
            Source(
                "https .zip",
                archive_url,
                None,
                "urllib + extractall",
                urlretrieve,
                True,
                lambda: urllib.request.urlopen(urllib.request.Request(archive_url, method="HEAD")).close(),
            ),
        ]
        bench = Bench(work, args.repeat)
        table = Table(
            title=f"Code sources: {len(files)} files; "
            f"medians of {args.repeat} cold and {max(args.repeat, 10)} warm fetches (ms)"
        )
        for column in (
            "source",
            "cold",
            "by hand",
            "by hand ms",
            "of it download",
            "cold / by hand",
            "warm",
            "warm floor",
            "warm pinned",
            f"warm ≤ {TARGET_WARM_MS:.0f} ms",
        ):
            table.add_column(column, justify="left" if column in ("source", "by hand") else "right")
        for source in sources:
            table.add_row(*bench.row(source))
        Console(width=170).print(table)
        print("warm floor: the one request a warm fetch makes, done by hand (git ls-remote / S3 HEAD / HTTP HEAD).")


if __name__ == "__main__":
    main()
