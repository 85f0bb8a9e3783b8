"""Fixtures for tests that build and run images with podman (``@pytest.mark.container``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.containers.base_image import ensure_base_image
from tests.containers.engine import PodmanService
from tests.containers.index import function_index
from tests.containers.wheels import ensure_wheels
from tests.servers.static_http import StaticServer


@pytest.fixture(scope="session")
def base_image() -> str:
    """The local Debian base image with python3, bootstrapped when missing (``.ci/run`` prepares it beforehand)."""
    return ensure_base_image()


@pytest.fixture(scope="session")
def wheel_folder() -> Path:
    """Wheels of the test images' requirements, for builds with no network (``PACKAGES_FROM=wheels``)."""
    return ensure_wheels()


@pytest.fixture(scope="session")
def podman_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PodmanService]:
    """``podman system service`` started for the session and stopped after it (``docker_host`` is its address)."""
    service = PodmanService(tmp_path_factory.mktemp("podman"))
    with service:
        yield service


@pytest.fixture(scope="session")
def docker_client(podman_service: PodmanService) -> docker.DockerClient:
    """A ``docker`` SDK client on the session's podman service."""
    return podman_service.client


@pytest.fixture(scope="session")
def package_index_url(tmp_path_factory: pytest.TempPathFactory, wheel_folder: Path) -> Iterator[str]:
    """A loopback "simple" index with the runtime built from this tree, its dependencies and ``tinypkg`` 1.0, for
    image builds whose steps use the host's network."""
    index = function_index(tmp_path_factory.mktemp("function-index"), wheel_folder)
    with StaticServer(index.root) as server:
        yield f"{server.base_url}/simple"
