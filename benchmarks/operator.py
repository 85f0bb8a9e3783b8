"""The operator under load: the real operator process against the Kubernetes emulator on loopback (tests/kube).

1. Burst: ``--burst`` Run CRs created at once (16 client threads) -> seconds until every Job exists.
   Baseline: seconds the client took to create the Run CRs (the API's own pace). Target: all within 20 s.
2. Mirroring: ``--rounds`` Jobs marked Failed one after another -> seconds until the Run shows ERROR.
   Baseline: seconds until a plain watch on Jobs sees the same change (the floor for any watcher).
   Target: p50 < 1 s.
3. Memory: operator RSS once ``--total`` runs have their Jobs. Baseline: RSS of the idle operator.
   Target: <= 200 MB.

The emulator is an in-memory Python server sharing this machine, so absolute numbers say little about a real API
server; the ratios to the baselines show what the operator adds.

    python benchmarks/operator.py [--burst 200] [--total 1000] [--rounds 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "operator"), str(ROOT / "tests" / "integration" / "operator")]
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "operator"), os.environ.get("PYTHONPATH", "")])

from kubernetes import client, config, watch
from operator_harness import PROJECT, OperatorProcess, World, job_condition

from digitalhub_runtime_python.models.crds import build_crds
from digitalhub_runtime_python.models.errors import validate
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.models.states import State
from tests.kube import server as kube_server

NAMESPACE = "bench"


class Seen:
    """First time each object name reached a condition, recorded by a watch in a background thread."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._changed = threading.Condition()

    def mark(self, name: str) -> None:
        with self._changed:
            self.times.setdefault(name, time.perf_counter())
            self._changed.notify_all()

    def wait(self, names: set[str], timeout: float) -> float:
        """When the last of ``names`` was seen; TimeoutError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not names <= self.times.keys():
                if not self._changed.wait(deadline - time.monotonic()) and time.monotonic() >= deadline:
                    missing = len(names - self.times.keys())
                    raise TimeoutError(f"{missing} of {len(names)} not seen within {timeout} s")
            return max(self.times[name] for name in names)


def follow(kubeconfig: Path, list_call: str, args: tuple, seen_when: Any, stop: threading.Event) -> Seen:
    """Watch a resource in a thread; ``seen_when(event) -> name | None`` decides what counts."""
    seen = Seen()

    def loop() -> None:
        with config.new_client_from_config(config_file=str(kubeconfig)) as api:
            apis = {
                "jobs": client.BatchV1Api(api).list_namespaced_job,
                "runs": client.CustomObjectsApi(api).list_namespaced_custom_object,
            }
            while not stop.is_set():
                for event in watch.Watch().stream(apis[list_call], *args, timeout_seconds=5):
                    name = seen_when(event)
                    if name:
                        seen.mark(name)
                    if stop.is_set():
                        return

    threading.Thread(target=loop, daemon=True).start()
    return seen


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def create_runs(world: World, count: int, function_key: str, task_key: str) -> tuple[list[str], float]:
    """Create ``count`` Run CRs from 16 threads; their names and how long the creation took."""
    runs = []
    for _ in range(count):
        run_id = os.urandom(8).hex()
        runs.append(
            validate(
                Run,
                {
                    "project": PROJECT,
                    "name": run_id,
                    "id": run_id,
                    "spec": {"task": task_key, "function": function_key, "action": "job"},
                },
            )
        )
    started = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(world.store.create, runs))
    return [run.id for run in runs], time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--total", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    console = Console()
    server = kube_server.EmulatorServer(build_crds()).start()
    stop = threading.Event()
    with tempfile.TemporaryDirectory() as tmp:
        kubeconfig = server.kubeconfig(Path(tmp) / "kubeconfig", NAMESPACE)
        with config.new_client_from_config(config_file=str(kubeconfig)) as api:
            api.configuration.connection_pool_maxsize = 16
            client.CoreV1Api(api).create_namespace({"metadata": {"name": NAMESPACE}})
            world = World(api, NAMESPACE)
            operator = OperatorProcess(
                kubeconfig, NAMESPACE, Path(tmp) / "operator.log", DIGITALHUB_OPERATOR_CHECK_INTERVAL="5"
            ).start()
            try:
                idle_rss = rss_mb(operator.process.pid)  # type: ignore[union-attr]
                jobs_seen = follow(
                    kubeconfig, "jobs", (NAMESPACE,), lambda e: e["type"] == "ADDED" and e["object"].metadata.name, stop
                )
                failed_jobs = follow(
                    kubeconfig,
                    "jobs",
                    (NAMESPACE,),
                    lambda e: e["object"].status and e["object"].status.conditions and e["object"].metadata.name,
                    stop,
                )
                errored_runs = follow(
                    kubeconfig,
                    "runs",
                    ("digitalhub.io", "v1alpha1", NAMESPACE, "runs"),
                    lambda e: (
                        (e["object"].get("status") or {}).get("state") == State.ERROR.value
                        and e["object"]["metadata"]["name"]
                    ),
                    stop,
                )
                function = world.function()
                task = world.task(function)

                console.print(f"burst: creating {args.burst} runs at once ...")
                started = time.perf_counter()
                burst, create_seconds = create_runs(world, args.burst, function.key, task.key)
                all_jobs = jobs_seen.wait({f"run-{run_id}" for run_id in burst}, 120) - started

                console.print(f"mirroring: failing {args.rounds} jobs one at a time ...")
                operator_lag, watch_lag = [], []
                for run_id in burst[: args.rounds]:
                    patched = time.perf_counter()
                    world.job_status(f"run-{run_id}", job_condition("Failed", "BackoffLimitExceeded", "bench"))
                    watch_lag.append(failed_jobs.wait({f"run-{run_id}"}, 30) - patched)
                    operator_lag.append(errored_runs.wait({run_id}, 30) - patched)

                rest = args.total - args.burst
                console.print(f"memory: creating {rest} more runs ...")
                more, _ = create_runs(world, rest, function.key, task.key)
                jobs_seen.wait({f"run-{run_id}" for run_id in more}, 300)
                time.sleep(1)
                loaded_rss = rss_mb(operator.process.pid)  # type: ignore[union-attr]
            finally:
                stop.set()
                operator.stop()
    server.stop()

    p50, p99 = statistics.median(operator_lag), percentile(operator_lag, 0.99)
    base50, base99 = statistics.median(watch_lag), percentile(watch_lag, 0.99)
    rows = [
        (
            f"all {args.burst} Jobs exist",
            all_jobs,
            create_seconds,
            "s",
            all_jobs <= 20,
            "<= 20 s",
            f"creating the {args.burst} Run CRs",
        ),
        ("Job status -> Run status, p50", p50, base50, "s", p50 < 1, "< 1 s", "plain watch sees the Job change"),
        ("Job status -> Run status, p99", p99, base99, "s", True, "-", "plain watch sees the Job change"),
        (
            f"operator RSS after {args.total} runs",
            loaded_rss,
            idle_rss,
            "MB",
            loaded_rss <= 200,
            "<= 200 MB",
            "idle operator",
        ),
    ]
    table = Table(title="digitalhub operator on the emulator")
    for column in ("metric", "measured", "baseline", "ratio", "target", "met", "baseline is"):
        table.add_column(column, justify="left" if column in ("metric", "baseline is") else "right")
    for metric, value, baseline, unit, met, target, what in rows:
        ratio = value / baseline if baseline else float("inf")
        table.add_row(
            metric,
            f"{value:.3f} {unit}",
            f"{baseline:.3f} {unit}",
            f"{ratio:.1f}x",
            target,
            "[green]yes[/green]" if met else "[red]no[/red]",
            what,
        )
    console.print(table)
    return 0 if all(row[4] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
