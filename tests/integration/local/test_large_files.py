"""Logging and downloading a 2 GB artifact keeps memory flat (hashing and copying go in chunks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

GB = 1024**3
ZEROS_2GB_SHA256 = "a7c744c13cc101ed66c29f672f92455547889cc586ce6d44fe76ae824958ea51"

CHILD = textwrap.dedent(
    """
    import json, resource, sys
    from pathlib import Path

    import digitalhub_runtime_python as dh

    folder = Path(sys.argv[1])
    project = dh.get_or_create_project("demo")
    (folder / "small.bin").write_bytes(b"warm up every code path first")
    project.log_artifact("small", source=folder / "small.bin").download(folder / "small-back.bin")
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    artifact = project.log_artifact("big", source=folder / "big.bin")
    back = artifact.download(folder / "back.bin")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "baseline_kb": baseline, "peak_kb": peak, "files": [f.model_dump() for f in artifact.status.files],
        "stored": artifact.spec.path, "back": str(back), "back_size": back.stat().st_size,
    }))
    """
)


@pytest.mark.timeout(900)
def test_a_2gb_artifact_is_logged_and_downloaded_in_constant_memory(home: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.touch()
    os.truncate(big, 2 * GB)  # sparse: instant to make, reads as zeros
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True, text=True, timeout=840, check=False
        )
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout.splitlines()[-1])
        assert report["files"] == [{"path": "big.bin", "size": 2 * GB, "sha256": ZEROS_2GB_SHA256}]
        assert report["back"] == str(tmp_path / "back.bin") and report["back_size"] == 2 * GB
        grown_mb = (report["peak_kb"] - report["baseline_kb"]) / 1024
        assert grown_mb < 100, f"peak memory grew by {grown_mb:.0f} MB while logging and downloading 2 GB"
        assert done.stderr.count("uploading big.bin: ") == 10 and done.stderr.count("downloading big.bin: ") == 10
    finally:
        for leftover in (big, tmp_path / "back.bin", *home.rglob("big.bin")):
            leftover.unlink(missing_ok=True)
