"""Throughput and latency of the serving runtime against a bare uvicorn + Starlette app, same handler.

Both servers run as child processes with the same uvicorn settings (one worker, access log off, the same
event loop and HTTP parser); the runtime's server is started the real way, ``fn.run(action="serve")``. They are
measured alternately, several rounds each, with the same load generator: ``wrk`` when installed (Debian
package ``wrk``), else an async httpx client. Each row is the median round. Target: the runtime's requests/s
>= 0.85x the bare app's, for both an async and a sync handler.

Image in, image out: a command taking and answering ``image()`` (a 512x512 PNG data URI in a JSON body, decoded to
a Pillow image and encoded back) against a Starlette route doing the same conversion with Pillow directly. Target:
>= 0.9x.

Async jobs (the trivial async handler as a job): ``--jobs`` jobs submitted one per request by ``--connections``
clients, then long-polled until finished, then each polled once more. Baseline: the in-memory job store with one
server. Measured: two servers sharing a Redis (Debian's ``redis-server`` on loopback, append-only file on), the
clients spread over both. Targets: jobs submitted/s and completed/s >= 0.5x the baseline, p99 latency of a status
poll <= 3x (Redis adds a network round trip per request on a machine that also runs the load).

    python benchmarks/serve.py [--duration 5] [--rounds 3] [--connections 32] [--client wrk|httpx]
                               [--jobs 1000] [--skip-http] [--skip-jobs] [--skip-image]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import astuple, dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET = 0.85
IMAGE_TARGET = 0.9
IMAGE_SIZE = 512
JOBS_TARGETS = {"submitted/s": 0.5, "completed/s": 0.5, "p99 poll ms": 3.0}  # ratio vs memory; poll: at most
BODY = b'{"x": 1}'
# The handlers under test, served unchanged by both servers.
HANDLERS = """
async def async_handler():
    return {"ok": True}


def sync_handler():
    return {"ok": True}
"""


# The image command under test: the data type decodes the request's data URI and encodes the returned image.
IMAGE_MODULE = """
from digitalhub_runtime_python import command
from digitalhub_runtime_python.serving.types import image


@command("image", inputs={"image": image()}, outputs={"image": image()})
def image_command(image):
    return {"image": image}
"""


def image_body() -> bytes:
    """A JSON body carrying a 512x512 RGB PNG (gradients: compressible like a picture, not like noise)."""
    import base64
    import io
    import json

    from PIL import Image

    gradient = Image.linear_gradient("L").resize((IMAGE_SIZE, IMAGE_SIZE))
    picture = Image.merge("RGB", (gradient, gradient.rotate(90), Image.radial_gradient("L").resize(gradient.size)))
    out = io.BytesIO()
    picture.save(out, format="png")
    return json.dumps({"image": "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()}).encode()


def bare_image_app():
    """The image baseline: the same conversion (base64 data URI -> Pillow RGB image -> PNG data URI) by hand."""
    import base64
    import io

    from PIL import Image
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def endpoint(request: Request) -> JSONResponse:
        uri = (await request.json())["image"]
        picture = Image.open(io.BytesIO(base64.b64decode(uri.partition(",")[2], validate=True)))
        if picture.mode != "RGB":
            picture = picture.convert("RGB")
        out = io.BytesIO()
        picture.save(out, format="png")
        return JSONResponse({"image": "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()})

    return Starlette(routes=[Route("/image", endpoint, methods=["POST"])])


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

    app = bare_image_app() if handler_name == "image_command" else bare_app(handler_name)
    uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, log_level="warning")


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float


def _wait_ready(url: str, body: bytes = BODY, timeout: float = 30.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if (
                httpx.post(url, content=body, headers={"content-type": "application/json"}, timeout=2).status_code
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


def load_wrk(url: str, body: bytes, duration: float, connections: int) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            f'wrk.method = "POST"\nwrk.body = \'{body.decode()}\'\nwrk.headers["Content-Type"] = "application/json"\n'
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


def load_httpx(url: str, body: bytes, duration: float, connections: int) -> Result:
    import httpx

    async def run() -> list[float]:
        latencies: list[float] = []
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(limits=limits, timeout=10) as client:
            end = time.perf_counter() + duration

            async def worker() -> None:
                while (start := time.perf_counter()) < end:
                    response = await client.post(url, content=body, headers={"content-type": "application/json"})
                    response.raise_for_status()
                    latencies.append(time.perf_counter() - start)

            await asyncio.gather(*(worker() for _ in range(connections)))
        return latencies

    latencies = sorted(asyncio.run(run()))
    return Result(
        len(latencies) / duration, latencies[len(latencies) // 2] * 1000, latencies[int(len(latencies) * 0.99)] * 1000
    )


def start_runtime(home: Path, handler_name: str, envs: dict[str, str] | None = None):
    import digitalhub_runtime_python as dh

    code = home / "handlers.py"
    code.write_text(HANDLERS + IMAGE_MODULE)
    project = dh.get_or_create_project("bench", home=home / "store")
    function = project.new_function(handler_name.replace("_", "-"), code_src=str(code), handler=handler_name)
    envs = envs or {"DIGITALHUB_SERVE_ACCESS_LOG": "false", "DIGITALHUB_SERVE_MAX_CONCURRENCY": "0"}
    run = function.run("serve", envs=envs)
    if run.status.state != "RUNNING":
        raise RuntimeError(f"serve run failed: {run.status.message}")
    return run


@dataclass
class JobsResult:
    submitted_per_s: float
    completed_per_s: float
    p99_poll_ms: float


def load_jobs(urls: list[str], jobs: int, connections: int) -> JobsResult:
    """Submit ``jobs`` jobs, long-poll them all until finished, then poll each once more; client ``n`` talks to
    ``urls[n % len(urls)]`` (any server answers for any job)."""
    import httpx

    async def run() -> JobsResult:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(limits=limits, timeout=60) as client:
            ids: list[str] = []
            submissions = itertools.count()
            start = time.perf_counter()

            async def submitter(url: str) -> None:
                while next(submissions) < jobs:
                    response = await client.post(f"{url}/jobs", json={"args": {"x": 1}})
                    response.raise_for_status()
                    ids.append(response.json()["id"])

            async def waiter(url: str, queue: list[str]) -> None:
                while queue:
                    job_id = queue.pop()
                    body = (await client.get(f"{url}/jobs/{job_id}", params={"wait": 30})).json()
                    if body["status"] != "SUCCESS":
                        raise RuntimeError(f"job {job_id} did not succeed: {body}")

            async def poller(url: str, queue: list[str], latencies: list[float]) -> None:
                while queue:
                    job_id = queue.pop()
                    before = time.perf_counter()
                    (await client.get(f"{url}/jobs/{job_id}")).raise_for_status()
                    latencies.append(time.perf_counter() - before)

            clients = [urls[n % len(urls)] for n in range(connections)]
            await asyncio.gather(*(submitter(url) for url in clients))
            submitted = time.perf_counter() - start
            queue = list(ids)
            await asyncio.gather(*(waiter(url, queue) for url in clients))
            completed = time.perf_counter() - start
            queue, latencies = list(ids), list[float]()
            await asyncio.gather(*(poller(url, queue, latencies) for url in clients))
        latencies.sort()
        return JobsResult(jobs / submitted, jobs / completed, latencies[int(len(latencies) * 0.99)] * 1000)

    return asyncio.run(run())


def start_replicas(run_key: str, env: dict[str, str], count: int) -> tuple[list[subprocess.Popen], list[str]]:
    """``count`` server processes of one serve run (as a Deployment's pods would be), ready."""
    from digitalhub_runtime_python.contract import command
    from digitalhub_runtime_python.models.task import Action

    processes, urls = [], []
    for _ in range(count):
        port = _free_port()
        child_env = {**os.environ, **env, "PORT": str(port), "DIGITALHUB_SERVE_HOST": "127.0.0.1"}
        processes.append(subprocess.Popen(command(Action.SERVE, run_key), env=child_env, stdout=subprocess.DEVNULL))
        urls.append(f"http://127.0.0.1:{port}")
    for url in urls:
        _wait_ready(url)
    return processes, urls


def bench_jobs(console: Console, tmp: Path, jobs: int, connections: int, rounds: int) -> bool:
    """The async-jobs table (median of ``rounds`` alternating measurements); True when every target is met."""
    from tests.servers.redis import PASSWORD, RedisServer

    quiet = {"DIGITALHUB_SERVE_ACCESS_LOG": "false", "DIGITALHUB_SERVE_MAX_CONCURRENCY": "0"}
    memory_run = start_runtime(tmp, "async_handler", quiet)
    shared = {**quiet, "DIGITALHUB_SERVE_JOB_STORE_PASSWORD": PASSWORD, **memory_run.backend.settings.environ()}
    processes: list[subprocess.Popen] = []
    try:
        with RedisServer(tmp / "redis") as redis:
            shared["DIGITALHUB_SERVE_JOB_STORE"] = redis.url
            processes, urls = start_replicas(memory_run.key, shared, 2)  # the same run: one namespace in Redis
            setups = {"memory, 1 server": [memory_run.endpoint], "Redis, 2 servers": urls}
            measured: dict[str, list[JobsResult]] = {name: [] for name in setups}
            for targets in setups.values():
                load_jobs(targets, min(jobs, 200), connections)  # warm-up
            for _ in range(rounds):
                for name, targets in setups.items():
                    measured[name].append(load_jobs(targets, jobs, connections))
    finally:
        for process in processes:
            process.terminate()
            process.wait()
        memory_run.stop()
    table = Table(
        title=f"async jobs, trivial async handler: {jobs} jobs, {connections} clients, {rounds} rounds (median): "
        "Redis with 2 servers vs memory with 1"
    )
    columns = list(JOBS_TARGETS)
    for column in ("store", *columns):
        table.add_column(column, justify="left" if column == "store" else "right")
    medians = {
        name: [statistics.median(column) for column in zip(*map(astuple, rs), strict=True)]
        for name, rs in measured.items()
    }
    base, value = medians["memory, 1 server"], medians["Redis, 2 servers"]
    table.add_row("memory, 1 server (baseline)", *(f"{v:,.1f}" for v in base))
    table.add_row("Redis, 2 servers", *(f"{v:,.1f}" for v in value))
    ok, ratios = True, []
    for column, before, after in zip(columns, base, value, strict=True):
        ratio, target, at_most = after / before, JOBS_TARGETS[column], column.startswith("p99")
        met = ratio <= target if at_most else ratio >= target
        ok = ok and met
        ratios.append(f"{ratio:.2f}x ({'<=' if at_most else '>='} {target}x {'ok' if met else 'MISSED'})")
    table.add_row("ratio (target)", *ratios)
    console.print(table)
    return ok


@dataclass(frozen=True)
class Case:
    """One row pair: the handler (or command) both servers run, the path, the body, the target ratio, and at most
    how many connections load it (a slow request must not time out in the load generator's queue)."""

    handler: str
    path: str
    body: bytes
    target: float
    max_connections: int = 1024


def bench_http(console: Console, tmp: Path, args: argparse.Namespace) -> bool:
    """The handler table: runtime vs bare Starlette; True when every target is met."""
    load = load_wrk if args.client == "wrk" else load_httpx
    table = Table(
        title=f"serve, runtime vs bare uvicorn + Starlette: {args.client}, "
        f"{args.connections} connections, {args.duration:g} s x {args.rounds} rounds (median round)"
    )
    for column in ("handler", "server", "requests/s", "p50 ms", "p99 ms", "ratio vs bare", "target"):
        table.add_column(column, justify="left" if column in ("handler", "server") else "right")
    cases = [Case("async_handler", "/", BODY, TARGET), Case("sync_handler", "/", BODY, TARGET)]
    if not args.skip_image:
        cases.append(Case("image_command", "/image", image_body(), IMAGE_TARGET, max_connections=4))
    ok = True
    for case in cases:
        connections = min(args.connections, case.max_connections)
        port = _free_port()
        bare = subprocess.Popen([sys.executable, __file__, "--bare", case.handler, str(port)])
        run = start_runtime(tmp, case.handler)
        try:
            urls = {"bare Starlette": f"http://127.0.0.1:{port}{case.path}", "runtime": f"{run.endpoint}{case.path}"}
            for url in urls.values():
                _wait_ready(url, case.body)
                load(url, case.body, 1.0, connections)  # warm-up
            rounds: dict[str, list[Result]] = {name: [] for name in urls}
            for _ in range(args.rounds):
                for name, url in urls.items():
                    rounds[name].append(load(url, case.body, args.duration, connections))
        finally:
            run.stop()
            bare.terminate()
            bare.wait()
        results = {name: sorted(rs, key=lambda r: r.rps)[len(rs) // 2] for name, rs in rounds.items()}
        base = results["bare Starlette"].rps
        label = (
            f"image {IMAGE_SIZE}x{IMAGE_SIZE} PNG in/out, {connections} conn."
            if case.max_connections < 1024
            else case.handler
        )
        for name, result in results.items():
            ratio = result.rps / base
            is_runtime = name == "runtime"
            met = ratio >= case.target
            if is_runtime:
                ok = ok and met
            table.add_row(
                label,
                name,
                f"{result.rps:,.0f}",
                f"{result.p50_ms:.2f}",
                f"{result.p99_ms:.2f}",
                f"{ratio:.2f}x",
                (f">= {case.target}x " + ("ok" if met else "MISSED")) if is_runtime else "baseline",
            )
    console.print(table)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--client", choices=["wrk", "httpx"], default="wrk" if shutil.which("wrk") else "httpx")
    parser.add_argument("--jobs", type=int, default=1000, help="async jobs per measurement")
    parser.add_argument("--skip-http", action="store_true", help="measure the async jobs only")
    parser.add_argument("--skip-jobs", action="store_true", help="measure the HTTP handler only")
    parser.add_argument("--skip-image", action="store_true", help="leave out the image-in/image-out row")
    parser.add_argument("--bare", nargs=2, metavar=("HANDLER", "PORT"), help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args()
    if args.bare:
        serve_bare(args.bare[0], int(args.bare[1]))
        return 0
    console = Console(width=120)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_http:
            ok = bench_http(console, Path(tmp), args) and ok
        if not args.skip_jobs:
            ok = bench_jobs(console, Path(tmp), args.jobs, args.connections, args.rounds) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
