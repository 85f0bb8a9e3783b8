"""Server-Sent Events for open pages (runs coming and going, a run changing, its console output as it grows) and
a run's whole log as a download; logs are read a page at a time, never whole."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sse_starlette import EventSourceResponse

from digitalhub_runtime_python.console.app import Console, console_of
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.models.states import is_final
from digitalhub_runtime_python.stores.base import LogRecord, NotFound
from digitalhub_runtime_python.stores.changes import Change

router = APIRouter()
LOG_PAGE = 500  # records per read and per event
LOG_POLL = 2.0  # seconds between log reads of a going run when nothing changed (pod logs come with no change)
PING = 15  # seconds between keep-alive comments
DATA_EVENTS = {"dataitem": "data", "artifact": "data", "model": "data", "function": "functions", "task": "functions"}

Event = dict[str, str]


def project_events(console: Console, project: str, batch: list[Change]) -> list[Event]:
    """Events for a project's pages: ``run-<id>`` with the new row of a changed run, ``runs`` when runs came or
    went, ``functions`` and ``data`` when those did, ``project``; a reset sends every list event."""
    names: dict[str, None] = {}
    updated: dict[str, None] = {}
    for change in batch:
        if change.op == "reset":
            names.update(dict.fromkeys(("runs", "functions", "data", "project")))
        elif change.project != project or change.op == "logs":
            continue
        elif change.entity_type == "run":
            if change.op == "updated":
                updated[change.key] = None
            else:
                names["runs"] = None
        elif change.entity_type in DATA_EVENTS:
            names[DATA_EVENTS[change.entity_type]] = None
        elif change.entity_type == "project":
            names["project"] = None
    events = [{"event": name, "data": ""} for name in names]
    if "runs" in names:  # the rows are fetched again anyway
        return events
    for key in updated:
        try:
            run = console.backend.store.get_run(key)
        except NotFound:
            continue
        html = console.fragment("_run_row.html", run=run)
        events.append({"event": f"run-{run.id}", "data": html})
    return events


@router.get("/projects/{project}/events")
async def project_stream(request: Request, project: str) -> EventSourceResponse:
    console = console_of(request)

    async def events() -> AsyncIterator[Event]:
        async with console.hub.subscribe() as queue:
            yield {"event": "live", "data": ""}
            while True:
                batch = await queue.get()
                for event in await asyncio.to_thread(project_events, console, project, batch):
                    yield event

    return EventSourceResponse(events(), ping=PING)


def log_html(records: list[LogRecord]) -> str:
    """Console output as HTML for the log view (stderr and system lines marked)."""
    return "".join(
        escape(r.text) if r.stream == "stdout" else f'<span class="{r.stream}">{escape(r.text)}</span>' for r in records
    )


@router.get("/projects/{project}/runs/{run_id}/events")
async def run_stream(request: Request, project: str, run_id: str) -> EventSourceResponse:
    """``entity`` when the run changes, ``logs`` with its new console output (the event id is the log cursor: a
    reconnecting page goes on where it was)."""
    console = console_of(request)
    backend = console.backend
    run = await asyncio.to_thread(backend.store.get, Run, project, run_id)
    last = request.headers.get("last-event-id", "")
    start = int(last) if last.isdigit() else 0

    async def events() -> AsyncIterator[Event]:
        current, cursor = run, start
        async with console.hub.subscribe() as queue:
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
