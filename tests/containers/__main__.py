"""``python -m tests.containers``: prepare what the container tests use, ahead of pytest (``.ci/run`` calls it).

The local base image and the wheel folder (the fixtures make them too when missing), then a build of each test image
to fill podman's layer cache, so that pytest's time holds the tests and not the cold builds.
"""

from __future__ import annotations

import time

from rich.console import Console

from tests.containers.base_image import ensure_base_image
from tests.containers.images import TEST_ARGS, build_image
from tests.containers.wheels import ensure_wheels


def main() -> None:
    console = Console()
    start = time.monotonic()

    def ready(what: str, result: object) -> None:
        nonlocal start
        console.print(f"{what}: [bold]{result}[/] ready in {time.monotonic() - start:.0f} s")
        start = time.monotonic()

    base = ensure_base_image()
    ready("base image", base)
    wheels = ensure_wheels()
    ready("wheel folder", wheels)
    for dockerfile in TEST_ARGS:
        ready(f"images/{dockerfile}", build_image(dockerfile, base, wheels)[:12])


if __name__ == "__main__":
    main()
