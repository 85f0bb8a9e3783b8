"""The docker SDK drives podman's Docker-compatible API: build FROM the local base with no network, run, read."""

from __future__ import annotations

from pathlib import Path

import docker
import pytest

pytestmark = [pytest.mark.container, pytest.mark.timeout(900)]

TAG = "localhost/digitalhub-tests/docker-api:latest"


def test_an_image_built_through_the_docker_api_runs_and_prints(
    docker_client: docker.DockerClient, base_image: str, tmp_path: Path
) -> None:
    (tmp_path / "hello.py").write_text("import sys\nprint(open('/built').read().strip(), sys.version_info[:2])\n")
    (tmp_path / "Dockerfile").write_text(
        f"FROM {base_image}\nCOPY hello.py /hello.py\nRUN echo built by a RUN step > /built\nUSER 1000:1000\n"
    )
    image, _ = docker_client.images.build(path=str(tmp_path), tag=TAG, pull=False, network_mode="none", rm=True)

    output = docker_client.containers.run(image.id, ["python3", "/hello.py"], network_mode="none", remove=True)

    assert output.decode() == "built by a RUN step (3, 11)\n"
    assert image.attrs["Config"]["User"] == "1000:1000"
