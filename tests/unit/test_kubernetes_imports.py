"""The kubernetes client is imported on first use of the kubernetes backend, not with the SDK."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_sdk_does_not_import_the_kubernetes_client():
    code = "import sys, digitalhub_runtime_python; print('kubernetes' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "False"
