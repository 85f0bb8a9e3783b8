"""``python -m digitalhub_runtime_python.runner --run KEY``: the job runner's stable module name (the pod contract)."""

import sys

from digitalhub_runtime_python.entrypoints.job import main

if __name__ == "__main__":
    sys.exit(main())
