"""The local Debian base image with python3 that the tests build images FROM: no container registry is reachable.

Made once with ``debootstrap`` from the machine's Debian mirror and ``podman import``, then kept in the tests'
podman storage; :func:`ensure_base_image` does nothing when the image exists. ``.ci/run`` prepares it before pytest
(``python -m tests.containers``) and the fixtures call the same function when it is missing.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.containers.engine import CACHE, PodmanError, cache_lock, check_podman, environment, image_exists

BASE_IMAGE = "localhost/digitalhub-base:bookworm"
SUITE = "bookworm"
PYTHON = (3, 11)
"""The python3 of the suite: wheels for images built FROM the base must be made for it."""
PACKAGES = ("python3", "python3-venv", "python3-pip", "ca-certificates")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
SOURCES = Path("/etc/apt/sources.list.d/debian.sources")


def debian_mirror(sources: Path = SOURCES) -> str:
    """The first ``URIs`` of the deb822 stanza that serves the suite itself (not -updates/-security only)."""
    if not sources.exists():
        return DEFAULT_MIRROR
    for stanza in sources.read_text().split("\n\n"):
        fields = dict(
            line.split(":", 1) for line in stanza.splitlines() if ":" in line and not line.startswith(("#", " "))
        )
        if SUITE in fields.get("Suites", "").split() and fields.get("URIs", "").strip():
            return fields["URIs"].split()[0]
    return DEFAULT_MIRROR


def _unmount_under(root: Path) -> None:
    """Unmount whatever debootstrap left mounted inside ``root`` (after a failure), so removing it is safe."""
    with open("/proc/self/mounts") as mounts:
        targets = [line.split()[1] for line in mounts]
    for target in sorted((t for t in targets if t.startswith(f"{root}/")), key=len, reverse=True):
        subprocess.run(["umount", "--lazy", target], check=False)


def _bootstrap(rootfs: Path) -> None:
    command = ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(rootfs)]
    result = subprocess.run([*command, debian_mirror()], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PodmanError(f"debootstrap exited {result.returncode}:\n{(result.stdout + result.stderr)[-4000:]}")
    for cache in ("var/cache/apt", "var/lib/apt/lists"):  # package lists and archives: not needed in the image
        for path in (rootfs / cache).glob("*"):
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def _import(rootfs: Path, name: str) -> None:
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-cf", "-", "."], stdout=subprocess.PIPE)
    result = subprocess.run(
        ["podman", "import", "--change", 'CMD ["/bin/bash"]', "-", name],
        stdin=tar.stdout,
        env=environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    if tar.wait() != 0 or result.returncode != 0:
        raise PodmanError(f"podman import of {rootfs} failed: {result.stderr[-2000:]}")


def ensure_base_image(name: str = BASE_IMAGE) -> str:
    """The base image's name, bootstrapping and importing it first when the tests' storage lacks it (~1 min)."""
    check_podman()
    if shutil.which("debootstrap") is None:
        raise PodmanError("debootstrap is not installed: run `sudo .ci/system-packages`")
    with cache_lock("base-image"):
        if image_exists(name):
            return name
        with tempfile.TemporaryDirectory(dir=CACHE, prefix="rootfs-") as folder:
            rootfs = Path(folder) / "rootfs"
            try:
                _bootstrap(rootfs)
                _import(rootfs, name)
            finally:
                _unmount_under(rootfs)
    return name


if __name__ == "__main__":  # ``.ci/run`` starts this early, with the system python, while the venv installs
    print(f"base image {ensure_base_image()} ready", flush=True)
