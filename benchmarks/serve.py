"""Throughput and latency of the serving runtime against a bare uvicorn + Starlette app, same handler.

Both servers run as child processes with the same uvicorn settings (one worker, access log off, the same
event loop and HTTP parser); the runtime's server is started the real way, ``fn.run(action="serve")``. They are
measured alternately, several rounds each, with the same load generator: ``wrk`` when installed (Debian
package ``wrk``), else an async httpx client. Each row is the median round. Target: the runtime's requests/s
>= 0.85x the bare app's, for both an async and a sync handler.

    python benchmarks/serve.py [--duration 5] [--rounds 3] [--connections 32] [--client wrk|httpx]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET = 0.85
BODY = b'{"x": 1}'
# The handlers under test, served unchanged by both servers.
HANDLERS = """
async def async_handler():
    return {"ok": True}


def sync_handler():
    return {"ok": True}
"""


def bare_app(handler_name: str):
    """The baseline: one Starlette route calling the handler and answering JSON, nothing else."""
    import inspect

    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    namespace: dict = {}
    exec(HANDLERS, namespace)
    handler = namespace[handler_name]

    async def endpoint(request: Request) -> JSONResponse:
        await request.body()
        value = await handler() if inspect.iscoroutinefunction(handler) else await run_in_threadpool(handler)
        return JSONResponse(value)

    return Starlette(routes=[Route("/", endpoint, methods=["GET", "POST"])])


def serve_bare(handler_name: str, port: int) -> None:
    import uvicorn

    uvicorn.run(bare_app(handler_name), host="127.0.0.1", port=port, access_log=False, log_level="warning")


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float


def _wait_ready(url: str, timeout: float = 30.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if (
                httpx.post(url, content=BODY, headers={"content-type": "application/json"}, timeout=2).status_code
                == 200
            ):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_wrk(url: str, duration: float, connections: int) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            f'wrk.method = "POST"\nwrk.body = \'{BODY.decode()}\'\nwrk.headers["Content-Type"] = "application/json"\n'
        )
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--latency", "-s", script.name, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out) or "Socket errors" in out:
        raise RuntimeError(f"wrk saw failed requests:\n{out}")

    def latency(label: str) -> float:
        value, unit = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return Result(rps, latency("50%"), latency("99%"))


def load_httpx(url: str, duration: float, connections: int) -> Result:
    import httpx

    async def run() -> list[float]:
        latencies: list[float] = []
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(limits=limits, timeout=10) as client:
            end = time.perf_counter() + duration

            async def worker() -> None:
                while (start := time.perf_counter()) < end:
                    response = await client.post(url, content=BODY, headers={"content-type": "application/json"})
                    response.raise_for_status()
                    latencies.append(time.perf_counter() - start)

            await asyncio.gather(*(worker() for _ in range(connections)))
        return latencies

    latencies = sorted(asyncio.run(run()))
    return Result(
        len(latencies) / duration, latencies[len(latencies) // 2] * 1000, latencies[int(len(latencies) * 0.99)] * 1000
    )


def start_runtime(home: Path, handler_name: str):
    import digitalhub_runtime_python as dh

    code = home / "handlers.py"
    code.write_text(HANDLERS)
    project = dh.get_or_create_project("bench", home=home / "store")
    function = project.new_function(handler_name.replace("_", "-"), code_src=str(code), handler=handler_name)
    run = function.run("serve", envs={"DIGITALHUB_SERVE_ACCESS_LOG": "false", "DIGITALHUB_SERVE_MAX_CONCURRENCY": "0"})
    if run.status.state != "RUNNING":
        raise RuntimeError(f"serve run failed: {run.status.message}")
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--client", choices=["wrk", "httpx"], default="wrk" if shutil.which("wrk") else "httpx")
    parser.add_argument("--bare", nargs=2, metavar=("HANDLER", "PORT"), help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args()
    if args.bare:
        serve_bare(args.bare[0], int(args.bare[1]))
        return 0
    load = load_wrk if args.client == "wrk" else load_httpx
    console = Console(width=120)
    table = Table(
        title=f"serve, trivial handler, runtime vs bare uvicorn + Starlette: {args.client}, "
        f"{args.connections} connections, {args.duration:g} s x {args.rounds} rounds (median round)"
    )
    for column in ("handler", "server", "requests/s", "p50 ms", "p99 ms", "ratio vs bare", "target"):
        table.add_column(column, justify="left" if column in ("handler", "server") else "right")
    worst = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        for handler_name in ("async_handler", "sync_handler"):
            port = _free_port()
            bare = subprocess.Popen([sys.executable, __file__, "--bare", handler_name, str(port)])
            run = start_runtime(Path(tmp), handler_name)
            try:
                urls = {"bare Starlette": f"http://127.0.0.1:{port}/", "runtime": f"{run.endpoint}/"}
                for url in urls.values():
                    _wait_ready(url)
                    load(url, 1.0, args.connections)  # warm-up
                rounds: dict[str, list[Result]] = {name: [] for name in urls}
                for _ in range(args.rounds):
                    for name, url in urls.items():
                        rounds[name].append(load(url, args.duration, args.connections))
            finally:
                run.stop()
                bare.terminate()
                bare.wait()
            results = {name: sorted(rs, key=lambda r: r.rps)[len(rs) // 2] for name, rs in rounds.items()}
            base = results["bare Starlette"].rps
            for name, result in results.items():
                ratio = result.rps / base
                is_runtime = name == "runtime"
                if is_runtime:
                    worst = min(worst, ratio)
                table.add_row(
                    handler_name,
                    name,
                    f"{result.rps:,.0f}",
                    f"{result.p50_ms:.2f}",
                    f"{result.p99_ms:.2f}",
                    f"{ratio:.2f}x",
                    (f">= {TARGET}x " + ("ok" if ratio >= TARGET else "MISSED")) if is_runtime else "baseline",
                )
    console.print(table)
    return 0 if worst >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
