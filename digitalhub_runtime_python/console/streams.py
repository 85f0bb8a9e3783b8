"""Server-Sent Events for open pages (runs coming and going, a run changing, its console output as it grows) and
a run's whole log as a download; logs are read a page at a time, never whole."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from html import escape

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sse_starlette import EventSourceResponse

from digitalhub_runtime_python.console.app import Console, console_of
from digitalhub_runtime_python.console.listing import data_entities, run_page
from digitalhub_runtime_python.models.function import Function
from digitalhub_runtime_python.models.project import Project
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.models.states import is_final
from digitalhub_runtime_python.stores.base import LogRecord, NotFound
from digitalhub_runtime_python.stores.changes import Change

router = APIRouter()
LOG_PAGE = 500  # records per read and per event
LOG_POLL = 2.0  # seconds between log reads of a going run when nothing changed (pod logs come with no change)
PING = 15  # seconds between keep-alive comments
SECTIONS = {"dataitem": "data", "artifact": "data", "model": "data", "function": "functions"}

Event = dict[str, str]


def runs_event(console: Console, project: str, page: int) -> Event:
    """The page's run table, as it is now."""
    listing = run_page(console.backend.store, project, page, console.settings.page_size)
    return {"event": "runs", "data": console.fragment("_run_rows.html", listing=listing)}


def project_events(console: Console, project: str, page: int, batch: list[Change]) -> list[Event]:
    """Events for a project's page, each carrying the HTML to show: ``runs`` (the page's run table) when runs came
    or went, else ``run-<id>`` (the new row) per changed run; ``functions`` and ``data`` (those sections) when they
    changed. The HTML travels in the stream, so a page applies changes in the order the store made them."""
    sections: dict[str, None] = {}
    updated: dict[str, None] = {}
    for change in batch:
        if change.op == "reset":
            sections.update(dict.fromkeys(("runs", "functions", "data")))
        elif change.project != project or change.op == "logs":
            continue
        elif change.entity_type == "run":
            if change.op == "updated":
                updated[change.key] = None
            else:
                sections["runs"] = None
        elif change.entity_type in SECTIONS:
            sections[SECTIONS[change.entity_type]] = None
    store = console.backend.store
    events = []
    if "functions" in sections:
        html = console.fragment("_functions.html", functions=store.list(Function, project))
        events.append({"event": "functions", "data": html})
    if "data" in sections:
        events.append({"event": "data", "data": console.fragment("_data.html", data=data_entities(store, project))})
    if "runs" in sections:  # the whole table, changed rows included
        return [runs_event(console, project, page), *events]
    for key in updated:
        try:
            run = store.get_run(key)
        except NotFound:
            continue
        events.append({"event": f"run-{run.id}", "data": console.fragment("_run_row.html", run=run)})
    return events


Since = Query(None, description="The cursor the page was rendered at: what changed since comes first")


@router.get("/projects/{project}/events")
async def project_stream(
    request: Request, project: str, page: int = Query(1, ge=1), since: str | None = Since
) -> EventSourceResponse:
    """A project page's events, from what changed since the page was rendered."""
    console = console_of(request)
    await asyncio.to_thread(console.backend.store.get, Project, project, project)  # NotFound: a 404 page

    async def events() -> AsyncIterator[Event]:
        async with console.hub.subscribe(since) as queue:
            yield {"event": "live", "data": ""}
            while True:
                batch = await queue.get()
                for event in await asyncio.to_thread(project_events, console, project, page, batch):
                    yield event

    return EventSourceResponse(events(), ping=PING)


def log_html(records: list[LogRecord]) -> str:
    """Console output as HTML for the log view (stderr and system lines marked)."""
    return "".join(
        escape(r.text) if r.stream == "stdout" else f'<span class="{r.stream}">{escape(r.text)}</span>' for r in records
    )


@router.get("/projects/{project}/runs/{run_id}/events")
async def run_stream(request: Request, project: str, run_id: str, since: str | None = Since) -> EventSourceResponse:
    """``entity`` when the run changes, ``logs`` with its new console output (the event id is the log cursor: a
    reconnecting page goes on where it was)."""
    console = console_of(request)
    backend = console.backend
    run = await asyncio.to_thread(backend.store.get, Run, project, run_id)
    last = request.headers.get("last-event-id", "")
    start = int(last) if last.isdigit() else 0

    async def events() -> AsyncIterator[Event]:
        current, cursor = run, start
        async with console.hub.subscribe(since) as queue:
            yield {"event": "live", "data": ""}
            while True:
                while True:  # every page of output past the cursor
                    records, cursor_after = await asyncio.to_thread(backend.read_logs_after, current, cursor, LOG_PAGE)
                    if not records:
                        break
                    cursor = cursor_after
                    yield {"event": "logs", "id": str(cursor), "data": log_html(records)}
                going = not is_final(current.status.state)  # pod logs come with no change: read them again
                try:
                    batch = await asyncio.wait_for(queue.get(), LOG_POLL if going else None)
                except TimeoutError:
                    continue
                if any(c.op != "logs" and (c.key == current.key or c.op == "reset") for c in batch):
                    try:
                        current = await asyncio.to_thread(backend.store.get_run, current.key)
                    except NotFound:
                        yield {"event": "entity", "data": ""}
                        return
                    yield {"event": "entity", "data": ""}

    return EventSourceResponse(events(), ping=PING)


@router.get("/projects/{project}/runs/{run_id}/logs.txt")
def log_text(request: Request, project: str, run_id: str) -> StreamingResponse:
    """The whole console output, streamed a page at a time."""
    backend = console_of(request).backend
    run = backend.store.get(Run, project, run_id)

    def pages() -> Iterator[str]:
        cursor = 0
        while True:
            records, cursor = backend.read_logs_after(run, cursor, LOG_PAGE)
            if not records:
                return
            yield "".join(r.text for r in records)

    headers = {"Content-Disposition": f'attachment; filename="{run.id}.log"'}
    return StreamingResponse(pages(), media_type="text/plain; charset=utf-8", headers=headers)
