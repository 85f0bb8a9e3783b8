"""The images/ Dockerfiles built as the tests build them: FROM the local base, packages from the wheel folder only.

``python -m tests.containers`` builds them ahead of pytest to fill podman's layer cache; the tests build them again
(cache hits unless something changed) and use the image IDs their builds report, never a shared tag.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tests.containers.engine import ROOT, podman

RUNTIME = "runtime.Dockerfile"
OPERATOR = "operator.Dockerfile"
TEST_ARGS: dict[str, dict[str, str]] = {RUNTIME: {"EXTRAS": "kubernetes", "SYSTEM_PACKAGES": ""}, OPERATOR: {}}
"""Build arguments of the test images: the runtime without data/s3/serve extras and without git (no apt offline)."""


def build_image(
    dockerfile: str, base_image: str, wheels: Path, args: Mapping[str, str] | None = None, context: Path = ROOT
) -> str:
    """``podman build`` of images/DOCKERFILE in ``context`` with no network; returns the image ID.

    ``args`` default to the test image's; ``context`` must hold what the Dockerfile copies.
    """
    build_args = {
        "BASE_IMAGE": base_image,
        "PACKAGES_FROM": "wheels",
        **(TEST_ARGS[dockerfile] if args is None else args),
    }
    output = podman(
        "build",
        "--pull=never",
        "--network=none",
        "--file",
        str(context / "images" / dockerfile),
        "--build-context",
        f"wheels={wheels}",
        *(f"--build-arg={name}={value}" for name, value in build_args.items()),
        str(context),
    ).stdout
    return output.split()[-1]  # podman build ends its output with the image ID
