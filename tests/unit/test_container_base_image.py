"""The local base image is bootstrapped from the machine's own Debian mirror."""

from __future__ import annotations

from pathlib import Path

from tests.containers.base_image import DEFAULT_MIRROR, debian_mirror

SOURCES = """\
Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main

Types: deb
# a comment: the snapshot this mirror follows
URIs: http://mirror.example/debian http://other.example/debian
Suites: bookworm bookworm-updates
Components: main
"""


def test_the_mirror_is_the_stanza_serving_the_suite_itself(tmp_path: Path) -> None:
    (tmp_path / "debian.sources").write_text(SOURCES)

    assert debian_mirror(tmp_path / "debian.sources") == "http://mirror.example/debian"


def test_without_sources_the_official_mirror_is_used(tmp_path: Path) -> None:
    assert debian_mirror(tmp_path / "missing.sources") == DEFAULT_MIRROR
