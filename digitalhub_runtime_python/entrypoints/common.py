"""What every entrypoint does first: read the run key from the command line or the pod environment, open its project."""

from __future__ import annotations

import argparse
import os

from digitalhub_runtime_python.api import get_or_create_project
from digitalhub_runtime_python.contract import ENV_RUN_KEY
from digitalhub_runtime_python.entities.project import Project
from digitalhub_runtime_python.models.keys import parse_key


def run_parser(module: str, description: str) -> argparse.ArgumentParser:
    """An argument parser for ``python -m <module>`` with ``--run KEY`` (default: the pod's run key variable)."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=description)
    parser.add_argument("--run", default=os.environ.get(ENV_RUN_KEY), help=f"key of the run (or {ENV_RUN_KEY})")
    return parser


def required_run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str:
    """The run key; exits with the usage when there is none."""
    if not args.run:
        parser.error(f"--run KEY (or {ENV_RUN_KEY}) is required")
    return str(args.run)


def open_project(run_key: str) -> Project:
    """The run's project on the backend the environment configures.

    A run applied with kubectl may belong to a project (its namespace) that no SDK call has created yet.
    """
    return get_or_create_project(parse_key(run_key).project)
