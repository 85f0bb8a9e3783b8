"""Run history at scale on the embedded store: listing, filtering and paging cost the page, not the history.

In one run: N runs (default 100,000) are made directly through the store, in batches that alternate with the same
runs written to a second store file laid out as before the listing columns and indexes (schema version 0, the old
INSERT), so both creation rates see the same machine load. Then, on the full store:

- ``list_runs(limit=50)``, filtered by state or by function, and a page 50,000 runs deep, each next to a bare
  ``SELECT document ... LIMIT 50`` on the same file (ratio: what filtering, paging and parsing add);
- ``dhrun get runs`` (wall and peak RSS), next to the same command on an empty store;
- ``dhrun get runs --all -o json > /dev/null`` peak RSS, against the 50-row ``-o json`` case (flat memory).

Every figure is a median of fresh samples, with its target beside it.

    python benchmarks/history.py [--runs 100000] [--samples 15]
"""

from __future__ import annotations

import argparse
import compileall
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])

from digitalhub_runtime_python.models.base import Metadata
from digitalhub_runtime_python.models.run import Run, RunStatus
from digitalhub_runtime_python.models.states import State, Transition
from digitalhub_runtime_python.stores.base import AlreadyExists, E
from digitalhub_runtime_python.stores.local import LocalStore
from digitalhub_runtime_python.stores.local_schema import INDEX_COLUMNS, INDEXES

PROJECT = "bench"
FUNCTIONS = [f"f{n}" for n in range(20)]
BATCH = 1000


class BeforeIndexes(LocalStore):
    """The store as it was before the listing columns (the baseline): schema version 0 (the document columns, the
    index of each name's versions), SQLite's default checkpoints, and the create of that version, verbatim."""

    def __init__(self, home: Path):
        super().__init__(home)
        db = self._connection()
        for index in INDEXES:
            db.execute(f"DROP INDEX {index}")
        for column in INDEX_COLUMNS:
            db.execute(f"ALTER TABLE entities DROP COLUMN {column}")
        db.execute("CREATE INDEX entities_latest ON entities (project, type, name, seq)")
        db.execute("PRAGMA user_version=0")

    def _connection(self) -> sqlite3.Connection:
        db = super()._connection()
        db.execute("PRAGMA wal_autocheckpoint=1000")
        return db

    def create(self, entity: E) -> E:
        try:
            with self._transaction() as db:
                db.execute(
                    "INSERT INTO entities (key, project, type, name, id, document) VALUES (?, ?, ?, ?, ?, ?)",
                    (entity.key, entity.project, entity.ENTITY_TYPE, entity.name, entity.id, entity.model_dump_json()),
                )
        except sqlite3.IntegrityError:
            raise AlreadyExists(f"{entity.key} already exists") from None
        return entity


def make_run(number: int, created: datetime, rng: random.Random) -> Run:
    """A trivial finished run of one of 20 functions (1 in 10 failed)."""
    run_id = f"{rng.getrandbits(128):032x}"
    function = rng.choice(FUNCTIONS)
    state = State.ERROR if rng.random() < 0.1 else State.COMPLETED
    return Run(
        project=PROJECT,
        name=run_id,
        id=run_id,
        metadata=Metadata(created=created, updated=created),
        spec={
            "function": f"store://{PROJECT}/function/python/{function}:v1",
            "task": f"store://{PROJECT}/task/python+job/{function}-job:t1",
            "action": "job",
            "parameters": {"a": number, "b": 2},
        },
        status=RunStatus(
            state=state,
            results={"output_0": number + 2} if state == State.COMPLETED else {},
            message="ZeroDivisionError: division by zero" if state == State.ERROR else None,
            transitions=[Transition(time=created, state=s) for s in (State.CREATED, State.READY, State.RUNNING)],
        ),
    )


def create_both(runs: int, after: LocalStore, before: LocalStore) -> dict[str, dict[str, float]]:
    """Wall and CPU seconds spent creating ``runs`` runs in each store, batches alternating (same load on both)."""
    rng, first, step = random.Random(19), datetime.now(UTC) - timedelta(days=100), timedelta(days=100) / runs
    spent = {name: {"wall": 0.0, "cpu": 0.0} for name in ("after", "before")}
    for start in range(0, runs, BATCH):
        batch = [make_run(n, first + n * step, rng) for n in range(start, min(start + BATCH, runs))]
        order = [("after", after), ("before", before)]
        for name, store in order if start // BATCH % 2 else order[::-1]:
            wall, cpu = time.perf_counter(), time.process_time()
            for run in batch:
                store.create(run)
            spent[name]["wall"] += time.perf_counter() - wall
            spent[name]["cpu"] += time.process_time() - cpu
        print(f"\r  created {start + len(batch):,} runs in each store", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return spent


def median_ms(call: Callable[[], object], samples: int) -> float:
    call()  # warm: the connection, the page cache, first imports
    times = []
    for _ in range(samples):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


# A child's peak RSS counts the memory of the process it was forked from (up to its exec): a small launcher forks
# the command, so the figure is the command's own.
LAUNCHER = """
import os, subprocess, sys, time
began = time.perf_counter()
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
with open(sys.argv[1], "w") as report:
    report.write(f"{time.perf_counter() - began} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def child(argv: list[str], home: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of a command (output to /dev/null), from its own resource usage."""
    env = {**os.environ, "DIGITALHUB_HOME": str(home), "DIGITALHUB_PROJECT": PROJECT, "COLUMNS": "120"}
    report = home / "launch-report"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run([sys.executable, "-c", LAUNCHER, str(report), *argv], env=env, check=True, **quiet)
    elapsed, max_rss_kb, code = report.read_text().split()
    if code != "0":
        raise RuntimeError(f"{' '.join(argv)} failed with exit code {code}")
    return float(elapsed), int(max_rss_kb) / 1024


def measure_cli(argv: list[str], home: Path, samples: int) -> tuple[float, float]:
    """Median wall ms and median peak RSS MB of a command over ``samples`` runs."""
    measured = [child(argv, home) for _ in range(samples)]
    return statistics.median(w for w, _ in measured) * 1000, statistics.median(r for _, r in measured)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=15)
    args = parser.parse_args()
    compileall.compile_dir(ROOT / "digitalhub_runtime_python", quiet=1)
    import digitalhub_runtime_python as dh

    dhrun = [sys.executable, "-m", "digitalhub_runtime_python.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        home, empty = Path(tmp, "home"), Path(tmp, "empty")
        after, before = LocalStore(home), BeforeIndexes(Path(tmp, "before"))
        for place in (home, empty):
            dh.get_or_create_project(PROJECT, home=place)
        created = create_both(args.runs, after, before)
        before.close()
        size_mb = (home / "store.sqlite").stat().st_size / 2**20

        project = dh.get_or_create_project(PROJECT, home=home)
        db = sqlite3.connect(home / "store.sqlite")
        bare_sql = (  # the rows of the first page, read without parsing them
            "SELECT document FROM entities WHERE project=? AND type='run' ORDER BY created DESC, seq DESC LIMIT 50"
        )
        bare = median_ms(lambda: db.execute(bare_sql, (PROJECT,)).fetchall(), args.samples)
        parsed = median_ms(
            lambda: [Run.model_validate_json(doc) for (doc,) in db.execute(bare_sql, (PROJECT,))], args.samples
        )
        deep, pages = project.list_runs(limit=1), max(1, args.runs // 2 // 5000)
        for _ in range(pages):  # a continuation about halfway through the history, found page by page
            deep = project.list_runs(limit=5000, continuation=deep.continuation)
        depth = 1 + pages * 5000
        sdk = [
            ("list_runs(limit=50)", lambda: project.list_runs(limit=50), 20.0),
            ("list_runs(state='ERROR', limit=50)", lambda: project.list_runs(state="ERROR", limit=50), 30.0),
            ("list_runs(function='f7', limit=50)", lambda: project.list_runs(function="f7", limit=50), 30.0),
            (
                f"list_runs(limit=50) {depth:,} runs deep (continuation)",
                lambda: project.list_runs(limit=50, continuation=deep.continuation),
                20.0,
            ),
            ("count for the footer (count=True)", lambda: project.runs.count(project.runs.query()), None),
        ]
        listed = [(name, median_ms(call, args.samples), target) for name, call, target in sdk]

        cli_samples = max(3, args.samples // 3)
        interpreter = measure_cli([sys.executable, "-c", "pass"], empty, cli_samples)
        cli_empty = measure_cli([*dhrun, "get", "runs"], empty, cli_samples)
        cli_page = measure_cli([*dhrun, "get", "runs"], home, cli_samples)
        json_page = measure_cli([*dhrun, "get", "runs", "-o", "json"], home, cli_samples)
        json_all = child([*dhrun, "get", "runs", "--all", "-o", "json"], home)

    console = Console(width=130)
    table = Table(title=f"Run history: {args.runs:,} runs in one project, store file {size_mb:.0f} MB")
    for column in ("measure", "median", "ratio", "target", "meets"):
        table.add_column(column, justify="left" if column == "measure" else "right")

    def row(name: str, value: float, unit: str, ratio: str, target: float | None) -> None:
        meets = "" if target is None else ("yes" if value <= target else "NO")
        table.add_row(name, f"{value:.1f} {unit}", ratio, "" if target is None else f"<= {target:g} {unit}", meets)

    row("bare SELECT document ... LIMIT 50, no parse (baseline)", bare, "ms", "1.00", None)
    row("  the same, and parsing the 50 runs", parsed, "ms", f"{parsed / bare:.1f} x bare", None)
    for name, value, target in listed:
        row(name, value, "ms", f"{value / bare:.1f} x bare", target)
    for clock in ("cpu", "wall"):
        per_before = created["before"][clock] / args.runs * 1e6
        per_after = created["after"][clock] / args.runs * 1e6
        row(f"create a run, before the indexes (baseline), {clock}", per_before, "µs", "1.00", None)
        ratio = per_after / per_before
        row(f"create a run, with the listing columns and indexes, {clock}", per_after, "µs", f"{ratio:.3f}", None)
        table.add_row("", "", "", "ratio <= 1.10", "yes" if ratio <= 1.10 else "NO")
    row("python -c pass (the interpreter alone) wall", interpreter[0], "ms", "", None)
    row("dhrun get runs, empty store (baseline) wall", cli_empty[0], "ms", "1.00", None)
    row("dhrun get runs wall", cli_page[0], "ms", f"{cli_page[0] / cli_empty[0]:.2f} x empty", 400.0)
    row("dhrun get runs, empty store (baseline) RSS", cli_empty[1], "MB", "1.00", None)
    row("dhrun get runs RSS", cli_page[1], "MB", f"{cli_page[1] / cli_empty[1]:.2f} x empty", 80.0)
    row("dhrun get runs -o json RSS (50 rows)", json_page[1], "MB", "1.00", None)
    row(f"dhrun get runs --all -o json RSS ({args.runs:,} rows)", json_all[1], "MB", "", None)
    ratio = json_all[1] / json_page[1]
    table.add_row("", "", f"{ratio:.2f} x 50 rows", "ratio <= 1.5", "yes" if ratio <= 1.5 else "NO")
    console.print(table)
    console.print(
        f"--all -o json took {json_all[0]:.1f} s. Wall times include this machine's load: the ratios to the "
        "baselines measured in this run are what carries over."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
