"""``runner --self-check``: whether this environment (a runtime image) can execute what a run's pod executes."""

from __future__ import annotations

import platform
import sys
from importlib import import_module, metadata
from typing import TextIO

from digitalhub_runtime_python.contract import ENTRYPOINTS
from digitalhub_runtime_python.extras import DISTRIBUTION, EXTRAS, missing_modules
from digitalhub_runtime_python.models.task import Action

REQUIRED = [ENTRYPOINTS[Action.JOB], "digitalhub_runtime_python.backends.kubernetes", "kubernetes.client"]
"""What every pod imports: the job runner, and the Kubernetes backend and client its run is kept with."""
WITH_EXTRA = {
    "serve": [f"{ENTRYPOINTS[Action.SERVE]}.__main__", "digitalhub_runtime_python.serving.app", "uvicorn"],
}
"""What must import when an extra is installed: the server's entrypoint, app and server (FastAPI, uvicorn)."""


def self_check(out: TextIO | None = None) -> int:
    """Print the versions, the extras and the imports a pod needs (to stdout); 0 when every import works, else 1."""
    out = out or sys.stdout
    try:
        version = metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        version = "(not installed: run from source)"
    print(f"{DISTRIBUTION} {version}, Python {platform.python_version()} at {sys.executable}", file=out)
    modules = list(REQUIRED)
    for extra in EXTRAS:
        absent = missing_modules(extra)
        print(f"extra {extra}: " + (f"missing {', '.join(absent)}" if absent else "yes"), file=out)
        if not absent and extra in WITH_EXTRA:
            modules += WITH_EXTRA[extra]
    failed = []
    for module in modules:
        try:
            import_module(module)
        except ImportError as exc:
            failed.append(module)
            print(f"import {module}: FAILED {exc}", file=out)
        else:
            print(f"import {module}: ok", file=out)
    print(f"FAILED: {', '.join(failed)}" if failed else "OK", file=out)
    return 1 if failed else 0
