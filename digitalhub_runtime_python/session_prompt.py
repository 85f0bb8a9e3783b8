"""``dhrun exec``'s interactive prompt on a session: read code (readline editing, Python's rules for when a
statement is complete), run it, stream its console, answer its input requests, save its media to files.

Ctrl-C while code runs interrupts it (the session goes on); Ctrl-C at the prompt drops the line; Ctrl-D leaves.
"""

from __future__ import annotations

import base64
import codeop
import getpass
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from digitalhub_runtime_python.entities.session import Session

POLL_WAIT = 0.25  # seconds each call waits for the run: how often output shows and Ctrl-C is acted on
EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/svg+xml": "svg",
    "text/html": "html",
    "text/markdown": "md",
    "text/latex": "tex",
    "application/json": "json",
}
Reader = Callable[[str], str]


def complete(source: str) -> bool:
    """True when ``source`` can run: Python's interactive rule (a compound statement ends with an empty line);
    what Python cannot parse (IPython's magics, a syntax error) is the kernel's to answer."""
    try:
        return codeop.compile_command(source, "<session>", "single") is not None
    except (SyntaxError, ValueError, OverflowError):
        return True


class Prompt:
    """The loop of ``dhrun exec`` on ``session``; media go to ``media_dir``."""

    def __init__(
        self,
        session: Session,
        media_dir: Path,
        read: Reader = input,
        out: TextIO | None = None,
        err: TextIO | None = None,
    ):
        self.session, self.media_dir, self.read = session, media_dir, read
        self.out, self.err = out or sys.stdout, err or sys.stderr
        self.count = 0
        self.saved = 0
        self._interrupted = False

    def loop(self) -> None:
        """Read and run code until end of input (Ctrl-D)."""
        try:
            import readline  # noqa: F401  (line editing and history for input())
        except ImportError:
            pass
        while True:
            try:
                source = self.read_source()
            except KeyboardInterrupt:
                self.out.write("\nKeyboardInterrupt\n")
                continue
            except EOFError:
                self.out.write("\n")
                return
            if source.strip():
                self.run(source)

    def read_source(self) -> str:
        self.count += 1
        lines = [self.read(f"In [{self.count}]: ")]
        while not complete("\n".join(lines)):
            lines.append(self.read("   ...: "))
        return "\n".join(lines)

    def run(self, source: str) -> dict[str, Any]:
        """Run ``source`` to its end, showing its console as it comes; Ctrl-C interrupts it."""
        with self._catching_interrupts():
            result = self.session.execute(code=source, wait=POLL_WAIT)
            while True:
                self.show(result["console"], result["runId"])
                if self._interrupted:
                    self._interrupted = False
                    self.session.interrupt()
                if result["status"] == "finished":
                    return result
                answer = self.answer(result["options"]) if result["status"] == "waiting-input" else None
                if answer is not None:
                    result = self.session.execute(run_id=result["runId"], code=answer, mode="input", wait=POLL_WAIT)
                else:
                    result = self.session.execute(run_id=result["runId"], mode="continued", wait=POLL_WAIT)

    def answer(self, options: dict[str, Any]) -> str | None:
        """The line the code asks for; None after Ctrl-C or Ctrl-D, which interrupt the code instead."""
        prompt = options.get("prompt", "")
        with self._default_interrupts():
            try:
                return getpass.getpass(prompt) if options.get("is_password") else self.read(prompt)
            except (KeyboardInterrupt, EOFError):
                self.out.write("\n")
                self.session.interrupt()
                return None

    def show(self, records: list[list[str]], run_id: str) -> None:
        for kind, data in records:
            if kind == "stdout":
                self.out.write(data)
            elif kind == "stderr":
                self.err.write(data)
            else:
                self.err.write(f"[{kind} saved to {self.save(kind, data, run_id)}]\n")
        self.out.flush()
        self.err.flush()

    def save(self, kind: str, data: str, run_id: str) -> Path:
        """Write a media record to a file of its type; data URIs are decoded to their bytes."""
        self.media_dir.mkdir(parents=True, exist_ok=True)
        self.saved += 1
        path = self.media_dir / f"{run_id[:8]}-{self.saved}.{EXTENSIONS.get(kind, 'txt')}"
        if data.startswith("data:") and ";base64," in data:
            path.write_bytes(base64.b64decode(data.split(",", 1)[1]))
        else:
            path.write_text(data)
        return path

    @contextmanager
    def _catching_interrupts(self) -> Iterator[None]:
        """Ctrl-C sets a flag the loop acts on between calls, so a call in flight is never cut in half."""

        def flag(_signum: int, _frame: Any) -> None:
            self._interrupted = True

        previous = signal.signal(signal.SIGINT, flag)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    @contextmanager
    def _default_interrupts(self) -> Iterator[None]:
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
