"""Driving a kernel process with jupyter_client: run code, answer its input requests, notice when it dies.

One reader task per channel hands each message to the execution whose request it answers; an execution is done
once the kernel replied and reported itself idle (all its output sent). Before the kernel counts as ready it runs
a silent setup snippet (working folder, ``sys.path``), ahead of any code sent to it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from typing import Any, cast

from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.connect import KernelConnectionInfo

from digitalhub_runtime_python.sessions.executions import Execution
from digitalhub_runtime_python.sessions.process import KernelProcess
from digitalhub_runtime_python.sessions.records import display_record, traceback_text

logger = logging.getLogger(__name__)
WATCH_INTERVAL = 0.2  # seconds between checks that the kernel process is alive
SHUTDOWN_GRACE = 3.0  # seconds a kernel asked to shut down gets before it is killed
DISPLAY_MESSAGES = ("display_data", "execute_result", "update_display_data")


def death_notice(code: int | None) -> str:
    """``the kernel died (signal SIGKILL)``, ``the kernel exited (code 0)``."""
    if code is None or code >= 0:
        return f"the kernel {'exited' if code == 0 else 'died'} (code {code})"
    try:
        return f"the kernel died (signal {signal.Signals(-code).name})"
    except ValueError:
        return f"the kernel died (signal {-code})"


class KernelError(RuntimeError):
    """The kernel did not start, or died while starting."""


class _Request:
    """An execute request in flight: done once replied to and followed by the kernel's idle status."""

    def __init__(self, execution: Execution):
        self.execution = execution
        self.reply: dict[str, Any] | None = None
        self.idle = False


class Kernel:
    """The client side of one kernel process; ``on_death(exit_code, reported)`` is called (once) if it exits by
    itself, ``reported`` when executions were running (they were told)."""

    def __init__(self, process: KernelProcess, on_death: Callable[[int | None, bool], None]):
        self.process, self.on_death = process, on_death
        self.client = AsyncKernelClient()
        self.client.load_connection_info(cast(KernelConnectionInfo, process.connection))
        self._requests: dict[str, _Request] = {}
        self._handshake: asyncio.Future[None] | None = None  # resolved once the kernel is connected
        self._asked: dict[str, list[bool]] = {}  # kernel info requests: reply seen, status seen
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    async def connect(self, setup: str, timeout: float = 120.0) -> None:
        """Connect, and return once the kernel answers requests, its output reaches us and ``setup`` ran."""
        self.client.start_channels(hb=False)
        loop = asyncio.get_running_loop()
        for channel, handle in (
            (self.client.iopub_channel, self._on_iopub),
            (self.client.shell_channel, self._on_shell),
            (self.client.stdin_channel, self._on_stdin),
        ):
            self._tasks.append(loop.create_task(self._read(channel, handle)))
        self._tasks.append(loop.create_task(self._watch()))
        try:
            await asyncio.wait_for(self._connected(), timeout)
        except TimeoutError:
            raise KernelError(f"the kernel did not answer within {timeout:g} s") from None
        execution = Execution()
        self.execute(setup, execution, silent=True)
        await execution.settle(timeout)
        if execution.exit_code != 0:
            error = execution.options.get("error") or {}
            raise KernelError(f"the kernel's setup failed: {error.get('name')}: {error.get('value')}")

    async def _connected(self) -> None:
        """Ask for kernel info until a reply and a status message for the same request arrived: requests are
        handled and output published now reaches us (the output channel connects on its own time)."""
        self._handshake = done = asyncio.get_running_loop().create_future()
        try:
            while True:
                code = self.process.poll()
                if code is not None:
                    raise KernelError(f"the kernel exited while starting ({death_notice(code)})")
                self._asked[self.client.kernel_info()] = [False, False]
                try:
                    await asyncio.wait_for(asyncio.shield(done), 1.0)
                    return
                except TimeoutError:
                    continue
        finally:
            self._handshake = None
            self._asked.clear()

    def _handshake_message(self, parent: str, channel: int) -> None:
        seen = self._asked.get(parent)
        if seen is None or self._handshake is None:
            return
        seen[channel] = True
        if all(seen) and not self._handshake.done():
            self._handshake.set_result(None)

    async def _read(self, channel: Any, handle: Callable[[dict[str, Any]], None]) -> None:
        while True:
            try:
                message = await channel.get_msg()
            except Exception:  # the channel closed: the kernel is shutting down
                return
            try:
                handle(message)
            except Exception:  # one odd message must not stop the channel
                logger.exception("cannot handle a %s message from the kernel", message.get("msg_type"))

    async def _watch(self) -> None:
        while self.process.poll() is None:
            await asyncio.sleep(WATCH_INTERVAL)
        if not self._stopping:
            self._stopping = True
            code, reported = self.process.poll(), bool(self._requests)
            self._fail_all(code)
            self.on_death(code, reported)

    # -- messages

    def _on_iopub(self, message: dict[str, Any]) -> None:
        parent = message["parent_header"].get("msg_id")
        kind, content = message["msg_type"], message["content"]
        if kind == "status":
            self._handshake_message(parent, 1)
        request = self._requests.get(parent)
        if request is None:
            return
        execution = request.execution
        if kind == "stream":
            execution.output(content["name"], content["text"])
        elif kind in DISPLAY_MESSAGES:
            record = display_record(content.get("data") or {})
            if record is not None:
                execution.output(*record)
        elif kind == "error":
            execution.output("stderr", traceback_text(content))
        elif kind == "status" and content.get("execution_state") == "idle":
            request.idle = True
            self._settle(parent, request)

    def _on_shell(self, message: dict[str, Any]) -> None:
        parent = message["parent_header"].get("msg_id")
        if message["msg_type"] == "kernel_info_reply":
            self._handshake_message(parent, 0)
            return
        request = self._requests.get(parent)
        if request is not None and message["msg_type"] == "execute_reply":
            request.reply = message["content"]
            self._settle(parent, request)

    def _on_stdin(self, message: dict[str, Any]) -> None:
        request = self._requests.get(message["parent_header"].get("msg_id"))
        if request is not None and message["msg_type"] == "input_request":
            content = message["content"]
            request.execution.ask(content.get("prompt", ""), bool(content.get("password")))

    def _settle(self, msg_id: str, request: _Request) -> None:
        if request.reply is None or not request.idle:
            return
        del self._requests[msg_id]
        reply = request.reply
        if reply.get("status") == "ok":
            request.execution.finish(0)
        else:
            error = {"name": reply.get("ename", "Error"), "value": reply.get("evalue", "")}
            request.execution.finish(1, error=error)

    def _fail_all(self, code: int | None) -> None:
        for request in self._requests.values():
            request.execution.output("stderr", f"{death_notice(code)}: a new one starts, variables are lost\n")
            request.execution.finish(code if code is not None else 1, kernel="restarted")
        self._requests.clear()

    # -- requests

    def execute(self, code: str, execution: Execution, silent: bool = False) -> None:
        """Send ``code`` to the kernel; ``execution`` collects what comes back."""
        msg_id = self.client.execute(code, silent=silent, store_history=not silent, allow_stdin=not silent)
        self._requests[msg_id] = _Request(execution)

    def answer(self, text: str) -> None:
        """Answer the pending input request."""
        self.client.input(text)

    def interrupt(self) -> None:
        self.process.interrupt()

    async def shutdown(self) -> None:
        """Ask the kernel to exit, kill it after a grace period, close the channels and remove its folder."""
        self._stopping = True
        try:
            if self.process.poll() is None and self.client.channels_running:
                self.client.shutdown()
                for _ in range(int(SHUTDOWN_GRACE / WATCH_INTERVAL)):
                    if self.process.poll() is not None:
                        break
                    await asyncio.sleep(WATCH_INTERVAL)
        finally:  # cancelled while waiting (the session closing): the process and its sockets go all the same
            for task in self._tasks:
                task.cancel()
            if self.client.channels_running:
                self.client.stop_channels()
            self.process.kill()
