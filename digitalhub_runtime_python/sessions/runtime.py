"""What a session does: one kernel at a time, one execution at a time, in four modes; uploads; the idle timeout.

Modes: ``query`` runs code in the kernel (its variables persist between queries); ``continued`` returns what an
execution produced since the last call; ``input`` answers the line of input the code waits for; ``batch`` runs
the build step and the exec command of uploaded files. Each call returns once the execution finished or waits for
input, or after ``wait`` seconds. A kernel that dies is reported in the execution it was running (or in the next
one) and replaced by a new one.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from digitalhub_runtime_python.contract import ENV_SESSION_PREFIX
from digitalhub_runtime_python.entities.session import DEFAULT_WAIT, MODES
from digitalhub_runtime_python.sessions.batch import DEFAULT_BUILD, Batch, default_build
from digitalhub_runtime_python.sessions.executions import Execution
from digitalhub_runtime_python.sessions.kernel import Kernel, KernelError, death_notice
from digitalhub_runtime_python.sessions.process import KernelProcess


class RequestError(Exception):
    """A request the session cannot do as asked; ``status`` is its HTTP status, the message says what to do."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def session_env(base: Mapping[str, str], python: str, paths: list[Path]) -> dict[str, str]:
    """The kernel's and the batch commands' environment: the session's own variables (its token) removed, the
    session's packages and the function's code first on ``sys.path``, the session's Python first on PATH."""
    env = {name: value for name, value in base.items() if not name.startswith(ENV_SESSION_PREFIX)}
    env["PYTHONPATH"] = os.pathsep.join([*map(str, paths), *filter(None, [base.get("PYTHONPATH")])])
    env["PATH"] = os.pathsep.join([str(Path(python).parent), *filter(None, [base.get("PATH")])])
    return env


def setup_code(workdir: Path, paths: list[Path], env: dict[str, str]) -> str:
    """What a new kernel runs first, silently: the session's folder as working directory, the paths on
    ``sys.path`` (after the working directory) and ``env``'s paths set (the rest of the environment it started
    with stays, with what the kernel added, e.g. matplotlib's inline backend; the session's own variables never
    reach a kernel, see ``KernelProcess``)."""
    paths_env = {name: env[name] for name in ("PYTHONPATH", "PATH")}
    return (
        "def _digitalhub_setup():\n"
        "    import os, sys\n"
        f"    os.chdir({str(workdir)!r})\n"
        f"    sys.path[1:1] = {[str(path) for path in paths]!r}\n"
        f"    os.environ.update({paths_env!r})\n"
        "_digitalhub_setup()\n"
        "del _digitalhub_setup\n"
    )


class SessionRuntime:
    """The kernel, the current execution and the session's folder (uploads in ``work``, builds in ``packages``)."""

    def __init__(
        self,
        python: str,
        folder: Path,
        code_root: Path | None,
        base_env: Mapping[str, str],
        idle_timeout: float,
        on_idle: Callable[[], None],
    ):
        self.python, self.idle_timeout, self.on_idle = python, idle_timeout, on_idle
        self.workdir, self.packages = folder / "work", folder / "packages"
        for path in (self.workdir, self.packages):
            path.mkdir(parents=True, exist_ok=True)
        paths = [self.packages, *([code_root] if code_root is not None else [])]
        self.env = session_env(base_env, python, paths)
        self._setup = setup_code(self.workdir, paths, self.env)
        self.current: Execution | None = None
        self._batch: Batch | None = None
        self._batch_task: asyncio.Task[None] | None = None  # held: a task nobody holds may be collected
        self._waiting_task: asyncio.Task[None] | None = None  # a query waiting for its kernel, held likewise
        self._kernel_task: asyncio.Task[Kernel] | None = None
        self._notice: str | None = None  # the kernel died while idle: said in the next execution
        self._watchdog: asyncio.Task[None] | None = None
        self.last_active = time.monotonic()

    # -- lifecycle

    async def start(self, process: KernelProcess | None = None) -> None:
        """Connect to ``process`` (a kernel already booting), else to a new kernel; return once it answers."""
        self._kernel_task = asyncio.get_running_loop().create_task(self._connect(process))
        await self._kernel_task

    def watch_idle(self) -> None:
        """Call ``on_idle`` once no request came for ``idle_timeout`` seconds and nothing runs."""
        self.last_active = time.monotonic()
        self._watchdog = asyncio.get_running_loop().create_task(self._watch_idle())

    async def _connect(self, process: KernelProcess | None = None) -> Kernel:
        kernel = Kernel(process or KernelProcess(self.python, self.env), self._kernel_died)
        try:
            await kernel.connect(self._setup)
        except BaseException:
            await kernel.shutdown()
            raise
        return kernel

    def _kernel_died(self, code: int | None, reported: bool) -> None:
        dead = self._kernel_task
        if dead is None or not dead.done() or dead.cancelled() or dead.exception() is not None:
            return  # it died while starting: ``start`` reports that
        if not reported:  # no execution of its was running to say so
            self._notice = f"{death_notice(code)} while idle: a new one started, variables are lost\n"
        print(f"{death_notice(code)}; starting a new kernel", flush=True)
        self._kernel_task = asyncio.get_running_loop().create_task(self._replace(dead.result()))

    async def _replace(self, dead: Kernel) -> Kernel:
        await dead.shutdown()
        return await self._connect()

    async def _kernel(self) -> Kernel:
        assert self._kernel_task is not None
        try:
            return await asyncio.shield(self._kernel_task)
        except KernelError as exc:
            raise RequestError(503, f"the session's kernel does not start: {exc}") from None

    async def _watch_idle(self) -> None:
        interval = min(5.0, self.idle_timeout / 4)
        while True:
            await asyncio.sleep(interval)
            if self.busy:
                self.last_active = time.monotonic()
            elif time.monotonic() - self.last_active >= self.idle_timeout:
                self.on_idle()
                return

    @property
    def busy(self) -> bool:
        """True while an execution runs (waiting for input counts as idle: someone has to answer)."""
        return self.current is not None and not self.current.finished and not self.current.waiting

    async def close(self) -> None:
        """Stop the kernel and any batch command."""
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self._batch is not None:
            self._batch.interrupt()
        task = self._kernel_task
        if task is None:
            return
        if not task.done():
            task.cancel()
        try:
            kernel = await task
        except (asyncio.CancelledError, Exception):  # never started: nothing to stop
            return
        await kernel.shutdown()

    # -- requests

    async def execute(
        self,
        mode: str,
        code: str = "",
        run_id: str | None = None,
        options: dict[str, Any] | None = None,
        wait: float | None = None,
    ) -> dict[str, Any]:
        """One call of the execute API; see the module's docstring."""
        self.last_active = time.monotonic()
        if mode == "query":
            execution = self._query(code, run_id)
        elif mode == "continued":
            execution = self._find(run_id)
        elif mode == "input":
            execution = self._find(run_id)
            if not execution.waiting:
                raise RequestError(
                    409,
                    f"run {execution.run_id} is not waiting for input (mode 'input' answers a 'waiting-input' result)",
                )
            execution.answered()
            (await self._kernel()).answer(code)
        elif mode == "batch":
            execution = self._start_batch(options or {}, run_id)
        else:
            raise RequestError(400, f"mode {mode!r} is not a mode: use one of {', '.join(MODES)}")
        await execution.settle(DEFAULT_WAIT if wait is None else wait)
        self.last_active = time.monotonic()
        return execution.result()

    def _check_free(self) -> None:
        current = self.current
        if current is not None and not current.finished:
            what = (
                "waits for input: answer it with mode 'input'"
                if current.waiting
                else "is still running: fetch its output with mode 'continued'"
            )
            raise RequestError(409, f"run {current.run_id} {what}, or interrupt it")

    def _query(self, code: str, run_id: str | None) -> Execution:
        """Start an execution of ``code``: at once, or once a kernel that is (re)starting answers."""
        self._check_free()
        execution = Execution(run_id)
        if self._notice:
            execution.output("stderr", self._notice)
            self._notice = None
        self.current, self._batch = execution, None
        assert self._kernel_task is not None
        if self._kernel_task.done() and not self._kernel_task.exception():
            self._kernel_task.result().execute(code, execution)
        else:
            self._waiting_task = asyncio.get_running_loop().create_task(self._execute_when_ready(code, execution))
        return execution

    async def _execute_when_ready(self, code: str, execution: Execution) -> None:
        try:
            kernel = await self._kernel()
        except RequestError as exc:
            execution.output("stderr", f"{exc}\n")
            execution.finish(1, kernel="failed")
            return
        kernel.execute(code, execution)

    def _find(self, run_id: str | None) -> Execution:
        if not run_id:
            raise RequestError(400, "runId is required in this mode: give the runId of the result to continue")
        if self.current is None or self.current.run_id != run_id:
            raise RequestError(404, f"no run {run_id!r} in this session: give the runId of the latest result")
        return self.current

    def _start_batch(self, options: dict[str, Any], run_id: str | None) -> Execution:
        build, command = options.get("build"), options.get("exec")
        for field, value in (("build", build), ("exec", command)):
            if value is not None and not isinstance(value, str):
                raise RequestError(400, f"options.{field} must be a shell command (a string), not {value!r}")
        if not build and not command:
            raise RequestError(400, "batch mode needs options.exec (a command) and/or options.build ('*' or a command)")
        self._check_free()
        commands = default_build(self.workdir, self.python, self.packages) if build == DEFAULT_BUILD else [build]
        execution = Execution(run_id)
        self._batch = Batch(execution, [c for c in (*commands, command) if c], self.workdir, self.env)
        self.current = execution
        self._batch_task = asyncio.get_running_loop().create_task(self._batch.run())
        return execution

    async def interrupt(self) -> bool:
        """Interrupt what runs now; False when nothing was running."""
        self.last_active = time.monotonic()
        current = self.current
        if current is None or current.finished:
            return False
        if self._batch is not None and self._batch.execution is current:
            self._batch.interrupt()
        else:
            if current.waiting:  # the code raises KeyboardInterrupt from input(): no answer is expected any more
                current.answered()
            (await self._kernel()).interrupt()
        return True

    def upload_path(self, name: str) -> Path:
        """Where an uploaded file named ``name`` (relative, ``/``-separated) goes in the session's folder."""
        self.last_active = time.monotonic()
        parts = PurePosixPath(name).parts
        if not parts or name.startswith("/") or any(part in ("..", ".") for part in parts) or "\\" in name:
            raise RequestError(400, f"file name {name!r} must be a relative path without '..': e.g. src/mycode.py")
        return self.workdir.joinpath(*parts)
