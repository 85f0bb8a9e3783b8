"""Function environments: what a warm one adds to a subprocess run, and a cold build against plain uv.

Both figures are measured side by side in this run, next to their targets:

- warm: a subprocess run of a function whose environment is built, against the same run of a function without
  requirements, both started as a new interpreter (the fork server only starts runs on the launcher's own
  interpreter, so the baseline does not use it either; its figure is shown too). Target: adds <= 20 ms. The two
  steps an environment adds are timed on their own too (the wall-clock difference is noisy on a loaded machine).
- cold: building the environment (uv venv, resolve, install) with every package in uv's cache, against
  ``uv venv`` + ``uv pip install`` of the same requirements into a fresh virtualenv with the same cache.
  Target: <= 2x.

Packages come from wheels built here (a chain of small packages), so nothing is downloaded; ``--requirement``
adds others from the configured index (they are fetched once into the cache before timing). Bytecode of the
package is compiled first, as an installed package's is.

    python benchmarks/environments.py [--samples 9] [--packages 12] [--requirement numpy ...]
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "operator")]
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "operator"), os.environ.get("PYTHONPATH", "")])

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.environments.cache import ensure_environment
from digitalhub_runtime_python.environments.specs import environment_spec
from digitalhub_runtime_python.environments.uv import run_uv
from digitalhub_runtime_python.launchers.environments import run_python
from digitalhub_runtime_python.models.function import FunctionSpec
from tests.servers.package_index import PackageIndex

CODE = "import benchpkg0\n\ndef main():\n    return benchpkg0.VALUE\n"


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed_run(function: dh.Function) -> tuple[float, dh.Run]:
    start = time.perf_counter()
    run = function.run("job", isolation="subprocess").wait(300)
    elapsed = time.perf_counter() - start
    assert run.status.state == "COMPLETED", run.status.message
    return elapsed, run


def warm(work: Path, requirements: list[str], samples: int) -> dict[str, list[float]]:
    """Subprocess runs: no requirements (new interpreter; fork server) and a built environment (new interpreter),
    and the two steps an environment adds: the launcher's choice of Python, the entrypoint's check."""
    project = dh.get_or_create_project("bench", home=work / "home")
    launcher = project.backend.launcher("job", True)
    plain = project.new_function("plain", code="def main():\n    return 1\n", handler="main")
    with_env = project.new_function("withenv", code=CODE, handler="main", requirements=requirements)
    _, built = timed_run(with_env)  # builds the environment
    timed_run(plain)  # starts the fork server
    forked = [timed_run(plain)[0] for _ in range(samples)]
    launcher.fork = False
    plain_new, env_new, checks = [], [], []
    for _ in range(samples):  # interleaved: the machine's load falls on both alike
        plain_new.append(timed_run(plain)[0])
        elapsed, run = timed_run(with_env)
        env_new.append(elapsed)
        checks.append(run.status.environment.seconds)
    launcher.fork = True
    choices = []
    for _ in range(samples * 10):
        start = time.perf_counter()
        run_python(project.backend, built, dict(os.environ))
        choices.append(time.perf_counter() - start)
    return {"forked": forked, "plain": plain_new, "environment": env_new, "choice": choices, "check": checks}


def cold(work: Path, requirements: list[str], samples: int) -> dict[str, list[float]]:
    """An environment build against uv venv + uv pip install, both with every package in the same uv cache."""
    environ = dict(os.environ)
    spec = environment_spec(FunctionSpec(code="x", handler="f", requirements=requirements), environ, local=True)
    assert spec is not None
    listed = work / "requirements.txt"
    listed.write_text("\n".join(requirements) + "\n")
    ours, plain = [], []
    for i in range(samples + 1):  # the first round fills uv's cache and is not counted
        root = work / f"envs-{i}"
        start = time.perf_counter()
        ensure_environment(root, spec, environ)
        built = time.perf_counter() - start
        venv = work / f"venv-{i}"
        start = time.perf_counter()
        run_uv(["venv", "--quiet", "--no-config", "--python", sys.executable, str(venv)], environ)
        run_uv(["pip", "install", "--quiet", "--no-config", "--python", str(venv), "-r", str(listed)], environ)
        installed = time.perf_counter() - start
        if i:
            ours.append(built)
            plain.append(installed)
        shutil.rmtree(root)
        shutil.rmtree(venv)
    return {"environment": ours, "uv": plain}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=9)
    parser.add_argument("--packages", type=int, default=12, help="length of the chain of local packages")
    parser.add_argument("--requirement", action="append", default=[], help="also install this (from the index)")
    args = parser.parse_args()
    compileall.compile_dir(ROOT / "digitalhub_runtime_python", quiet=1)  # as an installed package's is
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        index = PackageIndex(work / "index")
        for n in range(args.packages):
            index.add(f"benchpkg{n}", "1.0", (f"benchpkg{n + 1}",) if n + 1 < args.packages else ())
        os.environ.update({"UV_FIND_LINKS": str(index.wheels), "UV_CACHE_DIR": str(work / "uv-cache")})
        if not args.requirement:
            os.environ["UV_NO_INDEX"] = "1"
        requirements = ["benchpkg0", *args.requirement]
        warm_runs = warm(work, requirements, args.samples)
        cold_builds = cold(work, requirements, args.samples)

    plain, environment = median_ms(warm_runs["plain"]), median_ms(warm_runs["environment"])
    built, uv = median_ms(cold_builds["environment"]), median_ms(cold_builds["uv"])
    packages = f"{args.packages} local packages" + (f" + {', '.join(args.requirement)}" if args.requirement else "")
    table = Table(title=f"Function environments: medians of {args.samples} samples ({packages})")
    for column in ("measure", "median ms", "figure", "target", "meets"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    table.add_row("subprocess run, no requirements, fork server", f"{median_ms(warm_runs['forked']):.1f}", "", "", "")
    table.add_row("subprocess run, no requirements, new interpreter", f"{plain:.1f}", "baseline", "", "")
    added = environment - plain
    meets = "yes" if added <= 20 else "NO"
    table.add_row("subprocess run, warm environment", f"{environment:.1f}", f"{added:+.1f} ms", "<= +20 ms", meets)
    choice, check = median_ms(warm_runs["choice"]), median_ms(warm_runs["check"])
    table.add_row("  of which: launcher picks the Python", f"{choice:.2f}", "", "", "")
    table.add_row("  of which: entrypoint checks it is in it", f"{check:.2f}", "", "", "")
    table.add_row("uv venv + uv pip install (cached)", f"{uv:.1f}", "baseline", "", "")
    ratio = built / uv
    table.add_row(
        "cold environment build (cached)", f"{built:.1f}", f"{ratio:.2f}x", "<= 2x", "yes" if ratio <= 2 else "NO"
    )
    Console(width=140).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
