"""Batch mode: the uploaded files' build step, then the exec command, each a shell command in the session's folder
whose stdout and stderr stream into the execution as they come.

``build: "*"`` is the default build of what was uploaded: ``requirements.txt`` is installed, then a project
(``pyproject.toml`` or ``setup.py``) is built and installed, both with pip (from the package index pip is set up
for) into the session's own packages folder, which is on the kernel's and the commands' ``sys.path``: never into
the interpreter other sessions share.
"""

from __future__ import annotations

import asyncio
import codecs
import os
import shlex
import signal
from pathlib import Path

from digitalhub_runtime_python.sessions.executions import Execution

DEFAULT_BUILD = "*"


def default_build(folder: Path, python: str, packages: Path) -> list[str]:
    """The commands ``build: "*"`` stands for, from the files in ``folder``."""
    target = shlex.quote(str(packages))
    pip = f"{shlex.quote(python)} -m pip install --disable-pip-version-check --upgrade --target {target}"
    commands = []
    if (folder / "requirements.txt").is_file():
        commands.append(f"{pip} -r requirements.txt")
    if (folder / "pyproject.toml").is_file() or (folder / "setup.py").is_file():
        commands.append(f"{pip} .")
    return commands


class Batch:
    """Runs one batch's commands in order, stopping at the first that fails; ``interrupt`` stops the current one."""

    def __init__(self, execution: Execution, commands: list[str], cwd: Path, env: dict[str, str]):
        self.execution, self.commands, self.cwd, self.env = execution, commands, cwd, env
        self._process: asyncio.subprocess.Process | None = None
        self._interrupted = False

    async def run(self) -> None:
        code = 0
        try:
            for command in self.commands:
                if self._interrupted:
                    break
                code = await self._run(command)
                if code != 0:
                    break
        except OSError as exc:
            self.execution.output("stderr", f"cannot run the batch: {exc}\n")
            code = 127
        if self._interrupted and code == 0:
            code = -signal.SIGINT
        self.execution.finish(code, **({"interrupted": True} if self._interrupted else {}))

    async def _run(self, command: str) -> int:
        self._process = process = await asyncio.create_subprocess_shell(
            command,
            cwd=self.cwd,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its own process group: an interrupt reaches what it started too
        )
        assert process.stdout is not None and process.stderr is not None
        await asyncio.gather(self._pump(process.stdout, "stdout"), self._pump(process.stderr, "stderr"))
        code = await process.wait()
        self._process = None
        return code

    async def _pump(self, stream: asyncio.StreamReader, name: str) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while chunk := await stream.read(65536):
            text = decoder.decode(chunk)
            if text:
                self.execution.output(name, text)
        tail = decoder.decode(b"", final=True)
        if tail:
            self.execution.output(name, tail)

    def interrupt(self) -> None:
        """SIGINT the running command's process group; no further command starts."""
        self._interrupted = True
        if self._process is not None and self._process.returncode is None:
            try:
                os.killpg(self._process.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
