"""A package index made in the test: wheels built from tiny local projects, served from a folder or over HTTP.

Each project is a one-module package (``VALUE`` holds its version) built into a real wheel by ``uv build`` with the
flit_core backend already installed in the test environment (no build isolation, so nothing is downloaded).
``folder_env()`` points uv at the wheel folder with no index at all; ``simple()`` writes a PEP 503 "simple" index
over the same wheels, for a loopback HTTP server.
"""

from __future__ import annotations

import html
import subprocess
import sys
import textwrap
from pathlib import Path

from digitalhub_runtime_python.environments.uv import uv_binary


class PackageIndex:
    def __init__(self, root: Path):
        self.root = root
        self.wheels = root / "wheels"
        self.wheels.mkdir(parents=True, exist_ok=True)

    def add(self, name: str, version: str, dependencies: tuple[str, ...] = ()) -> Path:
        """Build ``name==version`` (depending on ``dependencies``) into the wheel folder; return the wheel."""
        project = self.root / "projects" / f"{name}-{version}"
        (project / name).mkdir(parents=True)
        (project / name / "__init__.py").write_text(f'"""{name} for tests."""\n\nVALUE = {version!r}\n')
        requires = ", ".join(f'"{dependency}"' for dependency in dependencies)
        (project / "pyproject.toml").write_text(
            textwrap.dedent(f"""\
                [build-system]
                requires = ["flit_core>=3.4"]
                build-backend = "flit_core.buildapi"

                [project]
                name = "{name}"
                version = "{version}"
                description = "A package of the test index"
                dependencies = [{requires}]
                """)
        )
        command = [uv_binary(), "build", "--quiet", "--no-build-isolation", "--python", sys.executable, "--wheel"]
        subprocess.run([*command, "--out-dir", str(self.wheels), str(project)], check=True, timeout=120)
        [wheel] = self.wheels.glob(f"{name}-{version}-*.whl")
        return wheel

    def folder_env(self) -> dict[str, str]:
        """uv settings for installing from the wheel folder only, never from the network."""
        return {"UV_FIND_LINKS": str(self.wheels), "UV_NO_INDEX": "1", "UV_OFFLINE": "1"}

    def simple(self) -> Path:
        """Write a PEP 503 simple index (``simple/<name>/index.html``) next to the wheels; return its folder."""
        simple = self.root / "simple"
        names: dict[str, list[Path]] = {}
        for wheel in sorted(self.wheels.glob("*.whl")):
            names.setdefault(wheel.name.split("-")[0].replace("_", "-").lower(), []).append(wheel)
        for name, wheels in names.items():
            page = simple / name / "index.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            links = "".join(f'<a href="../../wheels/{html.escape(w.name)}">{html.escape(w.name)}</a>\n' for w in wheels)
            page.write_text(f"<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n")
        return simple
