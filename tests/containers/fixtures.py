"""Fixtures for tests that build and run images with podman (``@pytest.mark.container``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.containers.base_image import ensure_base_image
from tests.containers.engine import PodmanService
from tests.containers.wheels import ensure_wheels


@pytest.fixture(scope="session")
def base_image() -> str:
    """The local Debian base image with python3, bootstrapped when missing (``.ci/run`` prepares it beforehand)."""
    return ensure_base_image()


@pytest.fixture(scope="session")
def wheel_folder() -> Path:
    """Wheels of the test images' requirements, for builds with no network (``PACKAGES_FROM=wheels``)."""
    return ensure_wheels()


@pytest.fixture(scope="session")
def docker_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[docker.DockerClient]:
    """A ``docker`` SDK client on a ``podman system service`` started for the session and stopped after it."""
    with PodmanService(tmp_path_factory.mktemp("podman")) as client:
        yield client
