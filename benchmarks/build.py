"""Local image builds: a small function built cold, then rebuilt after a change to its code only.

``fn.run("build")`` through the docker SDK on a ``podman system service`` (as the container tests run it): FROM
the tests' local Debian base, with the runtime and one requirement from a package index on loopback (the runtime
built from this tree, the tests' wheel folder, ``tinypkg``), and one instruction. Each sample serves the index on
a new port, which the Dockerfile names: every step after FROM runs (cold). The function's code then changes and it
is built again: only the code layer is new, the dependency layers are reused. Figure: the rebuild's median over
the cold build's, measured in this run. Target: <= 0.3x.

Needs root and podman, as the container tests do (``.ci/system-packages``; ``python -m tests.containers``
prepares the base image and the wheel folder).

    python benchmarks/build.py [--samples 3]
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

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "operator")]
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "operator"), os.environ.get("PYTHONPATH", "")])

import digitalhub_runtime_python as dh
from tests.containers.base_image import ensure_base_image
from tests.containers.engine import PodmanService
from tests.containers.index import function_index
from tests.containers.wheels import ensure_wheels
from tests.servers.static_http import StaticServer

CODE = "import tinypkg\n\n\ndef main():\n    return tinypkg.VALUE\n"
TARGET = 0.3


def timed_build(function: dh.Function) -> tuple[float, str]:
    """Seconds to build ``function``'s image, and the image."""
    start = time.perf_counter()
    run = function.run("build", instructions=["echo built > /etc/built"])
    elapsed = time.perf_counter() - start
    assert run.status.state == "COMPLETED", run.status.message
    return elapsed, run.status.build.image


def sample(project: dh.Project, folder: Path, base: str, number: int) -> tuple[float, float, list[str]]:
    """One cold build and one rebuild after a code-only change: their seconds, and the images made."""
    source = folder / f"src-{number}"
    source.mkdir()
    (source / "main.py").write_text(CODE)
    spec = {"handler": "main", "requirements": ["tinypkg==1.0"], "base_image": base}
    function = project.new_function(f"bench{number}", code_src=str(source / "main.py"), **spec)
    cold, first = timed_build(function)
    (source / "main.py").write_text(CODE + f"\n# change {number}\n")
    changed = project.new_function(f"bench{number}", code_src=str(source / "main.py"), uuid=f"changed{number}", **spec)
    warm, second = timed_build(changed)
    return cold, warm, [first, second]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=3)
    args = parser.parse_args()
    base, wheels = ensure_base_image(), ensure_wheels()
    colds, warms, images = [], [], []
    with tempfile.TemporaryDirectory() as tmp, PodmanService(Path(tmp)) as client:
        work = Path(tmp)
        index = function_index(work / "index", wheels)
        os.environ.update(
            DOCKER_HOST=f"unix://{work / 'podman.sock'}",
            DIGITALHUB_BUILD_NETWORK="host",
            DIGITALHUB_BUILD_RUNTIME_EXTRAS="",
        )
        project = dh.get_or_create_project("bench", home=work / "home")
        try:
            for number in range(args.samples):
                with StaticServer(index.root) as server:  # a new port: a cold build
                    os.environ["UV_INDEX_URL"] = f"{server.base_url}/simple"
                    cold, warm, made = sample(project, work, base, number)
                colds.append(cold)
                warms.append(warm)
                images += made
        finally:
            for image in images:
                client.images.remove(image, force=True)

    cold, warm = statistics.median(colds), statistics.median(warms)
    ratio = warm / cold
    table = Table(title=f"Local image builds (docker SDK on podman): medians of {args.samples} samples")
    for column in ("measure", "median s", "figure", "target", "meets"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    table.add_row(
        "cold build: base, uv and the runtime, a requirement, an instruction, code", f"{cold:.1f}", "baseline"
    )
    meets = "yes" if ratio <= TARGET else "NO"
    table.add_row("rebuild after a code-only change", f"{warm:.1f}", f"{ratio:.2f}x", f"<= {TARGET}x", meets)
    Console(width=140).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
