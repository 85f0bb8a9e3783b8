"""A session as an object: a run of a function whose live kernel executes code snippets, in four modes.

``execute`` returns ``{"runId", "status", "exitCode", "console", "options"}`` (see docs/sessions.md): loop with
mode ``continued`` while the status is ``continued``, answer a ``waiting-input`` status with mode ``input``.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, urlsplit

from digitalhub_runtime_python.entities.backend import Backend, SessionUnavailable
from digitalhub_runtime_python.entities.run import Run
from digitalhub_runtime_python.models.run import Run as RunModel
from digitalhub_runtime_python.models.states import State, is_final
from digitalhub_runtime_python.models.task import Action

NAME_LABEL = "session:"  # a named session carries the label ``session:<name>``
MODES = ("query", "continued", "input", "batch")  # the session's server knows the same
DEFAULT_WAIT = 1.0  # seconds a call waits for its execution to finish or ask for input, unless it says
START_TIMEOUT = 300.0  # seconds to wait for a session that is still starting (a pod being scheduled)
REQUEST_MARGIN = 30.0  # seconds a request may take beyond what it asked the session to wait


class SessionError(RuntimeError):
    """A session that cannot do what was asked (ended, unreachable, busy); the message says why and what to do."""


class Session(Run):
    """A live kernel of a function: ``execute``, ``upload``, ``interrupt``, ``destroy``.

    ``endpoint`` replaces the URL the session reports, e.g. a ``kubectl port-forward`` to a session on a cluster.
    """

    def __init__(self, entity: RunModel, backend: Backend, endpoint: str | None = None):
        super().__init__(entity, backend)
        self._endpoint = endpoint
        self._http: _Connection | None = None

    @property
    def session_name(self) -> str | None:
        """The name given to ``get_or_create_session``, if any."""
        return next((label[len(NAME_LABEL) :] for label in self.metadata.labels if label.startswith(NAME_LABEL)), None)

    def connect(self, endpoint: str | None = None) -> Session:
        """Reach the session at ``endpoint`` from now on (None: where it says it is)."""
        self.close()
        self._endpoint = endpoint
        return self

    def execute(
        self,
        code: str = "",
        mode: str = "query",
        run_id: str | None = None,
        opts: dict[str, Any] | None = None,
        *,
        wait: float | None = None,
    ) -> dict[str, Any]:
        """Run ``code`` (``query``), fetch more output (``continued``), answer input (``input``) or run uploaded
        files (``batch``, with ``opts={"build": "*", "exec": "python main.py"}``).

        Returns once the execution finished or waits for input, or after ``wait`` seconds (the session's default:
        1) with status ``continued``.
        """
        if mode not in MODES:
            raise SessionError(f"mode {mode!r} is not a mode: use one of {', '.join(MODES)}")
        body: dict[str, Any] = {"mode": mode, "code": code, "runId": run_id, "options": opts or {}, "wait": wait}
        return self._call("POST", "/execute", body, timeout=(DEFAULT_WAIT if wait is None else wait) + REQUEST_MARGIN)

    def upload(self, paths: Iterable[str | Path]) -> list[str]:
        """Copy files (folders: every file in them) into the session's working folder; the names they got there.

        A relative path keeps its folders (``src/a.py``), anything else is stored under its base name.
        """
        stored = []
        for source, name in _upload_names(paths):
            with open(source, "rb") as file:
                self._call("PUT", f"/files/{quote(name)}", file, timeout=None)
            stored.append(name)
        return stored

    def interrupt(self) -> bool:
        """Interrupt what runs (KeyboardInterrupt in the kernel, SIGINT to a batch command); False if nothing ran."""
        return bool(self._call("POST", "/interrupt")["interrupted"])

    def destroy(self, timeout: float = 30.0) -> Session:
        """End the session: its kernel stops, the run is STOPPED. A session that does not answer is stopped."""
        self.refresh()
        if self.status.state == State.RUNNING:
            try:
                self._call("POST", "/destroy")
                self._backend.store.wait_run(self.key, lambda run: is_final(run.status.state), timeout)
            except (SessionError, SessionUnavailable, TimeoutError):
                pass
        self.close()
        self.stop()
        return self

    def close(self) -> None:
        """Close the connection to the session (it goes on; ``destroy`` ends it)."""
        if self._http is not None:
            self._http.close()
            self._http = None

    # -- the HTTP side (http.client, one keep-alive connection: a trivial execution stays a few milliseconds)

    def _connection(self) -> _Connection:
        if self._http is not None:
            return self._http
        if self.refresh().status.state in (State.CREATED, State.READY):
            self.wait(START_TIMEOUT)
        if self.status.state != State.RUNNING:
            raise self._ended()
        try:
            access = self._backend.session_access(self.entity)
        except SessionUnavailable as exc:
            raise SessionError(str(exc)) from None
        self._http = _Connection(self._endpoint or access.url, access.token)
        return self._http

    def _call(self, method: str, path: str, body: Any = None, timeout: float | None = REQUEST_MARGIN) -> Any:
        connection = self._connection()
        try:
            status, payload = connection.request(method, path, body, timeout)
        except OSError as exc:
            self.close()
            raise self._unreachable(exc) from None
        if status == 401:
            raise SessionError(f"session {self.id} refused the token: it was created anew, open the session again")
        try:
            answer = json.loads(payload)
        except ValueError:
            answer = {"detail": payload.decode(errors="replace")}
        if status >= 400:
            raise SessionError(f"session {self.id}: {answer.get('detail') or status}")
        return answer

    def _ended(self) -> SessionError:
        status = self.status
        return SessionError(f"session {self.id} is {status.state}: {status.message or 'no message'}")

    def _unreachable(self, exc: Exception) -> SessionError:
        """Why the session does not answer: it ended (a local one whose process is gone ends in ERROR as it is
        read), or it cannot be reached from here."""
        if is_final(self.refresh().status.state):
            return self._ended()
        return SessionError(f"cannot reach session {self.id}: {exc}")


class _Connection:
    """One keep-alive HTTP connection to a session, reopened when the server closed it while it was idle."""

    def __init__(self, url: str, token: str):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SessionError(f"session URL {url!r} is not an http(s) URL")
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        self._open = lambda: cls(parts.hostname or "", parts.port)
        self._prefix = parts.path.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._connection: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    def request(self, method: str, path: str, body: Any, timeout: float | None) -> tuple[int, bytes]:
        """Send one request; (status, body). A connection the server dropped while idle is replaced once."""
        headers = dict(self._headers)
        if isinstance(body, dict):
            body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        with self._lock:
            for attempt in (1, 2):
                reused = self._connection is not None
                if self._connection is None:
                    self._connection = self._open()
                self._connection.timeout = timeout
                if self._connection.sock is not None:
                    self._connection.sock.settimeout(timeout)
                try:
                    self._connection.request(method, self._prefix + path, body, headers)
                    response = self._connection.getresponse()
                    return response.status, response.read()
                except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                    self.close()
                    rewindable = body is None or isinstance(body, bytes)
                    if not (reused and attempt == 1 and rewindable):
                        raise
                except BaseException:
                    self.close()
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def is_session(run: RunModel) -> bool:
    return run.spec.action == Action.SESSION.value


def _upload_names(paths: Iterable[str | Path]) -> Iterator[tuple[Path, str]]:
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise SessionError(f"cannot upload {given}: no such file or folder")
        relative = not path.is_absolute() and ".." not in path.parts
        base = PurePosixPath(*path.parts) if relative else PurePosixPath(path.name)
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                yield file, str(base / PurePosixPath(*file.relative_to(path).parts))
        else:
            yield path, str(base)
