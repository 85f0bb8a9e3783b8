"""A run as an object: wait for it, read its logs, results, inputs and outputs, log metrics, stop it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self

from digitalhub_runtime_python.entities.backend import Backend
from digitalhub_runtime_python.entities.base import EntityObject
from digitalhub_runtime_python.entities.data import OBJECT_CLASSES
from digitalhub_runtime_python.models.errors import SpecError
from digitalhub_runtime_python.models.metrics import MetricValue, merge_metric
from digitalhub_runtime_python.models.run import Run as RunModel
from digitalhub_runtime_python.models.states import State, is_final
from digitalhub_runtime_python.models.task import Action

if TYPE_CHECKING:
    import httpx

RECHECK = 0.5
"""Seconds between looks at the process of a run executed on this machine, while waiting for it."""


logger = logging.getLogger(__name__)


class Run(EntityObject[RunModel]):
    """One execution of a function's task.

    Every Run handed out, and every read (refresh, wait, logs, stop, invoke), reconciles a run executed on this
    machine: if the process executing it is gone without recording the end, the run ends in ERROR (see
    ``launchers/supervision.py``).
    """

    def __init__(self, entity: RunModel, backend: Backend):
        super().__init__(backend.reconcile(entity), backend)

    def refresh(self) -> Self:
        """Reload from the store (reconciled)."""
        self.entity = self._backend.reconcile(self._backend.store.get_run(self.key))
        return self

    def wait(self, timeout: float | None = None, log_info: bool = True) -> Run:
        """Block until the run reaches COMPLETED, ERROR or STOPPED (a serve run or a session: also RUNNING, i.e.
        serving); TimeoutError after ``timeout`` s. ``log_info`` logs the wait and its outcome (logger of this
        module)."""
        serving = self.spec.action in (Action.SERVE.value, Action.SESSION.value)
        if log_info:
            logger.info("waiting for run %s", self.id)

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
        if log_info:
            logger.info("run %s is %s", self.id, self.status.state)
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

    def result(self, result_name: str) -> Any:
        """One plain value the handler returned (None if there is no such result)."""
        return self.status.results.get(result_name)

    def _objects(self, keys: dict[str, str], as_key: bool, as_dict: bool) -> dict[str, Any]:
        store = self._backend.store
        objects: dict[str, Any] = {}
        for name, key in keys.items():
            if as_key:
                objects[name] = key
                continue
            entity = store.get_key(key)
            objects[name] = entity.document() if as_dict else OBJECT_CLASSES[entity.ENTITY_TYPE](entity, self._backend)
        return objects

    def outputs(self, as_key: bool = False, as_dict: bool = False) -> dict[str, Any]:
        """Entities the handler returned (dataitems, artifacts, models), by output name: as objects, or as their
        keys (``as_key``) or documents (``as_dict``)."""
        return self._objects(self.status.outputs, as_key, as_dict)

    def output(self, output_name: str, as_key: bool = False, as_dict: bool = False) -> Any:
        """One entity the handler returned, like ``outputs()`` (None if there is no such output)."""
        key = self.status.outputs.get(output_name)
        return None if key is None else self._objects({output_name: key}, as_key, as_dict)[output_name]

    def inputs(self, as_dict: bool = False) -> dict[str, Any]:
        """The entities the run was given, by argument: as objects, or as documents (``as_dict``)."""
        return self._objects(self.spec.inputs, False, as_dict)

    # Metrics

    @property
    def metrics(self) -> dict[str, MetricValue]:
        """Metrics logged so far: a number, or the series of numbers, per name."""
        return dict(self.refresh().status.metrics)

    def log_metric(self, key: str, value: MetricValue, overwrite: bool = False, single_value: bool = False) -> None:
        """Log a metric: a number joins the series of ``key``, a list extends it; ``single_value`` keeps one number
        (set once), ``overwrite`` replaces what was logged. Works while the run executes and after."""
        self._update_metrics(lambda metrics: merge_metric(metrics, key, value, overwrite, single_value))

    def log_metrics(self, metrics: dict[str, MetricValue], overwrite: bool = False) -> None:
        """Log several metrics in one write: lists extend a series, a number joins an existing series or is
        kept as a single value."""

        def merge(current: dict[str, MetricValue]) -> dict[str, MetricValue]:
            for key, value in metrics.items():
                single = not isinstance(value, list) and (overwrite or key not in current)
                current = merge_metric(current, key, value, overwrite, single)
            return current

        self._update_metrics(merge)

    def _update_metrics(self, change: Callable[[dict[str, MetricValue]], dict[str, MetricValue]]) -> None:
        def write(run: RunModel) -> RunModel:
            try:
                run.status.metrics = change(dict(run.status.metrics))
            except ValueError as exc:
                raise SpecError("metric", [("value", str(exc))]) from None
            return run

        self.entity = self._backend.store.update_run(self.key, write)
