"""Overhead of a local job run over calling the handler directly, and whether it grows with the store.

Runs ``fn.run(action="job", local_execution=True)`` + ``wait()`` on a trivial handler N times in one fresh
project (embedded store in a temporary folder) and compares with direct calls of the same handler, measured
in the same process. Target: median overhead <= 10 ms; the last 100 runs no slower than the first 100.

    python benchmarks/local_run.py [--runs 1000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HANDLER = "def add(a, b):\n    return a + b\n"
TARGET_MS = 10.0


def time_direct(count: int) -> list[float]:
    namespace: dict = {}
    exec(HANDLER, namespace)
    add = namespace["add"]
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        add(a=40, b=2)
        samples.append(time.perf_counter() - start)
    return samples


def time_runs(count: int) -> list[float]:
    import digitalhub_runtime_python as dh

    with tempfile.TemporaryDirectory() as home:
        code = Path(home) / "add.py"
        code.write_text(HANDLER)
        project = dh.get_or_create_project("bench", home=os.path.join(home, "store"))
        fn = project.new_function(name="add", code_src=str(code), handler="add")
        fn.run(action="job", local_execution=True, parameters={"a": 1, "b": 1}).wait()  # warm-up: imports, module cache
        samples = []
        for _ in range(count):
            start = time.perf_counter()
            run = fn.run(action="job", local_execution=True, parameters={"a": 40, "b": 2}).wait()
            samples.append(time.perf_counter() - start)
            assert run.results() == {"output_0": 42}, run.status.message
        return samples


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args()
    direct = time_direct(args.runs)
    runs = time_runs(args.runs)
    base = statistics.median(direct)
    overhead = statistics.median(runs) - base
    first, last = statistics.median(runs[:100]), statistics.median(runs[-100:])

    table = Table(title=f"local job run vs direct call ({args.runs} runs, one project)")
    for column in ("measure", "median ms", "p99 ms"):
        table.add_column(column, justify="right" if column != "measure" else "left")
    p99 = lambda xs: sorted(xs)[int(len(xs) * 0.99) - 1]  # noqa: E731
    table.add_row("direct handler call (baseline)", ms(base), ms(p99(direct)))
    table.add_row("fn.run(...) + wait()", ms(statistics.median(runs)), ms(p99(runs)))
    table.add_row("first 100 runs", ms(first), ms(p99(runs[:100])))
    table.add_row("last 100 runs", ms(last), ms(p99(runs[-100:])))
    console = Console()
    console.print(table)
    ok_overhead = overhead * 1000 <= TARGET_MS
    console.print(f"median overhead: {ms(overhead)} ms (target <= {TARGET_MS} ms): {'OK' if ok_overhead else 'MISSED'}")
    console.print(f"last-100 / first-100 median ratio: {last / first:.2f} (1.00 = no slowdown as the store grows)")
    return 0 if ok_overhead else 1


if __name__ == "__main__":
    sys.exit(main())
