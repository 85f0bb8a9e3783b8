"""Pytest fixtures: the Kubernetes emulator on loopback (one per session) and a fresh namespace per test.

Registered from tests/conftest.py. ``kube`` gives a :class:`KubeEnv`: kubeconfig path, namespace, the environment
a process needs to reach the emulator (``KUBECONFIG``, ``DIGITALHUB_NAMESPACE``) and an official-client ApiClient.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .emulator import CompatEmulator
from .server import EmulatorServer

_NAMESPACES = itertools.count(1)


# A custom resource of our own for testing the layer itself, independent of the project's models.
WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "shortNames": ["wd"]},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                    {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
                    {"name": "Color", "type": "string", "jsonPath": ".spec.color", "priority": 1},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                ],
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {"size": {"type": "integer"}, "color": {"type": "string"}},
                            },
                            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                        },
                    }
                },
            }
        ],
    },
}


def served_crds() -> list[dict[str, Any]]:
    """The CRDs the emulator serves: the project's, generated from the models, and the test widget."""
    from digitalhub_runtime_python.models.crds import build_crds

    return [*build_crds(), WIDGET_CRD]


@dataclass
class KubeEnv:
    server: EmulatorServer
    kubeconfig: Path
    namespace: str

    @property
    def emulator(self) -> CompatEmulator:
        assert self.server.emulator is not None
        return self.server.emulator

    @property
    def env(self) -> dict[str, str]:
        """Variables that point a process at the emulator and this test's namespace."""
        return {"KUBECONFIG": str(self.kubeconfig), "DIGITALHUB_NAMESPACE": self.namespace}

    def api_client(self) -> Any:
        """A new official-client ApiClient configured from the kubeconfig."""
        from kubernetes import config

        return config.new_client_from_config(config_file=str(self.kubeconfig))


@pytest.fixture(scope="session")
def kube_server() -> Iterator[EmulatorServer]:
    server = EmulatorServer(served_crds()).start()
    yield server
    server.stop()


@pytest.fixture
def kube(kube_server: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> KubeEnv:
    """A fresh Namespace on the shared emulator; KUBECONFIG and DIGITALHUB_NAMESPACE point at it."""
    namespace = f"test-{next(_NAMESPACES)}"
    env = KubeEnv(kube_server, kube_server.kubeconfig(tmp_path / "kubeconfig", namespace), namespace)
    with env.api_client() as api:
        from kubernetes import client

        client.CoreV1Api(api).create_namespace({"metadata": {"name": namespace}})
    for name, value in env.env.items():
        monkeypatch.setenv(name, value)
    return env
