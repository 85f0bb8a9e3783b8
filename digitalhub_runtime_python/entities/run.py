"""A run as an object: wait for it, read its logs, results and outputs, stop it."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Self

from digitalhub_runtime_python.entities.base import EntityObject
from digitalhub_runtime_python.entities.data import OBJECT_CLASSES, DataObject
from digitalhub_runtime_python.models.run import Run as RunModel
from digitalhub_runtime_python.models.states import State, is_final
from digitalhub_runtime_python.models.task import Action

if TYPE_CHECKING:
    import httpx

RECHECK = 0.5
"""Seconds between looks at the process of a run executed on this machine, while waiting for it."""


class Run(EntityObject[RunModel]):
    """One execution of a function's task.

    Every read (refresh, wait, logs, stop, invoke) reconciles a run executed on this machine: if the process
    executing it is gone without recording the end, the run ends in ERROR (see ``launchers/supervision.py``).
    """

    def refresh(self) -> Self:
        """Reload from the store (reconciled)."""
        self.entity = self._backend.reconcile(self._backend.store.get_run(self.key))
        return self

    def wait(self, timeout: float | None = None) -> Run:
        """Block until the run reaches COMPLETED, ERROR or STOPPED (a serve run: also RUNNING, i.e. serving);
        TimeoutError after ``timeout`` s."""
        serving = self.spec.action == Action.SERVE.value

        def settled(run: RunModel) -> bool:
            return is_final(run.status.state) or (serving and run.status.state == State.RUNNING)

        deadline = None if timeout is None else time.monotonic() + timeout
        while not settled(self.refresh().entity):
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise TimeoutError(f"run {self.key} did not finish within {timeout:g} s (it is {self.status.state})")
            if self.status.process is not None:  # executed here: look at its process again now and then
                remaining = RECHECK if remaining is None else min(RECHECK, remaining)
            try:
                self.entity = self._backend.store.wait_run(self.key, settled, remaining)
            except TimeoutError:
                continue
        return self

    @property
    def endpoint(self) -> str | None:
        """Base URL of a serve run (None until it serves)."""
        service = self.refresh().status.service
        return service.url if service is not None else None

    def invoke(
        self, path: str = "/", *, method: str = "POST", timeout: float | None = 60.0, verify: Any = True, **request: Any
    ) -> httpx.Response:
        """Call a serve run over HTTP and return the ``httpx.Response``, e.g. ``run.invoke(json={...}).json()``.

        ``request`` goes to ``httpx.Client.request``: json, data, content, params, headers. For TLS, ``verify``
        is a CA bundle path or an ``ssl.SSLContext`` (which also carries a client certificate for mTLS).
        Waits up to ``timeout`` s for a starting run; raises if the run is not serving.
        """
        from digitalhub_runtime_python.extras import require

        require("serve")
        import httpx  # entities do not depend on it otherwise

        status = (self.wait(timeout) if self.refresh().status.state in (State.CREATED, State.READY) else self).status
        if status.state != State.RUNNING or status.service is None or not status.service.url:
            raise RuntimeError(f"run {self.id} is not serving (state {status.state}): {status.message or 'no message'}")
        url = status.service.url.rstrip("/") + "/" + path.lstrip("/")
        with httpx.Client(verify=verify, timeout=timeout) as client:
            try:
                return client.request(method, url, **request)
            except httpx.TransportError as exc:
                state = self.refresh().status.state
                raise RuntimeError(
                    f"run {self.id} did not answer at {url} ({type(exc).__name__}: {exc}); it is {state}: "
                    f"{self.status.message or 'no message'}"
                ) from None

    def resume(self) -> Run:
        """Bring a stopped serve run back; returns once it serves again (or failed)."""
        self.refresh()
        if self.status.state != State.STOPPED:
            raise RuntimeError(f"run {self.id} is {self.status.state}: only a STOPPED serve run can be resumed")
        self._backend.launcher(self.spec.action, self.spec.local_execution).resume(self)
        return self.refresh()

    def logs(self) -> str:
        """The run's captured stdout and stderr."""
        if not is_final(self.status.state):
            self.refresh()  # a run whose process died gets that process's last output
        return "".join(record.text for record in self._backend.read_logs(self.entity))

    def stop(self) -> Run:
        """Stop the run if it has not finished; a finished run is left as it is."""
        self.refresh()
        if not is_final(self.status.state):
            self._backend.launcher(self.spec.action, self.spec.local_execution).stop(self)
        return self.refresh()

    def results(self) -> dict[str, Any]:
        """Plain values the handler returned, by output name."""
        return dict(self.status.results)

    def outputs(self) -> dict[str, DataObject]:
        """Entities the handler returned (dataitems, artifacts, models), by output name."""
        store = self._backend.store
        objects = {}
        for name, key in self.status.outputs.items():
            entity = store.get_key(key)
            objects[name] = OBJECT_CLASSES[entity.ENTITY_TYPE](entity, self._backend)
        return objects
