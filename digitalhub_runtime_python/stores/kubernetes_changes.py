"""The Kubernetes store's change feed: one watch per custom resource type of the namespace, merged in order of
arrival; an expired watch (410 Gone) lists again and reports a reset."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from typing import Any

from digitalhub_runtime_python.models.errors import SpecError
from digitalhub_runtime_python.models.resources import GROUP, RESOURCE_TYPES, VERSION, ResourceType, from_resource
from digitalhub_runtime_python.stores.changes import RESET, Change, ChangeFeed, Operation

logger = logging.getLogger(__name__)

OPERATIONS: dict[str, Operation] = {"ADDED": "created", "MODIFIED": "updated", "DELETED": "deleted"}


class KubernetesChangeFeed(ChangeFeed):
    """Watches every digitalhub resource type in ``namespace`` with the identity of ``api_client``."""

    def __init__(self, api_client: Any, namespace: str, *, window: int = 5, retry: float = 1.0):
        from kubernetes import client

        self.namespace = namespace
        self.window, self.retry = window, retry  # seconds per watch request; pause after a failed one
        self.custom: Any = client.CustomObjectsApi(api_client)

    def follow(self, stop: threading.Event) -> Iterator[list[Change]]:
        events: queue.Queue[Change] = queue.Queue()
        watches = [_Watch(self, rt, events, stop) for rt in RESOURCE_TYPES.values()]
        for watcher in watches:
            watcher.start()
        for watcher in watches:  # every watch has its starting version: changes from now on are seen
            watcher.listed.wait(self.window)
        while not stop.is_set():
            try:
                batch = [events.get(timeout=self.window)]
            except queue.Empty:
                yield []
                continue
            while True:
                try:
                    batch.append(events.get_nowait())
                except queue.Empty:
                    break
            yield batch


class _Watch(threading.Thread):
    """Follows one resource type: list for a starting version, then watch from it, again and again."""

    def __init__(
        self, feed: KubernetesChangeFeed, rt: ResourceType, events: queue.Queue[Change], stop: threading.Event
    ):
        super().__init__(daemon=True, name=f"watch-{rt.plural}")
        self.feed, self.rt, self.events, self.stop = feed, rt, events, stop
        self.listed = threading.Event()

    def _list_version(self) -> str:
        feed = self.feed
        listed: dict[str, Any] = feed.custom.list_namespaced_custom_object(
            GROUP, VERSION, feed.namespace, self.rt.plural, limit=1
        )
        return listed["metadata"]["resourceVersion"]

    def run(self) -> None:
        from kubernetes.client.rest import ApiException

        version: str | None = None
        while not self.stop.is_set():
            try:
                if version is None:
                    version = self._list_version()
                    if self.listed.is_set():  # listed again after an expired watch: changes were missed
                        self.events.put(RESET)
                    self.listed.set()
                version = self._follow(version)
            except ApiException as exc:
                if exc.status == 410:
                    version = None
                    continue
                self._pause(f"{exc.status} {exc.reason}")
            except Exception as exc:  # a dropped connection, an unreachable server: watch again after a pause
                self._pause(str(exc))

    def _pause(self, reason: str) -> None:
        logger.warning("watching %s in %s: %s", self.rt.plural, self.feed.namespace, reason)
        self.listed.set()
        self.stop.wait(self.feed.retry)

    def _follow(self, version: str) -> str | None:
        """Watch from ``version`` for one window; the version to go on from (None: list again)."""
        from kubernetes import watch

        feed = self.feed
        stream = watch.Watch().stream(
            feed.custom.list_namespaced_custom_object,
            GROUP,
            VERSION,
            feed.namespace,
            self.rt.plural,
            resource_version=version,
            allow_watch_bookmarks=True,
            timeout_seconds=feed.window,
            _request_timeout=feed.window + 10,
        )
        for event in stream:
            obj = event["raw_object"]
            if event["type"] == "ERROR":
                return None if obj.get("code") == 410 else version
            version = obj["metadata"].get("resourceVersion") or version
            if event["type"] in OPERATIONS:
                change = self._change(event["type"], obj)
                if change is not None:
                    self.events.put(change)
            if self.stop.is_set():
                break
        return version

    def _change(self, event_type: str, obj: dict[str, Any]) -> Change | None:
        try:
            key = from_resource(self.rt.model, obj).key
        except SpecError as exc:
            logger.warning("skipping %s %s: %s", self.rt.plural, obj["metadata"].get("name"), exc)
            return None
        return Change(OPERATIONS[event_type], key)
