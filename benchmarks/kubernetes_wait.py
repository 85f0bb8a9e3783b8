"""How fast ``run.wait()`` wakes up when another client finishes the run: watch (kubernetes store) vs poll (embedded).

Both measured in the same process: a waiter thread blocks in ``run.wait()`` while the main thread moves the run to
COMPLETED through the store; the latency is from the end of that write to ``wait()`` returning. The kubernetes store
talks to the test emulator on loopback (tests/kube), so absolute numbers say nothing about a real API server, but
the watch must not be slower than the embedded store's polling. Target: median <= 50 ms and <= the embedded median.

    python benchmarks/kubernetes_wait.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digitalhub_runtime_python.models.base import new_id
from digitalhub_runtime_python.models.crds import build_crds
from digitalhub_runtime_python.models.function import Function
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.models.states import State
from digitalhub_runtime_python.stores.base import Store
from digitalhub_runtime_python.stores.kubernetes import KubernetesStore
from digitalhub_runtime_python.stores.local import LocalStore
from tests.kube.server import EmulatorServer

TARGET_MS = 50.0


def wake_up_latencies(store: Store, rounds: int) -> list[float]:
    function = store.create(Function(project="bench", name="f", spec={"code": "x = 1", "handler": "f"}))
    latencies = []
    for _ in range(rounds):
        run_id = new_id()
        run = store.create(
            Run(
                project="bench",
                name=run_id,
                id=run_id,
                spec={"task": "store://bench/task/python+job/t:1", "function": function.key, "action": "job"},
            )
        )
        returned: list[float] = []
        waiter = threading.Thread(
            target=lambda key=run.key, returned=returned: (
                store.wait(key, lambda r: r.status.state == "COMPLETED", 10),
                returned.append(time.perf_counter()),
            )
        )
        waiter.start()
        time.sleep(0.05)  # let the waiter block first
        for state in (State.READY, State.RUNNING, State.COMPLETED):
            store.transition(run.key, state)
        written = time.perf_counter()
        waiter.join()
        latencies.append(returned[0] - written)
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        local = wake_up_latencies(LocalStore(Path(home)), args.rounds)
    server = EmulatorServer(build_crds()).start()
    try:
        from kubernetes import client

        api = client.ApiClient(client.Configuration(host=server.url))
        kube = wake_up_latencies(KubernetesStore(api_client=api, namespace="bench"), args.rounds)
    finally:
        server.stop()

    table = Table(title=f"run.wait() wake-up after another client completes the run ({args.rounds} rounds)")
    for column in ("store", "median ms", "max ms", "ratio to embedded"):
        table.add_column(column, justify="left" if column == "store" else "right")
    base = statistics.median(local)
    for label, samples in (("embedded SQLite, polling (baseline)", local), ("kubernetes, watch (emulator)", kube)):
        table.add_row(
            label,
            f"{statistics.median(samples) * 1000:.1f}",
            f"{max(samples) * 1000:.1f}",
            f"{statistics.median(samples) / base:.2f}",
        )
    console = Console()
    console.print(table)
    median = statistics.median(kube) * 1000
    ok = median <= TARGET_MS and median <= base * 1000
    console.print(
        f"watch median {median:.1f} ms (target <= {TARGET_MS} ms and <= embedded): {'OK' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
