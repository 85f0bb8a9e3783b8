"""Stop, resume and invoke a run from its page: only when the console's settings allow actions, only from the
console's own pages (htmx's header and a same-origin request), with the identity ``identity.py`` picks."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse

from digitalhub_runtime_python.console.app import console_of
from digitalhub_runtime_python.console.identity import acting_backend
from digitalhub_runtime_python.console.pages import run_context
from digitalhub_runtime_python.entities.run import Run
from digitalhub_runtime_python.models.run import Run as RunModel
from digitalhub_runtime_python.models.states import IllegalTransition
from digitalhub_runtime_python.stores.kubernetes import StoreError

router = APIRouter()
ACTION_ERRORS = (RuntimeError, NotImplementedError, IllegalTransition)


def check_allowed(request: Request) -> None:
    """403 unless actions are on and the request comes from a console page (no cross-site form can send it)."""
    if not console_of(request).settings.actions:
        raise HTTPException(403, "actions are off: start the console with --actions (or DIGITALHUB_CONSOLE_ACTIONS)")
    origin = request.headers.get("origin")
    if request.headers.get("hx-request") != "true" or (origin and urlsplit(origin).netloc != request.url.netloc):
        raise HTTPException(403, "actions are accepted from the console's own pages only")


def _act(request: Request, project: str, run_id: str, action: str) -> HTMLResponse:
    check_allowed(request)
    console = console_of(request)
    message, status = "", 200
    with acting_backend(console.backend, console.settings, request) as backend:
        run = Run(backend.store.get(RunModel, project, run_id), backend)
        try:
            run = run.stop() if action == "stop" else run.resume()
            message = f"{action}: the run is {run.status.state}"
        except ACTION_ERRORS as exc:
            message, status = f"{action} refused: {exc}", 409
        except StoreError as exc:
            message, status = f"{action} refused: {exc}", 403
    found = console.backend.store.get(RunModel, project, run_id)
    return console.render(request, "_run_detail.html", status, message=message, **run_context(request, found))


@router.post("/projects/{project}/runs/{run_id}/stop", response_class=HTMLResponse)
def stop(request: Request, project: str, run_id: str) -> HTMLResponse:
    return _act(request, project, run_id, "stop")


@router.post("/projects/{project}/runs/{run_id}/resume", response_class=HTMLResponse)
def resume(request: Request, project: str, run_id: str) -> HTMLResponse:
    return _act(request, project, run_id, "resume")


@router.post("/projects/{project}/runs/{run_id}/invoke", response_class=HTMLResponse)
def invoke(request: Request, project: str, run_id: str, route: str = Form(...), body: str = Form("")) -> HTMLResponse:
    """Call one route of a serving run with a JSON body; the page shows the status and the answer."""
    check_allowed(request)
    console = console_of(request)
    method, _, path = route.partition(" ")
    if not path.startswith("/"):
        return console.render(request, "_invoke.html", 400, problem=f"route {route!r} is not 'METHOD /path'")
    request_args = {}
    if body.strip():
        try:
            request_args["json"] = json.loads(body)
        except json.JSONDecodeError as exc:
            return console.render(request, "_invoke.html", 400, problem=f"body: not JSON ({exc})")
    with acting_backend(console.backend, console.settings, request) as backend:
        run = Run(backend.store.get(RunModel, project, run_id), backend)  # the caller may read the run
        try:
            response = run.invoke(path, method=method, timeout=30.0, **request_args)
        except (RuntimeError, httpx.HTTPError) as exc:
            return console.render(request, "_invoke.html", 502, problem=f"{route}: {exc}")
    try:
        answer = json.dumps(response.json(), indent=2, ensure_ascii=False)
    except ValueError:
        answer = response.text
    return console.render(
        request, "_invoke.html", route=route, status=response.status_code, reason=response.reason_phrase, answer=answer
    )
