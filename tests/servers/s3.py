"""moto's S3 app on a free loopback port, with a log of the requests it served.

The same app ``moto.server.ThreadedMotoServer`` runs, wrapped by a WSGI middleware that records each
request, so tests can prove a cache hit sent no GetObject.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server


class S3Server:
    def __init__(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        app = DomainDispatcherApplication(create_backend_app)
        self.requests: list[str] = []
        self._server = make_server("127.0.0.1", 0, self._recording(app), threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def _recording(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            query = f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else ""
            self.requests.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}{query}")
            return app(environ, start_response)

        return wsgi

    def count(self, method: str, path: str) -> int:
        """How many requests of ``method`` for exactly ``path`` (query ignored) were served."""
        return sum(1 for r in list(self.requests) if r.split("?")[0] == f"{method} {path}")

    def __enter__(self) -> S3Server:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
