"""A small compatibility layer over ``kmock.KubernetesEmulator`` (kmock 0.8), so kopf and the official client work.

kmock's emulator keeps objects in memory and serves list/watch/get/create/patch/delete, but treats them as plain
JSON. This subclass adds exactly what a real API server does and our code relies on:

- create: fills ``uid``, ``resourceVersion``, ``creationTimestamp``, ``generation``, ``namespace``, and
  ``apiVersion``/``kind`` when the client left them out; answers 201; drops ``status`` when the resource has a
  status subresource; a Job gets the selector and pod labels the server defaults
  (``batch.kubernetes.io/controller-uid``, ``batch.kubernetes.io/job-name``: ``kubectl logs job/NAME`` selects with
  them).
- every write bumps ``resourceVersion``; spec changes bump ``generation``.
- ``PUT`` (replace) on objects and on ``/status``, with optimistic concurrency: a stale
  ``metadata.resourceVersion`` (in a PUT or in a merge patch) answers 409 Conflict; a failed JSON-patch ``test``
  answers 422.
- server-side apply (``PATCH`` as ``application/apply-patch+yaml``): creates a missing object, else replaces it
  with the applied one (as if one field manager owned every field: no field ownership, no merging with others).
- status subresource isolation: writes to the object ignore ``status``; writes to ``/status`` change only it.
- ``labelSelector`` (``=``, ``==``, ``!=``, ``in``, ``notin``, ``key``, ``!key``) and ``fieldSelector``
  (``metadata.name``, ``metadata.namespace``) on list and watch.
- list chunks: ``limit`` and ``continue``, in the server's order (by namespace, then name); a cut list carries
  ``metadata.continue`` and ``remainingItemCount``, also in Table responses; a malformed ``continue`` answers 400.
  Unlike a real server, later chunks are not a snapshot of the first one's resourceVersion: objects created
  meanwhile show up when they sort after the chunk's end (and a continue token never expires with 410).
- watch: ``resourceVersion`` skips objects not changed since; ``timeoutSeconds`` ends the stream; the stream is
  declared ``application/json`` (client-go, so kubectl, refuses an octet-stream); lists carry a real
  ``resourceVersion``.
- ``/apis/``, ``/api/`` and ``/version/`` with a trailing slash; discovery lists subresources without the
  resource's short names and categories (kubectl warns about ambiguous short names otherwise), and names the core
  group version ``v1`` (kmock says ``/v1``, which hides ``namespaces`` and every core kind from kubectl).
- ownerReference garbage collection (background propagation, recursive) when an owner is deleted.
- pod logs: ``GET .../pods/NAME/log`` answers the text in ``emulator.pod_logs[(namespace, name)]``.
- the namespaces resource itself (``/api/v1/namespaces[/NAME[/status]]``), which kmock's path parser mistakes for
  a namespace prefix (kopf lists and watches it), created from JSON or from the protobuf body of
  ``kubectl create namespace`` (``protobuf.py``; other protobuf bodies answer 415).
- for kubectl (see ``kubectl.py``): Table responses (``tables.py``) built from the CRDs' printer columns when
  ``Accept`` asks for ``as=Table``; ``/openapi/v3`` documents that declare server-side field validation
  (``openapi.py``), so plain ``kubectl apply`` works, and ``fieldValidation=Strict`` refusing, with a 400 naming
  them, fields a custom resource's schema does not declare (built-in kinds are not checked).
- calls by identity: ``record_calls(token)`` returns a list that fills with every request made with that bearer
  token (method, path, query), from which ``rbac.py`` derives the RBAC permissions a process needed. The official
  client sends its token over plain HTTP; kubectl does not (its calls cannot be recorded this way).
- bounded request history: kmock records every request and re-filters all recorded ones for every new one, so it
  slows down quadratically (5 ms per GET when fresh, 100+ ms after a few thousand requests); requests are forgotten
  once matched (no test reads kmock's request log).
- one object by name (GET, and the answer to a create) is a dictionary lookup: kmock scans every stored object
  for each of them (a GET took 25 ms with 3,000 objects).

Everything else is kmock's own behaviour.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import itertools
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import aiohttp.web
import attrs
import jsonpatch
import kmock
from kmock._internal import dicts, enums, parsing, rendering

from . import openapi, protobuf, tables

Obj = dict[str, Any]
Key = tuple[kmock.resource, str | None, str]
JOBS = kmock.resource("batch", "v1", "jobs")
APPLY_PATCH = "application/apply-patch+yaml"

_REQUIREMENT = re.compile(
    r"^\s*(?P<neg>!)?\s*(?P<key>[A-Za-z0-9_./-]+)\s*"
    r"(?:(?P<op>==|!=|=|\s+in\s+|\s+notin\s+)\s*(?P<value>\([^)]*\)|[A-Za-z0-9_.-]*))?\s*$"
)


def parse_label_selector(selector: str) -> Callable[[dict[str, str]], bool]:
    """A predicate over labels for a Kubernetes label selector string."""
    checks: list[Callable[[dict[str, str]], bool]] = []
    for part in re.split(r",(?![^(]*\))", selector or ""):
        if not part.strip():
            continue
        match = _REQUIREMENT.match(part)
        if match is None or (match["neg"] and match["op"]):
            raise ValueError(f"unable to parse requirement: {part!r}")
        key, op, value = match["key"], (match["op"] or "").strip(), match["value"]
        if match["neg"]:
            checks.append(lambda labels, k=key: k not in labels)
        elif not op:
            checks.append(lambda labels, k=key: k in labels)
        elif op in ("=", "=="):
            checks.append(lambda labels, k=key, v=value: labels.get(k) == v)
        elif op == "!=":
            checks.append(lambda labels, k=key, v=value: labels.get(k) != v)
        else:
            values = {v.strip() for v in value.strip("()").split(",")}
            if op == "in":
                checks.append(lambda labels, k=key, vs=values: labels.get(k) in vs)
            else:
                checks.append(lambda labels, k=key, vs=values: labels.get(k) not in vs)
    return lambda labels: all(check(labels) for check in checks)


def parse_field_selector(selector: str) -> Callable[[Obj], bool]:
    """A predicate over objects for ``metadata.name``/``metadata.namespace`` field selectors."""
    checks: list[Callable[[Obj], bool]] = []
    for part in (selector or "").split(","):
        if not part.strip():
            continue
        match = re.match(r"^\s*metadata\.(name|namespace)\s*(==|!=|=)\s*(\S*)\s*$", part)
        if match is None:
            raise ValueError(f"field selector {part!r} is not supported: use metadata.name or metadata.namespace")
        field, op, value = match.groups()
        equal = op != "!="
        checks.append(lambda obj, f=field, v=value, eq=equal: (obj.get("metadata", {}).get(f) == v) == eq)
    return lambda obj: all(check(obj) for check in checks)


def _position(token: str | None) -> list[str] | None | bool:
    """Where a ``continue`` token resumes a list (namespace, name); None without a token, False for a bad one."""
    if not token:
        return None
    try:
        after = json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError:
        return False
    return after if isinstance(after, list) else False


def _chunk(items: list[Obj], limit: str | None, token: str | None) -> tuple[list[Obj], Obj]:
    """The chunk of a list that ``limit`` and a (valid) ``continue`` token ask for, in the server's order
    (namespace, then name), and the list metadata saying what follows (``continue``, ``remainingItemCount``)."""

    def position(obj: Obj) -> list[str]:
        return [obj["metadata"].get("namespace") or "", obj["metadata"]["name"]]

    items = sorted(items, key=position)
    after = _position(token)
    if isinstance(after, list):
        items = [obj for obj in items if position(obj) > after]
    size = int(limit) if limit and limit.isdigit() and int(limit) > 0 else None
    if size is None or len(items) <= size:
        return items, {}
    chunk = items[:size]
    following = base64.urlsafe_b64encode(json.dumps(position(chunk[-1])).encode()).decode()
    return chunk, {"continue": following, "remainingItemCount": len(items) - size}


_parse_path = parsing.parse_path


def parse_path(path: str) -> parsing.ParsedPath:
    """kmock's parser, except that ``/api/v1/namespaces[/NAME[/SUB]]`` addresses Namespace objects."""
    parts = path.strip("/").split("/")
    if parts[:3] == ["api", "v1", "namespaces"] and (len(parts) <= 4 or parts[4:] in (["status"], ["finalize"])):
        name = parts[3] if len(parts) > 3 else None
        sub = parts[4] if len(parts) > 4 else None
        return parsing.ParsedPath(group="", version="v1", plural="namespaces", name=name, subresource=sub)
    return _parse_path(path)


parsing.parse_path = parse_path  # rendering.Request._parse looks it up on the module at call time


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _status_error(code: int, reason: str, message: str) -> aiohttp.web.Response:
    body = {
        "apiVersion": "v1",
        "kind": "Status",
        "metadata": {},
        "status": "Failure",
        "code": code,
        "reason": reason,
        "message": message,
    }
    return aiohttp.web.json_response(body, status=code)


@dataclass(frozen=True)
class Call:
    """One request as the emulator received it (see ``record_calls``)."""

    method: str
    path: str
    params: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)


class _ForgetRequests(kmock.RawHandler):
    """Sits right before kmock's request matching (see CompatEmulator's bases) and hides earlier requests from it."""

    __slots__ = ()

    async def _handle(self, request: Any) -> Any:
        self._requests = [request]  # the matching that follows is synchronous: it sees this request only
        return await super()._handle(request)


@attrs.define(kw_only=True)
class _ApiServerBehaviours(kmock.KubernetesEmulator):
    """kmock's Kubernetes emulator with the API-server behaviours listed in the module docstring."""

    pod_logs: dict[tuple[str, str], str] = attrs.field(factory=dict)
    printer_columns: dict[kmock.resource, list[Obj]] = attrs.field(factory=dict)
    schemas: dict[kmock.resource, Obj] = attrs.field(factory=dict)
    _versions: Any = attrs.field(factory=lambda: itertools.count(1), init=False)
    _recorded: dict[str, list[Call]] = attrs.field(factory=dict, init=False)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.fallback["get /apis/"] << self._serve_apis
        self.fallback["get /api/"] << self._serve_api
        self.fallback["get /version/"] << self._serve_server_version
        self.fallback["get /openapi/v3"] << (lambda request: openapi.root(self._get_resources()))
        self.fallback["get", re.compile(r"/openapi/v3/.+")] << self._serve_openapi

    def record_calls(self, token: str) -> list[Call]:
        """From now on, the requests made with this bearer token (one identity), in order."""
        return self._recorded.setdefault(token, [])

    # -- helpers

    def _next_version(self) -> str:
        return str(next(self._versions))

    def _has_status(self, resource: kmock.resource) -> bool:
        return resource in self.resources and "status" in self.resources[resource].subresources

    def _live(self, key: Key) -> kmock.Object | None:
        obj = self._objects[key] if key in self._objects else None
        return None if obj is None or obj.deleted else obj

    async def _publish(self, resource: kmock.resource, kind: str, raw: Obj) -> None:
        await self._buses[resource].put({"type": kind, "object": raw})

    # -- request dispatch

    async def _handle(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        calls = self._recorded.get(request.headers.get("Authorization", "").removeprefix("Bearer "))
        if calls is not None:
            calls.append(Call(request.method.value, request.url.path, dict(request.params)))
        resource = request.resource
        if resource is None:
            return await super()._handle(request)
        content_type = request.headers.get("Content-Type", "")
        if request.body and content_type.startswith(protobuf.CONTENT_TYPE):
            try:
                request = attrs.evolve(request, data=protobuf.namespace(request.body))
            except ValueError as exc:
                return _status_error(415, "UnsupportedMediaType", str(exc))
        if request.action == enums.action.LIST and _position(request.params.get("continue")) is False:
            return _status_error(400, "BadRequest", f"continue key is not valid: {request.params['continue']!r}")
        if request.name and request.method == enums.method.PATCH and content_type.startswith(APPLY_PATCH):
            if self._live((resource, request.namespace, request.name)) is None:
                request = attrs.evolve(request, method=enums.method.POST, action=enums.action.CREATE, name=None)
            else:
                return await self._write(request, replace=True)
        if request.action == enums.action.CREATE:
            refused = self._strict_refusal(resource, request.params, request.data)
            if refused is not None:
                return refused
            self._fill_new(resource, request)
            response = await super()._handle(request)
            if response.status == 200:
                response.set_status(201)
            return response
        if request.name and request.method in (enums.method.PUT, enums.method.PATCH):
            return await self._write(request, replace=request.method == enums.method.PUT)
        if request.subresource == "log" and resource.plural == "pods" and request.method == enums.method.GET:
            return self._serve_log(request)
        if request.action == enums.action.DELETE and request.name:
            return await self._delete(request)
        return await super()._handle(request)

    def _strict_refusal(
        self, resource: kmock.resource, params: Mapping[str, str], body: Any
    ) -> aiohttp.web.Response | None:
        """With ``fieldValidation=Strict`` (kubectl's default), a 400 naming the fields the CRD schema lacks."""
        schema = self.schemas.get(resource)
        if schema is None or params.get("fieldValidation") != "Strict" or not isinstance(body, dict):
            return None
        unknown = list(openapi.unknown_fields(body, schema))
        if not unknown:
            return None
        kind = self.resources[resource].kind
        fields = ", ".join(f'unknown field "{path}"' for path in unknown)
        message = f'{kind} in version "{resource.version}" cannot be handled as a {kind}: '
        return _status_error(400, "BadRequest", message + f"strict decoding error: {fields}")

    def _serve_openapi(self, request: rendering.Request) -> Obj:
        parts = request.url.path.split("/")[3:]  # /openapi/v3/api/v1 or /openapi/v3/apis/GROUP/VERSION
        if len(parts) == 2 and parts[0] == "api":
            group, version = "", parts[1]
        elif len(parts) == 3 and parts[0] == "apis":
            group, version = parts[1], parts[2]
        else:
            raise kmock.KubernetesNotFoundError()
        document = openapi.group_version(self.resources.items(), group, version)
        if document is None:
            raise kmock.KubernetesNotFoundError()
        return document

    def _fill_new(self, resource: kmock.resource, request: rendering.Request) -> None:
        """Complete a new object's metadata, as the API server does."""
        data = request.data
        info = self.resources[resource] if resource in self.resources else None
        if info is not None and info.kind:  # clients may leave them out; the server always stores them
            group_version = f"{resource.group}/{resource.version}".lstrip("/")
            data.setdefault("apiVersion", group_version)
            data.setdefault("kind", info.kind)
        meta = data.setdefault("metadata", {})
        if request.namespace:
            meta["namespace"] = request.namespace
        meta.update(uid=str(uuid.uuid4()), resourceVersion=self._next_version(), creationTimestamp=_now(), generation=1)
        if self._has_status(resource):
            data.pop("status", None)
        if resource == JOBS and not data.get("spec", {}).get("selector"):
            # the Job's selector and pod labels the API server defaults (``kubectl logs job/NAME`` selects with them)
            selector = {"batch.kubernetes.io/controller-uid": meta["uid"]}
            data["spec"]["selector"] = {"matchLabels": selector}
            template_meta = data["spec"].setdefault("template", {}).setdefault("metadata", {})
            template_meta["labels"] = {
                **(template_meta.get("labels") or {}),
                **selector,
                "batch.kubernetes.io/job-name": meta["name"],
            }

    async def _write(self, request: rendering.Request, replace: bool) -> aiohttp.web.StreamResponse:
        """Replace or patch an object or its status, with preconditions, isolation and version bumps."""
        assert request.resource is not None  # an object's URL
        key = (request.resource, request.namespace, request.name)
        isolated = self._has_status(request.resource)
        on_status = request.subresource == "status"
        async with self._lock:
            obj = self._live(key)
            if obj is None:
                return _status_error(404, "NotFound", f"{request.resource.plural} {request.name!r} not found")
            current = copy.deepcopy(obj.raw)
            body = request.data
            wanted = (body.get("metadata") or {}).get("resourceVersion") if isinstance(body, dict) else None
            if wanted and wanted != current["metadata"].get("resourceVersion"):
                return _status_error(
                    409,
                    "Conflict",
                    f"Operation cannot be fulfilled on {request.resource.plural} "
                    f"{request.name!r}: the object has been modified; please apply your changes "
                    "to the latest version and try again",
                )
            try:
                if replace:
                    proposed = dict(body)
                else:
                    proposed = dicts.patch_dict(copy.deepcopy(current), body)
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
                return _status_error(422, "Invalid", f"the patch could not be applied: {exc}")
            refused = self._strict_refusal(request.resource, request.params, proposed)
            if refused is not None:
                return refused
            updated = self._merge_write(current, dict(proposed), isolated, on_status)
            obj.history.append(updated)
            await self._publish(request.resource, "MODIFIED", updated)
            meta = updated["metadata"]
            release = meta.get("deletionTimestamp") and not meta.get("finalizers")
            if release:
                obj.delete()
                await self._publish(request.resource, "DELETED", updated)
        if release:
            await self._collect_garbage({meta["uid"]})
        return aiohttp.web.json_response(updated)

    async def _delete(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        """Delete an object: mark it while finalizers remain, else remove it and collect what it owned."""
        key = (request.resource, request.namespace, request.name)
        async with self._lock:
            obj = self._live(key)
            if obj is None:
                return _status_error(404, "NotFound", f"{request.resource.plural} {request.name!r} not found")
            raw = copy.deepcopy(obj.raw)
            meta = raw["metadata"]
            if meta.get("finalizers"):
                if not meta.get("deletionTimestamp"):
                    meta.update(deletionTimestamp=_now(), resourceVersion=self._next_version())
                    obj.history.append(raw)
                    await self._publish(request.resource, "MODIFIED", raw)
                return aiohttp.web.json_response(raw)
            obj.delete()
            await self._publish(request.resource, "DELETED", raw)
        await self._collect_garbage({meta["uid"]})
        return aiohttp.web.json_response(raw)

    def _merge_write(self, current: Obj, proposed: Obj, isolated: bool, on_status: bool) -> Obj:
        """The stored object after a write: immutable metadata kept, isolation applied, versions bumped."""
        if isolated and on_status:
            updated = {**current, "status": proposed.get("status")}
            if updated["status"] is None:
                updated.pop("status")
        else:
            updated = proposed
            if isolated:
                updated.pop("status", None)
                if "status" in current:
                    updated["status"] = current["status"]
            old = current["metadata"]
            meta = updated.setdefault("metadata", {})
            for field in ("uid", "creationTimestamp", "namespace", "name", "generation", "deletionTimestamp"):
                if field in old:
                    meta[field] = old[field]
            if updated.get("spec") != current.get("spec"):
                meta["generation"] = old.get("generation", 1) + 1
        updated["metadata"]["resourceVersion"] = self._next_version()
        return updated

    async def _collect_garbage(self, owners: set[str]) -> None:
        """Delete objects owned by the deleted ``owners`` (uids), and what those owned, in the background."""
        while owners:
            gone: set[str] = set()
            async with self._lock:
                for key in list(self._objects):
                    obj = self._live(key)
                    if obj is None:
                        continue
                    refs = obj.get("metadata", {}).get("ownerReferences") or []
                    if any(ref.get("uid") in owners for ref in refs):
                        raw = obj.raw
                        obj.delete()
                        gone.add(raw["metadata"].get("uid"))
                        await self._publish(key[0], "DELETED", raw)
            owners = gone - {None}

    def _serve_log(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        if self._live((request.resource, request.namespace, request.name)) is None:
            return _status_error(404, "NotFound", f"pods {request.name!r} not found")
        text = self.pod_logs.get((request.namespace, request.name), "")
        tail = request.params.get("tailLines")
        if tail:
            text = "".join(text.splitlines(keepends=True)[-int(tail) :])
        return aiohttp.web.Response(text=text, content_type="text/plain")

    # -- reading

    async def _serve_fetch(self, request: rendering.Request) -> rendering.Payload:
        obj = self._live((request.resource, request.namespace, request.name))
        if obj is None:
            raise kmock.KubernetesObjectNotFoundError()
        return obj.raw

    async def _serve_create(self, request: rendering.Request) -> rendering.Payload:
        meta = request.data.get("metadata", {})
        key = (request.resource, request.namespace or meta.get("namespace"), request.name or meta.get("name"))
        return self._objects[key].raw

    async def _serve_version(self, request: rendering.Request) -> rendering.Payload:
        listing = await super()._serve_version(request)
        listing["groupVersion"] = listing["groupVersion"].lstrip("/")  # the core group is "v1", not "/v1"
        for entry in listing["resources"]:
            if "/" in entry["name"]:
                entry.update(shortNames=[], categories=[])
        return listing

    def _select(self, request: rendering.Request) -> tuple[Callable[[Obj], bool], int | None]:
        labels = parse_label_selector(request.params.get("labelSelector", ""))
        fields = parse_field_selector(request.params.get("fieldSelector", ""))
        version = request.params.get("resourceVersion", "")
        since = int(version) if version.isdigit() and version != "0" else None

        def matches(raw: Obj) -> bool:
            meta = raw.get("metadata", {})
            in_scope = request.namespace is None or meta.get("namespace") == request.namespace
            named = request.name is None or meta.get("name") == request.name
            return in_scope and named and labels(meta.get("labels") or {}) and fields(raw)

        return matches, since

    def _matching(self, request: rendering.Request, matches: Callable[[Obj], bool]) -> list[Obj]:
        return [
            obj.raw
            for (resource, _, _), obj in self._objects.items()
            if resource == request.resource and not obj.deleted and matches(obj.raw)
        ]

    async def _serve_list(self, request: rendering.Request) -> rendering.Payload:
        if request.resource not in self._get_resources():
            raise kmock.KubernetesResourceNotFoundError()
        matches, _ = self._select(request)
        async with self._lock:
            items = self._matching(request, matches)
            version = str(next(self._versions))
        items, chunk = _chunk(items, request.params.get("limit"), request.params.get("continue"))
        if tables.wants_table(request.headers.get("Accept", "")):
            table = self._table(request, items, version)
            table["metadata"].update(chunk)
            return table
        metadata = {"resourceVersion": version, **chunk}
        return {"apiVersion": "v1", "kind": "List", "metadata": metadata, "items": items}

    async def _serve_fetch(self, request: rendering.Request) -> rendering.Payload:
        obj = cast(Obj, await super()._serve_fetch(request))  # kmock serves the stored object's dict
        if tables.wants_table(request.headers.get("Accept", "")):
            return self._table(request, [obj], obj["metadata"]["resourceVersion"])
        return obj

    def _table(self, request: rendering.Request, objects: list[Obj], version: str) -> Obj:
        assert request.resource is not None  # only resource requests ask for tables
        columns = self.printer_columns.get(request.resource, [])
        return tables.table(objects, columns, request.params.get("includeObject", "Metadata"), version)

    # kmock declares its watch as an async generator, but renders any payload a fallback returns: a Response too.
    def _serve_watch(self, request: rendering.Request) -> kmock.Response:  # type: ignore[override]
        """A watch stream declared as JSON (client-go refuses to decode an octet-stream)."""
        return kmock.Response(headers={"Content-Type": "application/json"}, payload=self._watch_events(request))

    async def _watch_events(self, request: rendering.Request) -> AsyncIterator[rendering.Payload]:
        yield b""
        matches, since = self._select(request)
        timeout = request.params.get("timeoutSeconds")
        loop = asyncio.get_running_loop()
        deadline = None if not timeout else loop.time() + float(timeout)
        bus = self._buses[request.resource]
        async with self._lock:  # writers publish under this lock: nothing slips between the listing and the mark
            existing = self._matching(request, matches)
            marker = await bus.mark()
        events = bus.stream(since=marker)
        pending: asyncio.Future[Any] | None = None
        try:
            for raw in existing:
                if since is None or int(raw["metadata"].get("resourceVersion", "0")) > since:
                    yield {"type": "ADDED", "object": raw}
            while True:
                remaining = None if deadline is None else deadline - loop.time()
                if remaining is not None and remaining <= 0:
                    return
                pending = asyncio.ensure_future(events.__anext__())
                done, _ = await asyncio.wait({pending}, timeout=remaining)
                if not done:
                    return
                event, pending = pending.result(), None
                if matches(event.get("object", {})):
                    yield event
        finally:
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await pending
            await events.aclose()
            await bus.unmark(marker)


class CompatEmulator(_ApiServerBehaviours, _ForgetRequests):
    """The emulator the tests and benchmarks serve: API-server behaviours, bounded request history."""
