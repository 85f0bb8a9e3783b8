"""The job runner a pod (or a local child process) runs: ``python -m digitalhub_runtime_python.runner --run KEY``.

It reads the run from the store the environment configures (DIGITALHUB_BACKEND, DIGITALHUB_HOME), moves into its
function's environment when it needs one (``entrypoints/environment.py``), executes it and exits 0 when the run
COMPLETED, 1 otherwise.
"""

from __future__ import annotations

import sys

from digitalhub_runtime_python.contract import ENTRYPOINTS
from digitalhub_runtime_python.entrypoints.common import open_project, required_run, run_parser
from digitalhub_runtime_python.entrypoints.environment import enter_environment
from digitalhub_runtime_python.execution.job import execute_run
from digitalhub_runtime_python.models.states import State
from digitalhub_runtime_python.models.task import Action


def main(argv: list[str] | None = None) -> int:
    parser = run_parser(ENTRYPOINTS[Action.JOB], "Execute one job run and record its results.")
    parser.add_argument("--self-check", action="store_true", help="check the imports a pod needs, then exit")
    args = parser.parse_args(argv)
    if args.self_check:
        from digitalhub_runtime_python.entrypoints.self_check import self_check  # not on a run's start path

        return self_check()
    run_key = required_run(parser, args)
    project = open_project(run_key)
    failed = enter_environment(project, run_key, ENTRYPOINTS[Action.JOB], sys.argv[1:] if argv is None else argv)
    if failed is not None:
        return failed
    run = execute_run(project, run_key)
    return 0 if run.status.state == State.COMPLETED else 1
