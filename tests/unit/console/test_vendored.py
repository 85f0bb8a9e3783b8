"""The console's JavaScript is the pinned npm release, shipped with its license and installed with the package:
the files match what scripts/vendor-js.sh recorded, and the versions match its pins."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import digitalhub_runtime_python.console as console_package

ROOT = Path(__file__).resolve().parents[3]
VENDOR = Path(console_package.__file__).parent / "static" / "vendor"
SCRIPT = ROOT / "scripts" / "vendor-js.sh"


def test_vendored_files_are_the_ones_the_script_recorded() -> None:
    recorded = dict(reversed(line.split()) for line in (VENDOR / "SHA256SUMS").read_text().splitlines())
    assert set(recorded) == {"htmx.min.js", "htmx.LICENSE", "htmx-ext-sse.min.js", "htmx-ext-sse.LICENSE", "VERSIONS"}
    for name, digest in recorded.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name


def test_vendored_versions_are_the_scripts_pins() -> None:
    pins = dict(re.findall(r"^(HTMX|HTMX_SSE)=(\S+)$", SCRIPT.read_text(), re.MULTILINE))
    versions = dict(line.split() for line in (VENDOR / "VERSIONS").read_text().splitlines())
    assert versions == {"htmx.org": pins["HTMX"], "htmx-ext-sse": pins["HTMX_SSE"]}
    assert f"htmx.org@{pins['HTMX']}" in (ROOT / "docs" / "console.md").read_text()


def test_the_package_ships_the_console_files() -> None:
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    patterns = data["digitalhub_runtime_python.console"]
    package = VENDOR.parents[1]
    shipped = {p.relative_to(package) for pattern in patterns for p in package.glob(pattern)}
    needed = {p.relative_to(package) for p in package.rglob("*") if p.is_file() and p.suffix != ".py"}
    assert needed - {p for p in needed if "__pycache__" in p.parts} <= shipped
