"""The operator under load: the real operator process against the stock test emulator on loopback (tests/kube).

The scenario runs twice, each time on a fresh emulator and operator: once bare, once with ``--unrelated`` Pods in
the namespace that are not the operator's (created before it starts, and a part of them changed during the burst).

1. Burst: ``--runs`` Run CRs created at once (16 client threads) -> seconds until every Job exists.
   Baseline: seconds the client took to create the Run CRs (the API's own pace). Target: <= 30 s.
2. Propagation: ``--rounds`` Jobs marked Failed one after another -> seconds until the Run shows ERROR.
   Baseline: seconds until a plain watch on Jobs sees the same change (the floor for any watcher).
   Targets: p50 <= 100 ms, p99 <= 1 s.
3. Memory: operator RSS once every run has its Job. Baseline: RSS of the idle operator. Target: <= 200 MB.
4. Unrelated Pods: operator CPU seconds and RSS over the scenario with them, against the bare run.
   Target: within 10% (the API server filters the operator's watches by label: it never receives them).

The emulator is an in-memory Python server sharing this machine (in a process of its own, so the benchmark's
clients do not slow it down), so absolute numbers say little about a real API server; the baselines measured in
the same run show what the operator adds.

    python benchmarks/operator.py [--runs 1000] [--rounds 100] [--unrelated 5000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
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
    """Watch a resource in a thread (plain JSON, resumed from the last version); ``seen_when(event) -> name | None``
    decides what counts."""
    seen = Seen()

    def loop() -> None:
        with config.new_client_from_config(config_file=str(kubeconfig)) as api:
            apis = {
                "jobs": client.BatchV1Api(api).list_namespaced_job,
                "runs": client.CustomObjectsApi(api).list_namespaced_custom_object,
            }
            stream = watch.Watch()
            while not stop.is_set():
                version = {"resource_version": stream.resource_version} if stream.resource_version else {}
                try:
                    for event in stream.stream(apis[list_call], *args, timeout_seconds=5, deserialize=False, **version):
                        name = seen_when(event)
                        if name:
                            seen.mark(name)
                        if stop.is_set():
                            return
                except Exception as exc:  # a dropped connection on a loaded machine: watch again
                    print(f"  (watch of {list_call} restarted: {type(exc).__name__})", flush=True)

    threading.Thread(target=loop, daemon=True).start()
    return seen


def create_runs(world: World, count: int, function_key: str, task_key: str) -> tuple[list[str], float]:
    """Create ``count`` Run CRs from 16 threads; their ids and how long the creation took."""
    runs = []
    for _ in range(count):
        run_id = os.urandom(8).hex()
        spec = {"task": task_key, "function": function_key, "action": "job"}
        runs.append(validate(Run, {"project": PROJECT, "name": run_id, "id": run_id, "spec": spec}))
    started = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(world.store.create, runs))
    return [run.id for run in runs], time.perf_counter() - started


def unrelated_pod(index: int) -> dict[str, Any]:
    return {
        "metadata": {"name": f"other-{index}", "labels": {"app": "someone-else"}},
        "spec": {"containers": [{"name": "main", "image": "nginx"}]},
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Measured:
    create_seconds: float
    all_jobs_seconds: float
    lag: list[float]
    watch_lag: list[float]
    idle_rss: float
    loaded_rss: float
    cpu_seconds: float


def explain(world: World, operator: OperatorProcess, run_id: str) -> None:
    """What the run, its Job and the operator say, when a run did not follow its Job."""
    run = world.store.get_run(f"store://{PROJECT}/run/python+run/{run_id}:{run_id}")
    print(f"run {run_id}: {run.status.state} {run.status.message!r}; job: {world.job(f'run-{run_id}')['status']}")
    print("operator log:", "".join(line for line in operator.log_tail(20000).splitlines(True) if " INFO " not in line))
    print(operator.probe("/metrics").text[-3000:])


def serve_emulator(kubeconfig: Path) -> None:
    """Child mode: serve the stock test emulator until stdin closes, with a kubeconfig for it at ``kubeconfig``."""
    server = kube_server.EmulatorServer(build_crds()).start()
    server.kubeconfig(kubeconfig, NAMESPACE)
    print("ready", flush=True)
    sys.stdin.read()
    server.stop()


def start_emulator(kubeconfig: Path) -> subprocess.Popen:
    child = subprocess.Popen(
        [sys.executable, __file__, "--emulator", str(kubeconfig)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert child.stdout is not None and child.stdout.readline().strip() == b"ready", "the emulator did not start"
    return child


def stop_emulator(child: subprocess.Popen) -> None:
    assert child.stdin is not None
    child.stdin.close()
    child.wait(30)


def scenario(console: Console, runs: int, rounds: int, unrelated: int) -> Measured:
    stop = threading.Event()
    with tempfile.TemporaryDirectory() as tmp:
        kubeconfig = Path(tmp) / "kubeconfig"
        emulator = start_emulator(kubeconfig)
        try:
            with config.new_client_from_config(config_file=str(kubeconfig)) as api:
                api.configuration.connection_pool_maxsize = 16
                core = client.CoreV1Api(api)
                core.create_namespace({"metadata": {"name": NAMESPACE}})
                if unrelated:
                    console.print(f"  creating {unrelated} unrelated pods ...")
                    with ThreadPoolExecutor(16) as pool:
                        list(
                            pool.map(
                                lambda i: core.create_namespaced_pod(NAMESPACE, unrelated_pod(i)), range(unrelated)
                            )
                        )
                world = World(api, NAMESPACE)
                operator = OperatorProcess(
                    kubeconfig, NAMESPACE, Path(tmp) / "operator.log", DIGITALHUB_OPERATOR_CHECK_INTERVAL="5"
                ).start(timeout=120)
                try:
                    process = psutil.Process(operator.process.pid)  # type: ignore[union-attr]
                    idle_rss = process.memory_info().rss / 2**20
                    jobs_added = follow(
                        kubeconfig,
                        "jobs",
                        (NAMESPACE,),
                        lambda e: e["type"] == "ADDED" and e["object"]["metadata"]["name"],
                        stop,
                    )
                    jobs_failed = follow(
                        kubeconfig,
                        "jobs",
                        (NAMESPACE,),
                        lambda e: (
                            (e["object"].get("status") or {}).get("conditions") and e["object"]["metadata"]["name"]
                        ),
                        stop,
                    )
                    runs_errored = follow(
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
                    churn = threading.Thread(
                        target=lambda: [
                            core.patch_namespaced_pod_status(f"other-{i}", NAMESPACE, {"status": {"phase": "Running"}})
                            for i in range(min(unrelated, 1000))
                        ],
                        daemon=True,
                    )

                    console.print(f"  burst: creating {runs} runs at once ...")
                    cpu_before = sum(process.cpu_times()[:2])
                    started = time.perf_counter()
                    churn.start()
                    burst, create_seconds = create_runs(world, runs, function.key, task.key)
                    all_jobs = jobs_added.wait({f"run-{run_id}" for run_id in burst}, 300) - started
                    churn.join()
                    time.sleep(1)
                    loaded_rss = process.memory_info().rss / 2**20

                    console.print(f"  propagation: failing {rounds} jobs one at a time ...")
                    lag, watch_lag = [], []
                    for run_id in burst[:rounds]:
                        patched = time.perf_counter()
                        world.job_status(f"run-{run_id}", job_condition("Failed", "BackoffLimitExceeded", "bench"))
                        watch_lag.append(jobs_failed.wait({f"run-{run_id}"}, 30) - patched)
                        try:
                            lag.append(runs_errored.wait({run_id}, 30) - patched)
                        except TimeoutError:
                            explain(world, operator, run_id)
                            raise
                    cpu_seconds = sum(process.cpu_times()[:2]) - cpu_before
                finally:
                    stop.set()
                    operator.stop()
        finally:
            stop_emulator(emulator)
    return Measured(create_seconds, all_jobs, lag, watch_lag, idle_rss, loaded_rss, cpu_seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--unrelated", type=int, default=5000)
    parser.add_argument("--emulator", type=Path, help=argparse.SUPPRESS)  # child mode: serve the emulator
    args = parser.parse_args()
    if args.emulator:
        serve_emulator(args.emulator)
        return 0
    console = Console(width=140)
    console.print("bare:")
    bare = scenario(console, args.runs, args.rounds, 0)
    console.print(f"with {args.unrelated} unrelated pods:")
    busy = scenario(console, args.runs, args.rounds, args.unrelated)

    p50, p99 = statistics.median(bare.lag), percentile(bare.lag, 0.99)
    watch50, watch99 = statistics.median(bare.watch_lag), percentile(bare.watch_lag, 0.99)
    cpu_ratio, rss_ratio = busy.cpu_seconds / bare.cpu_seconds, busy.loaded_rss / bare.loaded_rss
    rows = [
        (f"all {args.runs} Jobs exist", f"{bare.all_jobs_seconds:.1f} s", f"{bare.create_seconds:.1f} s",
         "creating the Run CRs", "<= 30 s", bare.all_jobs_seconds <= 30),
        ("Job status -> Run status, p50", f"{p50 * 1000:.0f} ms", f"{watch50 * 1000:.0f} ms",
         "a plain watch sees the Job change", "<= 100 ms", p50 <= 0.1),
        ("Job status -> Run status, p99", f"{p99 * 1000:.0f} ms", f"{watch99 * 1000:.0f} ms",
         "a plain watch sees the Job change", "<= 1 s", p99 <= 1),
        (f"operator RSS with {args.runs} runs", f"{bare.loaded_rss:.0f} MB", f"{bare.idle_rss:.0f} MB",
         "the idle operator", "<= 200 MB", bare.loaded_rss <= 200),
        (f"operator CPU, {args.unrelated} unrelated pods", f"{busy.cpu_seconds:.1f} s", f"{bare.cpu_seconds:.1f} s",
         "the bare run", "within 10%", cpu_ratio <= 1.1),
        (f"operator RSS, {args.unrelated} unrelated pods", f"{busy.loaded_rss:.0f} MB", f"{bare.loaded_rss:.0f} MB",
         "the bare run", "within 10%", rss_ratio <= 1.1),
        (f"all {args.runs} Jobs exist, unrelated pods", f"{busy.all_jobs_seconds:.1f} s",
         f"{busy.create_seconds:.1f} s", "creating the Run CRs", "<= 30 s", busy.all_jobs_seconds <= 30),
    ]  # fmt: skip
    table = Table(title=f"digitalhub operator on the emulator: {args.runs} runs, {args.rounds} propagation rounds")
    for column in ("metric", "measured", "baseline", "baseline is", "target", "met"):
        table.add_column(column, justify="left" if column in ("metric", "baseline is") else "right")
    for metric, value, baseline, what, target, met in rows:
        table.add_row(metric, value, baseline, what, target, "[green]yes[/green]" if met else "[red]no[/red]")
    console.print(table)
    return 0 if all(row[-1] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
