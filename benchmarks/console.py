"""The web console at scale: the run list's server time with 10,000 runs, and how fast a state change reaches an
open page.

1. Run list: one project with ``--runs`` runs (10,000) created through the store, the project page (its first 50
   runs) requested in-process; the median server time over ``--repeat`` requests, beside the same page for a
   project of 50 runs (the baseline: rendering without the history), and the store's work alone (a keyset page of
   50 and the count).
   Target: <= 300 ms.
2. State change to an open page: the console served by uvicorn on loopback, a run page's and the project page's
   event streams open; the time from a transition written to the store to the event that carries it, median and
   worst of ``--changes`` changes, beside the store's change feed seen directly (the baseline). Target: <= 500 ms.

    python benchmarks/console.py [--runs 10000] [--repeat 5] [--changes 20]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LIST_TARGET_MS, CHANGE_TARGET_MS = 300.0, 500.0


def make_runs(store, project: str, count: int) -> list:
    from digitalhub_runtime_python.models.project import Project
    from digitalhub_runtime_python.models.run import Run, RunSpec

    store.create(Project(name=project))
    spec = RunSpec(
        task=f"store://{project}/task/python+job/t:1", function=f"store://{project}/function/python/f:1", action="job"
    )
    return [
        store.create(Run(project=project, name=f"r{i:06d}", id=f"r{i:06d}", spec=spec, metadata={"labels": []}))
        for i in range(count)
    ]


def median_ms(call: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def run_list(backend, repeat: int) -> dict[str, float]:
    from fastapi.testclient import TestClient

    from digitalhub_runtime_python.console.app import create_app
    from digitalhub_runtime_python.console.listing import run_page

    with TestClient(create_app(backend)) as client:

        def page(project: str) -> None:
            response = client.get(f"/projects/{project}")
            assert response.status_code == 200 and response.text.count('<tr id="run-') == 50

        page("big")  # warm-up: templates compiled, connections opened
        return {
            "small": median_ms(lambda: page("small"), repeat),
            "big": median_ms(lambda: page("big"), repeat),
            "listing": median_ms(lambda: run_page(backend.store, "big", 1, 50), repeat),
        }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lines_of(url: str) -> Iterator[tuple[float, str]]:
    """(arrival time, line) of an event stream."""
    import httpx

    with httpx.stream("GET", url, timeout=60) as response:
        for line in response.iter_lines():
            yield time.perf_counter(), line


def watch(url: str, wanted: str, arrivals: list[float], ready: threading.Event, stop: threading.Event) -> None:
    """Record when each ``wanted`` event line arrives on the stream at ``url``, until the server goes away."""
    import httpx

    try:
        for arrived, line in lines_of(url):
            if line == "event: live":
                ready.set()
            elif line == wanted:
                arrivals.append(arrived)
            if stop.is_set():
                return
    except httpx.HTTPError:
        return


def change_latency(backend, run, changes: int) -> dict[str, list[float]]:
    import uvicorn

    from digitalhub_runtime_python.console.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(backend), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    base = f"http://127.0.0.1:{port}/projects/big"
    streams = {
        "run page": (f"{base}/runs/{run.id}/events", "event: entity"),
        "project page": (f"{base}/events", f"event: run-{run.id}"),
    }
    stop = threading.Event()
    arrivals: dict[str, list[float]] = {name: [] for name in streams}
    for name, (url, wanted) in streams.items():
        ready = threading.Event()
        threading.Thread(target=watch, args=(url, wanted, arrivals[name], ready, stop), daemon=True).start()
        assert ready.wait(120), f"the {name} stream did not open"
    time.sleep(1)  # the streams' first events (the current table) are out of the way
    for name in arrivals:
        arrivals[name].clear()

    feed_seen: list[float] = []
    feed_stop = threading.Event()

    def follow_feed() -> None:  # the baseline: the store's change feed, followed directly
        for batch in backend.store.changes().follow(feed_stop):
            feed_seen.extend(time.perf_counter() for change in batch if change.key == run.key)

    threading.Thread(target=follow_feed, daemon=True).start()
    time.sleep(0.5)
    written: list[float] = []
    for i in range(changes):
        written.append(time.perf_counter())
        backend.store.update_run(run.key, lambda r, i=i: setattr(r.status, "message", f"change {i}") or r)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(len(a) > i for a in (*arrivals.values(), feed_seen)):
            time.sleep(0.005)
        time.sleep(0.05)  # one change at a time
    stop.set()
    feed_stop.set()
    server.handle_exit(signal.SIGINT, None)  # as Ctrl+C does: open event streams end, then the server
    thread.join(30)
    latency = {name: [(a - w) * 1000 for a, w in zip(seen, written, strict=False)] for name, seen in arrivals.items()}
    latency["store change feed (baseline)"] = [(a - w) * 1000 for a, w in zip(feed_seen, written, strict=False)]
    return latency


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--changes", type=int, default=20)
    args = parser.parse_args()
    out = Console()
    with tempfile.TemporaryDirectory() as home:
        os.environ["DIGITALHUB_HOME"] = home
        from digitalhub_runtime_python.api import get_backend

        backend = get_backend()
        start = time.perf_counter()
        runs = make_runs(backend.store, "big", args.runs)
        make_runs(backend.store, "small", 50)
        out.print(f"created {args.runs:,} runs in {time.perf_counter() - start:.1f} s")
        listing = run_list(backend, args.repeat)
        latency = change_latency(backend, runs[-1], args.changes)
        backend.close()

    table = Table(title=f"run list: project page with {args.runs:,} runs (median of {args.repeat}, server time)")
    for column in ("measure", "ms", "ratio to baseline", "target", "met"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    table.add_row("page of a 50-run project (baseline)", f"{listing['small']:.1f}", "1.0", "", "")
    table.add_row(
        f"page 1 of {args.runs:,} runs",
        f"{listing['big']:.1f}",
        f"{listing['big'] / listing['small']:.1f}",
        f"<= {LIST_TARGET_MS:.0f}",
        "yes" if listing["big"] <= LIST_TARGET_MS else "no",
    )
    table.add_row("  of which the store's page and count", f"{listing['listing']:.1f}", "", "", "")
    out.print(table)

    table = Table(title=f"state change to an open page ({args.changes} changes, ms from the store write)")
    for column in ("stream", "median", "worst", "ratio to baseline", "target", "met"):
        table.add_column(column, justify="left" if column == "stream" else "right")
    baseline = statistics.median(latency["store change feed (baseline)"])
    met = True
    for name, samples in latency.items():
        if len(samples) < args.changes:
            out.print(f"[red]{name}: {len(samples)} of {args.changes} changes arrived[/red]")
            met = False
            continue
        is_page = name != "store change feed (baseline)"
        ok = max(samples) <= CHANGE_TARGET_MS
        met &= ok or not is_page
        table.add_row(
            name,
            f"{statistics.median(samples):.1f}",
            f"{max(samples):.1f}",
            f"{statistics.median(samples) / baseline:.1f}",
            f"<= {CHANGE_TARGET_MS:.0f}" if is_page else "",
            ("yes" if ok else "no") if is_page else "",
        )
    out.print(table)
    return 0 if met and listing["big"] <= LIST_TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
