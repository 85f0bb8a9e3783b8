"""Console records: ``["stdout", text]``, ``["stderr", text]`` and ``[mime, data]`` made from Jupyter messages.

A display (``display_data``, ``execute_result``) becomes one record of its richest type: images as data URIs
(PNG, JPEG, GIF), SVG as XML text, HTML, Markdown and LaTeX as text, JSON as JSON text; a display that is plain
text only reads as standard output. A traceback is a ``stderr`` record, without terminal colours.
"""

from __future__ import annotations

import json
import re
from typing import Any

Record = list[str]  # [kind, data]: kind is "stdout", "stderr" or a MIME type

DATA_URI_TYPES = ("image/png", "image/jpeg", "image/gif")
TEXT_TYPES = ("image/svg+xml", "text/html", "text/markdown", "text/latex")
PREFERRED = (*DATA_URI_TYPES, *TEXT_TYPES, "application/json")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def display_record(bundle: dict[str, Any]) -> Record | None:
    """The record of a MIME bundle: its first type in ``PREFERRED``, else its plain text as stdout."""
    for mime in PREFERRED:
        if mime not in bundle:
            continue
        value = bundle[mime]
        if mime in DATA_URI_TYPES:
            return [mime, f"data:{mime};base64,{''.join(str(value).split())}"]
        if mime == "application/json":
            return [mime, json.dumps(value)]
        return [mime, "".join(value) if isinstance(value, list) else str(value)]
    text = bundle.get("text/plain")
    if text is None:
        return None
    text = "".join(text) if isinstance(text, list) else str(text)
    return ["stdout", text if text.endswith("\n") else text + "\n"]


def traceback_text(content: dict[str, Any]) -> str:
    """The traceback of an ``error`` message as plain text."""
    lines = content.get("traceback") or [f"{content.get('ename', 'Error')}: {content.get('evalue', '')}"]
    return _ANSI.sub("", "\n".join(lines)) + "\n"


class Console:
    """Records not yet handed to the client, adjacent text of one stream merged, kept under ``limit`` characters."""

    def __init__(self, limit: int = 16 * 1024 * 1024):
        self.records: list[Record] = []
        self.limit = limit
        self.size = 0
        self.dropped = 0

    def add(self, kind: str, data: str) -> None:
        if self.size + len(data) > self.limit:
            self.dropped += len(data)  # nobody fetched the output: keep the start, say how much was lost
            return
        self.size += len(data)
        if kind in ("stdout", "stderr") and self.records and self.records[-1][0] == kind:
            self.records[-1][1] += data
        else:
            self.records.append([kind, data])

    def take(self) -> list[Record]:
        """The records so far, emptying the console."""
        records, self.records, self.size = self.records, [], 0
        if self.dropped:
            records.append(
                ["stderr", f"[{self.dropped} characters of output dropped: fetch it with mode 'continued']\n"]
            )
            self.dropped = 0
        return records
