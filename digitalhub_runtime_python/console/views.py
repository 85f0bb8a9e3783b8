"""What the pages show of an entity: links by key, durations, a run's timeline, a function's code."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from digitalhub_runtime_python.models.base import Entity
from digitalhub_runtime_python.models.function import Function
from digitalhub_runtime_python.models.keys import InvalidKey, parse_key
from digitalhub_runtime_python.models.metrics import MetricValue
from digitalhub_runtime_python.models.run import Run
from digitalhub_runtime_python.models.states import is_final

DATA_TYPES = ("dataitem", "artifact", "model")


def entity_url(key: str) -> str | None:
    """The console page of the entity a key names (None for a key it has no page for)."""
    try:
        parsed = parse_key(key)
    except InvalidKey:
        return None
    project = quote(parsed.project, safe="")
    name = quote(parsed.name, safe="")
    if parsed.entity_type == "project":
        return f"/projects/{project}"
    if parsed.entity_type == "run":
        return f"/projects/{project}/runs/{name}"
    version = f"?version={quote(parsed.id, safe='')}" if parsed.id else ""
    if parsed.entity_type == "function":
        return f"/projects/{project}/functions/{name}{version}"
    if parsed.entity_type in DATA_TYPES:
        return f"/projects/{project}/{parsed.entity_type}s/{name}{version}"
    return None


def download_url(entity: Entity, file: str) -> str:
    """Where the console sends one file of a dataitem, artifact or model."""
    project, name = quote(entity.project, safe=""), quote(entity.name, safe="")
    query = urlencode({"version": entity.id, "file": file})
    return f"/projects/{project}/{entity.ENTITY_TYPE}s/{name}/download?{query}"


def key_name(key: str) -> str:
    """``name`` (or ``name:id`` shortened) of a key, for a link's text."""
    try:
        parsed = parse_key(key)
    except InvalidKey:
        return key
    return f"{parsed.name}:{parsed.id[:8]}" if parsed.id and parsed.id != parsed.name else parsed.name


def seconds(value: float) -> str:
    """``0.42 s``, ``12.3 s``, ``4 min 05 s``, ``2 h 03 min``."""
    if value < 60:
        return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"
    minutes, rest = divmod(int(value), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def run_duration(run: Run, now: datetime | None = None) -> str:
    """From creation to the final state, or to now while the run goes on."""
    transitions = run.status.transitions
    end = transitions[-1].time if transitions and is_final(run.status.state) else (now or datetime.now(UTC))
    return seconds(max(0.0, (end - run.metadata.created).total_seconds()))


@dataclass(frozen=True)
class Step:
    """One transition of a run, placed on its timeline."""

    state: str
    time: datetime
    offset: str  # since the run was created
    message: str | None


def timeline(run: Run) -> list[Step]:
    created = run.metadata.created
    return [
        Step(str(t.state), t.time, "+" + seconds(max(0.0, (t.time - created).total_seconds())), t.message)
        for t in run.status.transitions
    ]


def metric_rows(metrics: dict[str, MetricValue]) -> list[tuple[str, str, str]]:
    """(name, last value, the series when there is one) per metric."""
    rows = []
    for name, value in sorted(metrics.items()):
        if isinstance(value, list):
            rows.append((name, f"{value[-1]:.6g}" if value else "", ", ".join(f"{v:.6g}" for v in value)))
        else:
            rows.append((name, f"{value:.6g}", ""))
    return rows


def as_json(value: Any) -> str:
    """A parameter or result as readable JSON."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def code_source(function: Function) -> tuple[str, str]:
    """(what the code is, the text to show): the URI of ``code_src``, or the inline code itself."""
    spec = function.spec
    if spec.code_src:
        return "code_src", spec.code_src
    if spec.code:
        return "code", spec.code
    try:
        return "base64 (decoded)", base64.b64decode(spec.base64 or "", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return "base64 (binary, not shown)", ""


def short_id(entity: Entity) -> str:
    return entity.id[:8]
