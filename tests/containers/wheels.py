"""A folder of wheels for offline image builds (``PACKAGES_FROM=wheels``), made once with ``pip wheel`` and cached.

It holds what the test images install: the requirements images/requirements.py lists for :data:`IMAGE_SPECS`
(the same list the Dockerfiles install) and the projects' build backend. One folder serves every requirement set;
a marker per set makes later sessions skip pip entirely.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from tests.containers.base_image import PYTHON
from tests.containers.engine import CACHE, ROOT, PodmanError, cache_lock

WHEELS = CACHE / "wheels"
IMAGE_SPECS = ("pyproject.toml[kubernetes]", "operator/pyproject.toml")
"""Projects and extras of the test images: the runtime with the Kubernetes client (no data/s3/serve), the operator."""


def image_requirements(specs: tuple[str, ...] = IMAGE_SPECS) -> list[str]:
    """The requirement lines images/requirements.py gives for ``specs``, with the build backend."""
    command = [sys.executable, str(ROOT / "images" / "requirements.py"), "--build-system", *specs]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stdout.splitlines()


def ensure_wheels(specs: tuple[str, ...] = IMAGE_SPECS) -> Path:
    """The wheel folder, completed for ``specs`` first when no earlier session did (pip needs the package index)."""
    if sys.version_info[:2] != PYTHON:  # pip wheel builds for this interpreter; the images run the base's python3
        wanted = ".".join(map(str, PYTHON))
        raise PodmanError(f"the wheel folder must be made with Python {wanted}, the base image's: run pytest on it")
    requirements = image_requirements(specs)
    listing = "\n".join(requirements) + "\n"
    marker = WHEELS / f".complete-{hashlib.sha256(listing.encode()).hexdigest()[:16]}"
    with cache_lock("wheels"):
        if marker.exists():
            return WHEELS
        WHEELS.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(WHEELS)]
        result = subprocess.run(
            [*command, "--find-links", str(WHEELS), *requirements], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise PodmanError(f"pip wheel exited {result.returncode}:\n{(result.stdout + result.stderr)[-4000:]}")
        marker.write_text(listing)
    return WHEELS
