"""The entrypoint a pod (or a local child process) runs: ``python -m digitalhub_runtime_python.runner --run KEY``.

It reads the run from the store the environment configures (DIGITALHUB_BACKEND, DIGITALHUB_HOME), executes it
and exits 0 when the run COMPLETED, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys

from .api import get_or_create_project
from .execution import execute_run
from .models import State, parse_key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m digitalhub_runtime_python.runner")
    parser.add_argument(
        "--run", default=os.environ.get("DIGITALHUB_RUN_KEY"), help="key of the run (or DIGITALHUB_RUN_KEY)"
    )
    args = parser.parse_args(argv)
    if not args.run:
        parser.error("--run KEY (or DIGITALHUB_RUN_KEY) is required")
    # A run applied with kubectl may belong to a project (its namespace) that no SDK call has created yet.
    project = get_or_create_project(parse_key(args.run).project)
    run = execute_run(project, args.run)
    return 0 if run.status.state == State.COMPLETED else 1


if __name__ == "__main__":
    sys.exit(main())
