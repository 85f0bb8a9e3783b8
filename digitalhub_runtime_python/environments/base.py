"""The runtime's own Python, which a function environment is installed on top of, and how the environment sees it.

An environment on the runtime's Python version *layers* on the runtime: a ``.pth`` file in the environment runs
``site.addsitedir`` for each of the runtime's site-packages folders, so the environment sees the runtime's
packages (its own ``.pth`` files too: editable installs, a runtime that is itself in a virtualenv) after its own.
``--system-site-packages`` alone would not do: it exposes the base interpreter's packages, not those of a
virtualenv the runtime is installed in. An environment on another Python version cannot share compiled packages:
it gets the runtime's own dependencies installed, and the runtime's package linked in.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import site
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from digitalhub_runtime_python.extras import DISTRIBUTION

RECORD = "digitalhub-env.json"
"""The file at an environment's root that describes it (key, requirements, base, build time)."""
PTH_NAME = "_digitalhub_runtime.pth"


def _site_dirs() -> tuple[str, ...]:
    dirs = list(site.getsitepackages())
    if site.ENABLE_USER_SITE and os.path.isdir(site.getusersitepackages()):
        dirs.append(site.getusersitepackages())
    return tuple(dict.fromkeys(dirs))


@dataclass(frozen=True)
class Runtime:
    """The interpreter and site-packages folders the runtime runs on. When this process runs in a function
    environment, its record says what the runtime is; ``environment`` is then that environment's key and
    ``interpreter`` the Python it was made from."""

    python: str
    version: str
    site_dirs: tuple[str, ...]
    environment: str | None = None
    interpreter: str | None = None

    @staticmethod
    @functools.cache
    def current() -> Runtime:
        record = Path(sys.prefix) / RECORD
        if record.is_file():
            data = json.loads(record.read_text())
            base = data["base"]
            return Runtime(base["python"], base["version"], tuple(base["site_dirs"]), data["key"], data["python"])
        return Runtime(sys.executable, f"{sys.version_info.major}.{sys.version_info.minor}", _site_dirs())

    def fingerprint(self) -> str:
        """A digest of the runtime's interpreter and installed distributions (their folder names carry versions)."""
        names: list[str] = []
        for folder in self.site_dirs:
            try:
                names += sorted(n for n in os.listdir(folder) if n.endswith((".dist-info", ".egg-info")))
            except OSError:
                continue
        content = json.dumps([self.python, self.version, self.site_dirs, names])
        return hashlib.sha256(content.encode()).hexdigest()[:16]

    def record(self) -> dict[str, object]:
        """How an environment's record names its base."""
        return {"python": self.python, "version": self.version, "site_dirs": list(self.site_dirs)}


def layer_pth(site_dirs: Iterable[str]) -> str:
    """The ``.pth`` text that makes an environment see the runtime's site-packages folders."""
    return "".join(f"import site; site.addsitedir({folder!r})\n" for folder in site_dirs)


@dataclass(frozen=True)
class Installed:
    """A distribution installed in the runtime's site-packages: its version and metadata folder."""

    version: str
    folder: Path

    def requires(self) -> list[str]:
        """Its ``Requires-Dist`` requirements (the headers of a wheel's METADATA, read without an email parser)."""
        if self.folder.suffix != ".dist-info":
            from importlib.metadata import PathDistribution

            return PathDistribution(self.folder).requires or []
        requires = []
        with open(self.folder / "METADATA", encoding="utf-8", errors="replace") as headers:
            for line in headers:
                if not line.strip():
                    break  # the body (the description) starts
                if line.startswith("Requires-Dist:"):
                    requires.append(line.split(":", 1)[1].strip())
        return requires


def installed_distributions(site_dirs: Iterable[str]) -> dict[str, Installed]:
    """Canonical name -> the distribution installed in ``site_dirs`` (the first found, as imports would), from
    the metadata folders' names (``name-version.dist-info``), which carry both."""
    from packaging.utils import canonicalize_name

    found: dict[str, Installed] = {}
    for folder in site_dirs:
        try:
            entries = sorted(os.listdir(folder))
        except OSError:
            continue
        for entry in entries:
            stem, _, suffix = entry.rpartition(".")
            name, _, rest = stem.partition("-")
            version = rest.split("-")[0]
            if suffix in ("dist-info", "egg-info") and name and version:
                found.setdefault(canonicalize_name(name), Installed(version, Path(folder, entry)))
    return found


def installed(site_dirs: Iterable[str]) -> dict[str, str]:
    """Canonical name -> version of the distributions installed in ``site_dirs``."""
    return {name: dist.version for name, dist in installed_distributions(site_dirs).items()}


def runtime_closure(site_dirs: Iterable[str], extras: Iterable[str]) -> dict[str, str]:
    """Canonical name -> installed version of every package the runtime (with ``extras``) depends on, directly or
    not: what a layered environment must not replace with another version."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    dists = installed_distributions(site_dirs)
    pins: dict[str, str] = {}
    todo = [(canonicalize_name(DISTRIBUTION), frozenset(extras))]
    seen = set(todo)
    while todo:
        name, wanted = todo.pop()
        dist = dists.get(name)
        if dist is None:
            continue
        pins[name] = dist.version
        for text in dist.requires():
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is not None and not any(marker.evaluate({"extra": extra}) for extra in wanted or {""}):
                continue
            step = (canonicalize_name(requirement.name), frozenset(requirement.extras))
            if step not in seen:
                seen.add(step)
                todo.append(step)
    pins.pop(canonicalize_name(DISTRIBUTION), None)  # the runtime itself is on no index
    return pins


class RuntimeNotInstalled(RuntimeError):
    """The runtime's own dependencies are unknown: it runs from a source tree, not an installed distribution."""


def runtime_requirements(extras: Iterable[str]) -> list[str]:
    """The runtime distribution's own requirements, with ``extras``: what an interpreter of another Python version
    needs installed to run it."""
    from importlib import metadata

    from packaging.requirements import Requirement

    try:
        requires = metadata.distribution(DISTRIBUTION).requires or []
    except metadata.PackageNotFoundError:
        raise RuntimeNotInstalled(
            f"the runtime runs from a source tree, so its dependencies for another Python are unknown: "
            f"install it (pip install -e .) or run the function on Python {sys.version_info[0]}.{sys.version_info[1]}"
        ) from None
    wanted = set(extras)
    result = []
    for text in requires:
        requirement = Requirement(text)
        if requirement.marker is not None and "extra" in str(requirement.marker):
            if not any(requirement.marker.evaluate({"extra": extra}) for extra in wanted):
                continue
            requirement.marker = None
        result.append(str(requirement))
    return result


def runtime_package() -> Path:
    """The folder of the runtime's own package, linked into environments on another Python version."""
    return Path(__file__).resolve().parents[1]
