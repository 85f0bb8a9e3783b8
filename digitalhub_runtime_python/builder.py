"""``python -m digitalhub_runtime_python.builder --run KEY --step prepare|finish``: the stable module name a build
pod's runtime steps run (the pod contract)."""

import sys

from digitalhub_runtime_python.entrypoints.build import main

if __name__ == "__main__":
    sys.exit(main())
