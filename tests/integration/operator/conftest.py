"""Fixtures: an operator process per test module, watching its own namespace of the shared emulator."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kubernetes import client, config
from operator_harness import OperatorProcess, World

_NAMESPACES = itertools.count(1)


@pytest.fixture(scope="module")
def namespace() -> str:
    return f"operator-{next(_NAMESPACES)}"


@pytest.fixture(scope="module")
def kubeconfig(kube_server, namespace) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix=f"dh-{namespace}-kube-"))
    yield kube_server.kubeconfig(folder / "kubeconfig", namespace)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def world(kubeconfig, namespace) -> Iterator[World]:
    with config.new_client_from_config(config_file=str(kubeconfig)) as api:
        client.CoreV1Api(api).create_namespace({"metadata": {"name": namespace}})
        yield World(api, namespace)


@pytest.fixture(scope="module")
def start_operator(world, kubeconfig, namespace) -> Iterator[Callable[..., OperatorProcess]]:
    """Start operators for this module's namespace; all are stopped at the end of the module."""
    started: list[OperatorProcess] = []
    logs = Path(tempfile.mkdtemp(prefix=f"dh-{namespace}-"))  # outside pytest's shared, pruned basetemp

    def start(**settings: str) -> OperatorProcess:
        process = OperatorProcess(kubeconfig, namespace, logs / f"operator-{len(started)}.log", **settings).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
    shutil.rmtree(logs, ignore_errors=True)


@pytest.fixture(scope="module")
def operator(start_operator) -> OperatorProcess:
    """One operator for the module, with a pending deadline long enough not to interfere."""
    return start_operator(DIGITALHUB_OPERATOR_PENDING_DEADLINE="120")


@pytest.fixture
def execute(world, kubeconfig, tmp_path) -> Callable[[dict], int]:
    """Run a workload's container as a child process (see ``World.execute``)."""
    return lambda workload: world.execute(workload, kubeconfig, tmp_path / "home")
