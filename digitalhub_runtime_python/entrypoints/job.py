"""The job runner a pod (or a local child process) runs: ``python -m digitalhub_runtime_python.runner --run KEY``.

It reads the run from the store the environment configures (DIGITALHUB_BACKEND, DIGITALHUB_HOME), moves into its
function's environment when it needs one (``entrypoints/environment.py``), executes it and exits 0 when the run
COMPLETED, 1 otherwise. A scheduled run's CronJob pods run it with ``--scheduled-by KEY`` instead of ``--run``: the
pod first makes the run this firing executes (named after its Job, ``DIGITALHUB_JOB_NAME``; the operator may have
made it already), then goes on with that run.
"""

from __future__ import annotations

import argparse
import os
import sys

from digitalhub_runtime_python.contract import ENTRYPOINTS, ENV_JOB_NAME, firing_run
from digitalhub_runtime_python.entities.project import Project
from digitalhub_runtime_python.entrypoints.common import open_project, required_run, run_parser
from digitalhub_runtime_python.entrypoints.environment import enter_environment
from digitalhub_runtime_python.execution.job import execute_run
from digitalhub_runtime_python.models.states import State
from digitalhub_runtime_python.models.task import Action
from digitalhub_runtime_python.stores.base import AlreadyExists


def start_firing(project: Project, schedule_key: str, job_name: str) -> str:
    """Make the run of this firing of ``schedule_key`` (idempotently: the operator may have made it); its key."""
    store = project.backend.store
    run = firing_run(store.get_run(schedule_key), job_name)
    try:
        store.create(run)
    except AlreadyExists:
        pass
    return run.key


def main(argv: list[str] | None = None) -> int:
    parser = run_parser(ENTRYPOINTS[Action.JOB], "Execute one job run and record its results.")
    parser.add_argument("--self-check", action="store_true", help="check the imports a pod needs, then exit")
    parser.add_argument(
        "--scheduled-by",
        metavar="KEY",
        help=f"execute a new firing of the scheduled run KEY, named after this pod's Job ({ENV_JOB_NAME})",
    )
    args = parser.parse_args(argv)
    if args.self_check:
        from digitalhub_runtime_python.entrypoints.self_check import self_check  # not on a run's start path

        return self_check()
    if args.scheduled_by:
        project = open_project(args.scheduled_by)
        run_key = start_firing(project, args.scheduled_by, _job_name(parser))
        argv = ["--run", run_key]  # what the run's environment, if it has one, is started with
    else:
        run_key = required_run(parser, args)
        project = open_project(run_key)
    failed = enter_environment(project, run_key, ENTRYPOINTS[Action.JOB], sys.argv[1:] if argv is None else argv)
    if failed is not None:
        return failed
    run = execute_run(project, run_key)
    return 0 if run.status.state == State.COMPLETED else 1


def _job_name(parser: argparse.ArgumentParser) -> str:
    name = os.environ.get(ENV_JOB_NAME)
    if not name:
        parser.error(f"--scheduled-by needs {ENV_JOB_NAME}: the name of the Job this pod belongs to")
    return str(name)
