"""fn.run("build") on this machine: the docker SDK builds the function's image on podman's API service (FROM the
local base, the runtime and the requirements from a loopback index, one instruction), the function gets a version
with the image, and that image runs a job as a pod runs it: uid 1000, read-only root, no capabilities, no network,
the store in a mounted workspace, the handler through the in-pod entrypoint, nothing installed at start."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from click.testing import CliRunner

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.cli import main
from digitalhub_runtime_python.contract import ENTRYPOINTS, WORKSPACE
from digitalhub_runtime_python.entities.task import run_spec
from digitalhub_runtime_python.models.base import new_id
from digitalhub_runtime_python.models.states import State
from digitalhub_runtime_python.models.task import Action
from tests.containers.engine import PodmanService

pytestmark = [pytest.mark.container, pytest.mark.timeout(900)]

INSTRUCTION = "echo made-by-an-instruction > /etc/built"
HANDLER = """\
import tinypkg


def f(a):
    return {"tinypkg": tinypkg.VALUE, "a": a, "built": open("/etc/built").read().strip()}
"""


@pytest.fixture(scope="module")
def workspace(
    podman_service: PodmanService, package_index_url: str, base_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """The folder a pod's /workspace stands for, with the store in it; builds go to the session's podman service
    and install from the loopback index, through the host's network."""
    folder = tmp_path_factory.mktemp("workspace")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "DIGITALHUB_BACKEND": "local",
            "DIGITALHUB_HOME": str(folder / ".digitalhub"),
            "DOCKER_HOST": podman_service.docker_host,
            "DIGITALHUB_BUILD_NETWORK": "host",
            "DIGITALHUB_BUILD_RUNTIME_EXTRAS": "",  # the test index has the runtime's own dependencies only
            "UV_INDEX_URL": package_index_url,
        }.items():
            patch.setenv(name, value)
        yield folder


@pytest.fixture(scope="module")
def project(workspace: Path, docker_client: docker.DockerClient) -> Iterator[dh.Project]:
    """The module's project; the images its builds made are removed after the module."""
    project = dh.get_or_create_project("images")
    yield project
    for run in project.list_runs():
        if run.status.build is not None and run.status.build.function:
            docker_client.images.remove(run.status.build.image, force=True)


def function(project: dh.Project, folder: Path, code: str = HANDLER, **spec: object) -> dh.Function:
    """Function ``tiny`` (a new version) with ``code`` in ``folder``/handler.py, needing tinypkg unless ``spec``
    says otherwise."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "handler.py").write_text(code)
    fields = {"requirements": ["tinypkg==1.0"], **spec}
    return project.new_function(name="tiny", code_src=str(folder / "handler.py"), handler="f", **fields)


@pytest.fixture(scope="module")
def built(project: dh.Project, workspace: Path, base_image: str) -> tuple[dh.Function, dh.Run]:
    """The function built once for the module: (the function object after the build, the build run)."""
    fn = function(project, workspace.parent / "src", base_image=base_image)
    run = fn.run("build", instructions=[INSTRUCTION])
    return fn, run


def run_as_a_pod(client: docker.DockerClient, image: str, workspace: Path, run_key: str) -> str:
    """Execute ``run_key`` in ``image`` with the pod's constraints and command; the container's output."""
    for path in [workspace, *workspace.rglob("*")]:  # uid 1000 writes the store, as the pod's fsGroup allows
        os.chown(path, 1000, 1000)
    output = client.containers.run(
        image,
        ["python", "-m", ENTRYPOINTS[Action.JOB], "--run", run_key],
        user="1000:1000",
        read_only=True,
        cap_drop=["ALL"],
        network_mode="none",
        volumes={str(workspace): {"bind": str(WORKSPACE), "mode": "rw"}},
        tmpfs={"/tmp": ""},
        environment={"DIGITALHUB_BACKEND": "local", "DIGITALHUB_HOME": f"{WORKSPACE}/.digitalhub"},
        remove=True,
        stderr=True,
    )
    return output.decode(errors="replace")


def test_the_built_image_runs_the_function_as_a_pod_would(
    built: tuple[dh.Function, dh.Run], project: dh.Project, workspace: Path, docker_client: docker.DockerClient
) -> None:
    fn, run = built
    assert run.status.state == State.COMPLETED, run.status.message
    build = run.status.build
    source = project.get_function(run.spec.function)
    assert build.image == f"localhost/images-tiny:{source.id}" and build.builder == "docker"
    assert build.digest == docker_client.images.get(build.image).id
    assert f"RUN {INSTRUCTION}" in build.dockerfile and "+ tinypkg==1.0" in run.logs()
    assert fn.refresh().key == build.function != source.key  # the object moved to the version with the image
    assert fn.spec.image == build.image and fn.spec.code_src == source.spec.code_src
    config = docker_client.images.get(build.image).attrs["Config"]
    assert (config["User"], config["WorkingDir"]) == ("1000:1000", "/workspace")

    # a later job run, stored as fn.run() stores a remote one: the container is its pod
    task = project.new_task(kind="python+job", function=fn.key)
    job = task.store_run(run_spec(fn.key, "job", None, {"a": 3}, None, None, False, "inprocess"), new_id())
    run_as_a_pod(docker_client, build.image, workspace, job.key)

    done = project.get_run(job.key)
    assert done.status.state == State.COMPLETED, done.status.message
    assert done.results() == {"output_0": {"tinypkg": "1.0", "a": 3, "built": "made-by-an-instruction"}}
    assert done.status.environment is None  # the requirements were in the image: nothing installed at start


def test_runs_started_after_a_build_are_of_the_version_with_the_image(
    built: tuple[dh.Function, dh.Run], project: dh.Project, workspace: Path, base_image: str
) -> None:
    code = "import tinypkg\n\n\ndef f(a):\n    return tinypkg.VALUE\n"
    fn = function(project, workspace.parent / "src-after", code, base_image=base_image)
    build = fn.run("build").status.build
    job = fn.run("job", parameters={"a": 1}, isolation="subprocess")  # no refresh(): the object follows its build
    assert job.spec.function == build.function and fn.spec.image == build.image
    assert job.wait(300).status.state == State.COMPLETED, job.status.message  # here, tinypkg from the index


def test_a_code_change_rebuilds_only_the_code_layer(
    built: tuple[dh.Function, dh.Run], project: dh.Project, workspace: Path, base_image: str, docker_client
) -> None:
    first = built[1].status.build.image
    changed = function(project, workspace.parent / "src2", HANDLER + "\n# a change\n", base_image=base_image)
    run = changed.run("build", instructions=[INSTRUCTION])
    assert run.status.state == State.COMPLETED, run.status.message
    before, after = (
        docker_client.images.get(image).attrs["RootFS"]["Layers"] for image in (first, run.status.build.image)
    )
    assert len(before) == len(after) and before[:-1] == after[:-1]  # base, runtime, requirements, instruction
    assert before[-1] != after[-1]  # the code


@pytest.mark.parametrize(
    ("spec", "instructions", "said"),
    [
        ({"base_image": "localhost/digitalhub-tests/absent:1"}, [], "absent"),
        ({}, ["echo broken-step >&2 && exit 3"], "broken-step"),
        ({"requirements": ["tinypkg==1.0", "absentpkg==1.0"]}, [], "absentpkg"),
    ],
    ids=["unknown-base-image", "failing-instruction", "missing-requirement"],
)
def test_a_failing_build_ends_in_error_with_the_builders_last_lines(
    built: tuple[dh.Function, dh.Run],
    project: dh.Project,
    workspace: Path,
    base_image: str,
    spec: dict[str, object],
    instructions: list[str],
    said: str,
) -> None:
    fn = function(project, workspace.parent / f"src-{said}", **{"base_image": base_image, **spec})
    run = fn.run("build", instructions=instructions)
    assert run.status.state == State.ERROR
    assert run.status.message.startswith("the image build failed: ") and said in run.status.message
    assert run.status.error.type == "BuildError" and said in run.status.build.log
    assert fn.refresh().spec.image is None  # no version with an image


def test_dhrun_builds_the_image_and_shows_it(
    built: tuple[dh.Function, dh.Run], base_image: str, tmp_path: Path
) -> None:
    (tmp_path / "handler.py").write_text(HANDLER)
    args = ["--project", "images", "run", f"{tmp_path}/handler.py:f", "--name", "tiny", "--action", "build"]
    args += ["--requirement", "tinypkg==1.0", "--base-image", base_image, "--instruction", INSTRUCTION]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert re.search(r"state +COMPLETED", result.output), result.output
    assert re.search(r"image +localhost/images-tiny:[0-9a-f]{32}", result.output)
    assert re.search(r"function +store://images/function/python/tiny:[0-9a-f]{32}", result.output)
