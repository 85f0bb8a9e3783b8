"""Loaded inside a session's kernel: its stdout/stderr, which skip a flush when nothing was written since the last.

ipykernel flushes both streams before and after every execution, and each flush is a round trip to its I/O thread
even when there is nothing to send; for short snippets that is most of an execution's cost. Written text is still
sent the same way, in order, before the execution's reply and idle status. Given to the kernel as
``--IPKernelApp.outstream_class``.
"""

from __future__ import annotations

from ipykernel.iostream import OutStream


class LazyFlushStream(OutStream):
    """An OutStream whose ``flush`` returns at once when nothing was written since the last flush."""

    _written = False

    def write(self, string: str) -> int | None:  # type: ignore[override]  # ipykernel's own signature
        written = super().write(string)
        self._written = True  # after the text is buffered: a flush that sees the flag finds the text
        return written

    def _flush(self) -> None:
        self._written = False  # before the buffer is sent: text written meanwhile sets it again
        super()._flush()

    def flush(self) -> None:
        if self._written:
            super().flush()
