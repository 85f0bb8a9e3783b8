"""The console's ASGI app: pages, event streams and actions over one backend, and ``serve`` to run it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from digitalhub_runtime_python.console import views
from digitalhub_runtime_python.console.feed import ChangeHub
from digitalhub_runtime_python.console.settings import ConsoleSettings
from digitalhub_runtime_python.entities.backend import Backend
from digitalhub_runtime_python.models.keys import InvalidKey
from digitalhub_runtime_python.stores.base import NotFound

logger = logging.getLogger(__name__)
HERE = Path(__file__).parent
# Scripts and styles come from the console itself: nothing is fetched from elsewhere, nothing inline runs.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every response's start, as plain ASGI: bodies pass untouched, so event
    streams and log downloads stay streams (an ``@app.middleware`` would relay them through a task of its own)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])  # optional in ASGI
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass
class Console:
    """What every route needs: the backend it shows, its settings, the change hub and the templates."""

    backend: Backend
    settings: ConsoleSettings
    hub: ChangeHub
    templates: Jinja2Templates

    def render(self, request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("settings", self.settings)
        return self.templates.TemplateResponse(request, template, context, status_code=status_code)

    def fragment(self, template: str, **context: Any) -> str:
        """A template rendered outside a request (an event's HTML)."""
        return self.templates.get_template(template).render(settings=self.settings, **context)


def console_of(request: Request) -> Console:
    return request.app.state.console


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals.update(
        entity_url=views.entity_url,
        download_url=views.download_url,
        key_name=views.key_name,
        run_duration=views.run_duration,
        as_json=views.as_json,
        short_id=views.short_id,
    )
    return templates


def create_app(backend: Backend, settings: ConsoleSettings | None = None) -> FastAPI:
    """The console over ``backend`` (read only unless ``settings.actions``)."""
    from digitalhub_runtime_python.console import actions, files, pages, streams

    settings = settings or ConsoleSettings()
    if settings.identity == "forwarded" and backend.settings.backend != "kubernetes":
        raise ValueError("the forwarded identity needs the Kubernetes backend: use identity 'server'")
    hub = ChangeHub(backend.store.changes)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        hub.start()
        try:
            yield
        finally:
            hub.close()

    app = FastAPI(title="digitalhub console", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.console = Console(backend, settings, hub, make_templates())
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (pages, streams, files, actions):
        app.include_router(module.router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        """Liveness: the server answers (the store is not asked)."""
        return {"status": "ok"}

    app.add_middleware(SecurityHeaders)

    def problem(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
        return app.state.console.render(request, "error.html", status, title=title, detail=detail, status=status)

    @app.exception_handler(NotFound)
    @app.exception_handler(InvalidKey)
    async def not_found(request: Request, exc: Exception) -> HTMLResponse:
        return problem(request, 404, "Not found", str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> HTMLResponse:
        title = "Not found" if exc.status_code == 404 else "Request refused"
        detail = exc.detail if exc.status_code != 404 or exc.detail != "Not Found" else f"no page at {request.url.path}"
        return problem(request, exc.status_code, title, str(detail))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> HTMLResponse:
        fields = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors())
        return problem(request, 400, "Bad request", fields)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> HTMLResponse:
        logger.exception("%s %s failed", request.method, request.url.path)
        return problem(request, 500, "Something went wrong", f"{type(exc).__name__}: the console's log has the details")

    return app


def serve(backend: Backend, settings: ConsoleSettings, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Run the console with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(create_app(backend, settings), host=host, port=port, log_level="info", access_log=False)
