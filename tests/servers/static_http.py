"""Plain http.server serving a folder (with Last-Modified / If-Modified-Since) and recording requests."""

from __future__ import annotations

from functools import partial
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

from .base import RecordingServer


class StaticServer(RecordingServer):
    def __init__(self, root: Path):
        super().__init__(partial(_Handler, directory=str(root)))  # type: ignore[arg-type]
        self.root = root


class _Handler(SimpleHTTPRequestHandler):
    server: StaticServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def send_head(self):  # type: ignore[no-untyped-def]
        self.server.record(f"{self.command} {self.path} {self.headers.get('If-Modified-Since') or ''}".rstrip())
        return super().send_head()
