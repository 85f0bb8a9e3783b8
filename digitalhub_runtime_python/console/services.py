"""A serving run's routes, read from its OpenAPI document, for the run page's form."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.models.states import State

METHODS = ("get", "post", "put", "patch", "delete")
# The server's own routes (probes, docs, admin): not what a visitor tries.
HIDDEN = ("/healthz", "/readyz", "/docs", "/redoc", "/openapi.json")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    summary: str

    @property
    def value(self) -> str:
        """How the form names the route: ``POST /predict``."""
        return f"{self.method} {self.path}"


def service_url(run: Run) -> str | None:
    """The base URL of a run that serves now (None otherwise)."""
    service = run.status.service
    if run.status.state != State.RUNNING or service is None or not service.url:
        return None
    return service.url.rstrip("/")


def service_routes(run: Run, timeout: float = 5.0) -> tuple[list[Route], str | None]:
    """The routes a serving run documents, and why there are none when it cannot be asked."""
    url = service_url(run)
    if url is None:
        return [], f"the run is {run.status.state}, not serving"
    try:
        response = httpx.get(f"{url}/openapi.json", timeout=timeout)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        return [], f"cannot read {url}/openapi.json: {exc}"
    routes = []
    for path, operations in (document.get("paths") or {}).items():
        if path in HIDDEN or not isinstance(operations, dict):
            continue
        for method, operation in operations.items():
            if method in METHODS and isinstance(operation, dict):
                routes.append(Route(method.upper(), path, str(operation.get("summary") or "")))
    return routes, None
