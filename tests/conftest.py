"""Make the tree under test importable, in this process and in the subprocesses tests start."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_PATHS = [str(ROOT), str(ROOT / "operator")]
for _path in reversed(_PATHS):
    if _path not in sys.path:
        sys.path.insert(0, _path)
os.environ["PYTHONPATH"] = os.pathsep.join(
    _PATHS + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
)

pytest_plugins = ["tests.kube.fixtures", "tests.containers.fixtures"]
