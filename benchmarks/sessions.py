"""Latency of local sessions against a bare Jupyter kernel driven by jupyter_client, measured in the same run.

- Start: ``project.new_session(fn)`` until it returns (the kernel answers, the run is RUNNING), against
  ``jupyter_client.manager.start_new_kernel`` (a bare ipykernel started and ready). Target: <= 1.5 s (median).
- Round trip: a trivial ``query`` (``x = 1``) on a warm session through the SDK, against the same code executed by
  jupyter_client's blocking client on a bare kernel, from request to the kernel's idle status (the floor: the
  kernel's own work). Target: <= 5 ms (median).

Both are alternated in rounds so load from elsewhere on the machine hits them alike; the ratio to the baseline
says what the session adds (its HTTP server and client, the session's bookkeeping), whatever the machine's speed.
Besides wall time, the CPU time per round trip of each process (client, session server, kernel) is shown: on a
loaded machine it is the steadier figure.

    python benchmarks/sessions.py [--starts 5] [--queries 500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])

START_TARGET = 1.5
QUERY_TARGET = 0.005
CODE = "x = 1"


def cpu(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def bare_kernel(folder: str) -> tuple[object, object]:
    """A bare ipykernel on IPC sockets in ``folder`` (as sessions use), started by jupyter_client and ready."""
    from jupyter_client.manager import KernelManager

    manager = KernelManager(
        kernel_name="python3", transport="ipc", ip=f"{folder}/kernel", connection_file=f"{folder}/kernel.json"
    )
    manager.start_kernel(extra_arguments=["--HistoryManager.enabled=False"])
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=120)
    return manager, client


def time_bare_starts(count: int) -> list[float]:
    samples = []
    for _ in range(count):
        with tempfile.TemporaryDirectory(prefix="dh-bench-") as folder:
            start = time.perf_counter()
            manager, client = bare_kernel(folder)
            samples.append(time.perf_counter() - start)
            client.stop_channels()  # type: ignore[attr-defined]
            manager.shutdown_kernel(now=True)  # type: ignore[attr-defined]
    return samples


def bare_round_trips(count: int) -> tuple[list[float], dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="dh-bench-") as folder:
        return _bare_round_trips(folder, count)


def _bare_round_trips(folder: str, count: int) -> tuple[list[float], dict[str, float]]:
    manager, client = bare_kernel(folder)
    kernel_pid = manager.provisioner.process.pid  # type: ignore[attr-defined]

    def once() -> None:
        msg_id = client.execute(CODE)  # type: ignore[attr-defined]
        client.get_shell_msg(timeout=10)  # type: ignore[attr-defined]
        while True:
            message = client.get_iopub_msg(timeout=10)  # type: ignore[attr-defined]
            if message["parent_header"].get("msg_id") == msg_id and message["content"].get("execution_state") == "idle":
                return

    try:
        return measure(once, count, {"client": os.getpid(), "kernel": kernel_pid})
    finally:
        client.stop_channels()  # type: ignore[attr-defined]
        manager.shutdown_kernel(now=True)  # type: ignore[attr-defined]


def measure(once: Callable[[], None], count: int, pids: dict[str, int]) -> tuple[list[float], dict[str, float]]:
    for _ in range(50):  # warm-up
        once()
    before = {name: cpu(pid) for name, pid in pids.items()}
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        once()
        samples.append(time.perf_counter() - start)
    return samples, {name: (cpu(pid) - before[name]) / count for name, pid in pids.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=5, help="sessions (and bare kernels) started per round")
    parser.add_argument("--queries", type=int, default=500, help="round trips per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import psutil

    import digitalhub_runtime_python as dh

    starts: dict[str, list[float]] = {"bare": [], "session": []}
    trips: dict[str, list[float]] = {"bare": [], "session": []}
    cpus: dict[str, list[dict[str, float]]] = {"bare": [], "session": []}
    with tempfile.TemporaryDirectory() as home:
        project = dh.get_or_create_project("bench", home=home)
        fn = project.new_function("fn", code="def main():\n    return 1\n", handler="main")
        project.new_session(fn).destroy()  # warm-up: the function's code in the cache, modules on disk
        for _ in range(args.rounds):
            starts["bare"] += time_bare_starts(args.starts)
            for _ in range(args.starts):
                start = time.perf_counter()
                session = project.new_session(fn)
                starts["session"].append(time.perf_counter() - start)
                session.destroy()
            samples, used = bare_round_trips(args.queries)
            trips["bare"] += samples
            cpus["bare"].append(used)
            session = project.new_session(fn)
            server = psutil.Process(session.status.process.pid)
            kernel = next(p for p in server.children() if "ipykernel_launcher" in " ".join(p.cmdline()))
            pids = {"client": os.getpid(), "server": server.pid, "kernel": kernel.pid}
            samples, used = measure(lambda s=session: _query(s), args.queries, pids)
            trips["session"] += samples
            cpus["session"].append(used)
            session.destroy()

    console = Console()
    table = Table(title=f"local sessions vs a bare kernel ({args.rounds} rounds)")
    for column in ("measure", "bare kernel", "session", "ratio", "target", ""):
        table.add_column(column, justify="left" if column == "measure" else "right")
    start_bare, start_session = statistics.median(starts["bare"]), statistics.median(starts["session"])
    trip_bare, trip_session = statistics.median(trips["bare"]), statistics.median(trips["session"])
    ok_start, ok_trip = start_session <= START_TARGET, trip_session <= QUERY_TARGET
    table.add_row(
        "start, median s",
        f"{start_bare:.3f}",
        f"{start_session:.3f}",
        f"{start_session / start_bare:.2f}",
        f"<= {START_TARGET}",
        "OK" if ok_start else "MISSED",
    )
    table.add_row(
        "query round trip, median ms",
        f"{trip_bare * 1000:.2f}",
        f"{trip_session * 1000:.2f}",
        f"{trip_session / trip_bare:.2f}",
        f"<= {QUERY_TARGET * 1000:g}",
        "OK" if ok_trip else "MISSED",
    )
    p90 = lambda xs: sorted(xs)[int(len(xs) * 0.9)]  # noqa: E731
    table.add_row(
        "query round trip, p90 ms",
        f"{p90(trips['bare']) * 1000:.2f}",
        f"{p90(trips['session']) * 1000:.2f}",
        f"{p90(trips['session']) / p90(trips['bare']):.2f}",
        "",
        "",
    )
    for name in ("client", "server", "kernel"):
        bare = [used[name] for used in cpus["bare"] if name in used]
        session_cpu = statistics.median(used[name] for used in cpus["session"])
        table.add_row(
            f"CPU per round trip, {name}, ms",
            f"{statistics.median(bare) * 1000:.2f}" if bare else "-",
            f"{session_cpu * 1000:.2f}",
            f"{session_cpu / statistics.median(bare):.2f}" if bare else "",
            "",
            "",
        )
    console.print(table)
    console.print(f"load average during the run: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0 if ok_start and ok_trip else 1


def _query(session: object) -> None:
    result = session.execute(code=CODE)  # type: ignore[attr-defined]
    assert result["status"] == "finished", result


if __name__ == "__main__":
    sys.exit(main())
