"""Two processes writing one embedded store at once lose nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.models.states import State

WRITER = """
import sys
import digitalhub_runtime_python as dh
project = dh.get_or_create_project("demo")
tag = sys.argv[1]
for i in range(40):
    fn = project.new_function(name="shared", code=f"def f(): return '{tag}-{i}'", handler="f")
    run = fn.run()
    assert run.status.state == "COMPLETED", run.status.message
print("done", tag)
"""


def test_two_writer_processes(home: Path, tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    writers = [
        subprocess.Popen([sys.executable, str(script), tag], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for tag in ("a", "b")
    ]
    for writer in writers:
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
    project = dh.get_or_create_project("demo")
    versions = project.list_functions(all_versions=True)
    assert len(versions) == 80 and len({v.id for v in versions}) == 80
    runs = project.list_runs()
    assert len(runs) == 80
    assert all(r.status.state == State.COMPLETED for r in runs)
    assert sorted(r.results()["output_0"] for r in runs) == sorted(f"{t}-{i}" for t in "ab" for i in range(40))
