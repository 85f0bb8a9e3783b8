"""Start-up costs: importing the SDK, a run in a child process (first and repeated), a pod's runner, an in-process run.

Every figure is a median of fresh measurements in this run, next to its target, with its ratio to bare
``python -c pass`` measured in the same run (a ratio says how much the runtime adds to the interpreter, whatever
the machine's load). Bytecode of the package is compiled first, as an installed package's is.

    python benchmarks/startup.py [--samples 7]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "operator")]
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "operator"), os.environ.get("PYTHONPATH", "")])

HANDLER = (
    "def main(stamp=None):\n"
    "    import time\n"
    "    if stamp:\n"
    "        open(stamp, 'w').write(repr(time.time()))\n"
    "    return 1\n"
)

FIRST_RUN = textwrap.dedent(
    """
    import json, os, sys, time
    import digitalhub_runtime_python as dh
    project = dh.get_or_create_project("bench", home=sys.argv[1])
    function = project.new_function("f", code=sys.argv[2], handler="main")
    start = time.perf_counter()
    run = function.run("job", isolation="subprocess").wait(120)
    first = time.perf_counter() - start
    assert run.status.state == "COMPLETED", run.status.message
    repeated = []
    for _ in range(int(sys.argv[3])):
        start = time.perf_counter()
        run = function.run("job", isolation="subprocess").wait(120)
        repeated.append(time.perf_counter() - start)
        assert run.status.state == "COMPLETED", run.status.message
    inprocess = []
    for _ in range(200):
        start = time.perf_counter()
        function.run("job").wait()
        inprocess.append(time.perf_counter() - start)
    print(json.dumps({"first": first, "repeated": repeated, "inprocess": inprocess}))
    """
)


def wall(argv: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def in_pod_runner(samples: int, work: Path) -> list[float]:
    """Process start to handler call of ``python -m digitalhub_runtime_python.runner`` against the emulator."""
    from digitalhub_runtime_python.api import get_or_create_project
    from digitalhub_runtime_python.contract import command, run_env
    from digitalhub_runtime_python.models.crds import build_crds
    from digitalhub_runtime_python.models.task import Action
    from digitalhub_runtime_python.settings import Settings
    from tests.kube.server import EmulatorServer

    server = EmulatorServer(build_crds()).start()
    try:
        kubeconfig = server.kubeconfig(work / "kubeconfig", "default")
        os.environ["KUBECONFIG"] = str(kubeconfig)
        project = get_or_create_project("bench", backend="kubernetes")
        function = project.new_function("stamp", code=HANDLER, handler="main")
        delays = []
        for i in range(samples):
            stamp = work / f"stamp-{i}"
            run = function.run("job", parameters={"stamp": str(stamp)})
            env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
            settings = Settings(backend="kubernetes", home=work / f"pod-{i}", namespace="default")
            env.update({item["name"]: item["value"] for item in run_env(run.key, settings)})
            start = time.time()
            subprocess.run(command(Action.JOB, run.key), env=env, check=True, capture_output=True, cwd=work)
            delays.append(float(stamp.read_text()) - start)
        return delays
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=7)
    parser.add_argument("--repeated", type=int, default=30)
    args = parser.parse_args()
    compileall.compile_dir(ROOT / "digitalhub_runtime_python", quiet=1)
    python = sys.executable

    bare = [wall([python, "-c", "pass"]) for _ in range(args.samples)]
    sdk = [wall([python, "-c", "import digitalhub_runtime_python"]) for _ in range(args.samples)]
    models = [wall([python, "-c", "import digitalhub_runtime_python.models"]) for _ in range(args.samples)]
    kubernetes = [wall([python, "-c", "import kubernetes.client"]) for _ in range(args.samples)]
    first, repeated, inprocess = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.samples):
            out = subprocess.run(
                [python, "-c", FIRST_RUN, str(Path(tmp, f"home-{i}")), HANDLER, str(args.repeated if i == 0 else 0)],
                check=True,
                capture_output=True,
                text=True,
                cwd=tmp,
            ).stdout
            measured = json.loads(out.strip().splitlines()[-1])
            first.append(measured["first"])
            repeated += measured["repeated"]
            inprocess += measured["inprocess"]
        pod = in_pod_runner(args.samples, Path(tmp))

    baseline = median_ms(bare)
    rows = [
        ("python -c pass (baseline)", median_ms(bare), None),
        ("import digitalhub_runtime_python", median_ms(sdk), 150.0),
        ("import digitalhub_runtime_python.models", median_ms(models), None),
        ("subprocess run, first in its process", median_ms(first), 250.0),
        ("subprocess run, repeated (fork server)", median_ms(repeated), 30.0),
        ("in-pod runner: process start -> handler call", median_ms(pod), 300.0),
        ("  of which the official Kubernetes client's import", median_ms(kubernetes) - baseline, None),
        ("in-process run", median_ms(inprocess), 1.0),
    ]
    table = Table(title=f"Start-up, medians of {args.samples} samples ({args.repeated} for repeated runs)")
    for column in ("measure", "median ms", "x python -c pass", "target ms", "meets"):
        table.add_column(column, justify="right" if column != "measure" else "left")
    for name, value, target in rows:
        meets = "" if target is None else ("yes" if value <= target else "NO")
        table.add_row(name, f"{value:.1f}", f"{value / baseline:.2f}", "" if target is None else f"{target:g}", meets)
    Console(width=120).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
