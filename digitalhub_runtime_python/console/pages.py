"""The console's pages: projects, a project, its runs, one run, a function's versions, a data entity."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from digitalhub_runtime_python.console import views
from digitalhub_runtime_python.console.app import console_of
from digitalhub_runtime_python.console.listing import DATA_MODELS, data_entities, run_page
from digitalhub_runtime_python.console.previews import table_preview
from digitalhub_runtime_python.console.services import service_routes
from digitalhub_runtime_python.models.data import Dataitem
from digitalhub_runtime_python.models.function import Function
from digitalhub_runtime_python.models.project import Project
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.models.task import Action
from digitalhub_runtime_python.stores.base import NotFound

router = APIRouter()
Page = Query(1, ge=1, description="Page of runs, from 1")


@router.get("/", response_class=HTMLResponse)
def projects(request: Request) -> HTMLResponse:
    console = console_of(request)
    return console.render(request, "projects.html", projects=console.backend.store.list_projects())


@router.get("/projects/{project}", response_class=HTMLResponse)
def project(request: Request, project: str, page: int = Page) -> HTMLResponse:
    console = console_of(request)
    store = console.backend.store
    since = console.hub.cursor  # before reading: the page's stream replays whatever changes from here
    found = store.get(Project, project, project)
    return console.render(
        request,
        "project.html",
        since=since,
        project=found,
        functions=store.list(Function, project),
        data=data_entities(store, project),
        listing=run_page(store, project, page, console.settings.page_size),
    )


def _run(request: Request, project: str, run_id: str) -> Run:
    return console_of(request).backend.store.get(Run, project, run_id)


def run_context(request: Request, run: Run) -> dict[str, Any]:
    """What the run page and its refreshed details show."""
    return {
        "run": run,
        "timeline": views.timeline(run),
        "metrics": views.metric_rows(run.status.metrics),
        "serving": run.spec.action == Action.SERVE.value,
    }


@router.get("/projects/{project}/runs/{run_id}", response_class=HTMLResponse)
def run(request: Request, project: str, run_id: str) -> HTMLResponse:
    since = console_of(request).hub.cursor  # before reading: the page's stream replays whatever changes from here
    found = _run(request, project, run_id)
    return console_of(request).render(request, "run.html", since=since, **run_context(request, found))


@router.get("/projects/{project}/runs/{run_id}/detail", response_class=HTMLResponse)
def run_detail(request: Request, project: str, run_id: str) -> HTMLResponse:
    """The run's state, timeline, results and actions, for the page to refresh when the run changes."""
    found = _run(request, project, run_id)
    return console_of(request).render(request, "_run_detail.html", **run_context(request, found))


@router.get("/projects/{project}/runs/{run_id}/service", response_class=HTMLResponse)
def run_service(request: Request, project: str, run_id: str) -> HTMLResponse:
    """A serving run's routes (from its OpenAPI document) with a form to call one."""
    found = _run(request, project, run_id)
    routes, problem = service_routes(found)
    return console_of(request).render(request, "_service.html", run=found, routes=routes, problem=problem)


@router.get("/projects/{project}/functions/{name}", response_class=HTMLResponse)
def function(request: Request, project: str, name: str, version: str | None = None) -> HTMLResponse:
    console = console_of(request)
    store = console.backend.store
    versions = store.list(Function, project, name=name, all_versions=True)
    chosen = next((f for f in versions if f.id == version), None) if version else (versions[0] if versions else None)
    if chosen is None:
        raise NotFound(f"no function {name}" + (f" version {version}" if version else "") + f" in project {project}")
    kind, code = views.code_source(chosen)
    return console.render(request, "function.html", function=chosen, versions=versions, code_kind=kind, code=code)


@router.get("/projects/{project}/{plural}/{name}", response_class=HTMLResponse)
def data_entity(request: Request, project: str, plural: str, name: str, version: str | None = None) -> HTMLResponse:
    """A dataitem, artifact or model: its files to download and, for a table, its first rows."""
    model = DATA_MODELS.get(plural)
    if model is None:
        raise NotFound(f"no page at {request.url.path}")
    console = console_of(request)
    entity = console.backend.store.get(model, project, name, version)
    versions = console.backend.store.list(model, project, name=name, all_versions=True)
    preview = table_preview(entity, console.backend) if isinstance(entity, Dataitem) else None
    return console.render(request, "data.html", entity=entity, plural=plural, versions=versions, preview=preview)
