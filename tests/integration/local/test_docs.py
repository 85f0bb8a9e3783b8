"""The README's code blocks and the examples run as documented, so the docs cannot drift from the code.

README blocks run from the repository root, as the README says; python blocks in order in one interpreter (later
blocks use earlier names), each ``print(...)  # EXPECTED`` checked against what it printed; bash blocks with
bash. Blocks under ``<!-- docs test: not run (why) -->`` are skipped, and a leading
``python3 -m pip install ... &&`` is not run: the test environment is that install, and a test must not
reinstall it. Examples run from a clean temporary folder. Every store is a temporary DIGITALHUB_HOME.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
README = (ROOT / "README.md").read_text()
BLOCK = re.compile(r"(?P<before>[^\n]*)\n```(?P<lang>python|bash)\n(?P<code>.*?)\n```", re.DOTALL)
SKIP = "<!-- docs test: not run"
INSTALL = re.compile(r"^python3 -m pip install [^&]*&& ")
EXPECTED = re.compile(r"^print\(.*\)  # (?P<expected>.+)$", re.MULTILINE)


def blocks(lang: str) -> list[str]:
    return [m["code"] for m in BLOCK.finditer(README) if m["lang"] == lang and not m["before"].startswith(SKIP)]


def run(command: list[str], cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DIGITALHUB_HOME": str(home),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),  # dhrun, python3
    }
    env.pop("DIGITALHUB_PROJECT", None)
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_readme_has_runnable_blocks() -> None:
    assert len(blocks("python")) >= 2 and len(blocks("bash")) >= 1
    assert any(SKIP in m["before"] for m in BLOCK.finditer(README))  # the test suite's own command


def test_readme_python_blocks_print_what_their_comments_say(tmp_path: Path) -> None:
    script = "\n\n".join(blocks("python"))
    done = run([sys.executable, "-c", script], ROOT, tmp_path / "home")
    assert done.returncode == 0, done.stderr
    expected = [m["expected"] for m in EXPECTED.finditer(script)]
    printed = [line for line in done.stdout.splitlines() if line in expected]  # besides the handlers' own output
    assert printed == expected, done.stdout


@pytest.mark.parametrize("code", blocks("bash"))
def test_readme_bash_blocks(code: str, tmp_path: Path) -> None:
    done = run(["bash", "-euo", "pipefail", "-c", INSTALL.sub("", code)], ROOT, tmp_path / "home")
    assert done.returncode == 0, done.stdout + done.stderr


def test_readme_first_command_prints_the_result(tmp_path: Path) -> None:
    [first] = [code for code in blocks("bash") if "dhrun run" in code]
    assert first == "python3 -m pip install -e . && dhrun run examples/src/add.py:add -p a=40 -p b=2"
    done = run(["bash", "-c", INSTALL.sub("", first)], ROOT, tmp_path / "home")
    assert re.search(r"^ result output_0 +42 *$", done.stdout, re.MULTILINE), done.stdout + done.stderr


def test_readme_snippet_elsewhere_says_why_it_failed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = run([sys.executable, "-c", blocks("python")[0]], elsewhere, tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "ERROR SourceError: code_src 'examples/src/add.py': no such file or folder "
        f"(relative paths start at {elsewhere})\n"
    )


@pytest.mark.parametrize("example", sorted(p.name for p in (ROOT / "examples").glob("*.py")))
def test_examples_run_from_a_clean_folder(example: str, tmp_path: Path) -> None:
    folder = tmp_path / "clean"
    folder.mkdir()
    done = run([sys.executable, str(ROOT / "examples" / example)], folder, tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert "COMPLETED" in done.stdout and "ERROR" not in done.stdout, done.stdout


def test_pytest_config_sets_the_asyncio_fixture_loop_scope() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/unit/test_settings.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout
    assert "asyncio_default_fixture_loop_scope" not in done.stdout + done.stderr
