"""Kubernetes events on Run custom resources, named as kubelet names them (``<object>.<unique hex>``)."""

from __future__ import annotations

import logging
import socket
import time
from datetime import UTC, datetime
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from digitalhub_operator.manifests.common import Owner

COMPONENT = "digitalhub-operator"
MAX_MESSAGE = 1000  # the API server refuses longer event messages
logger = logging.getLogger("digitalhub_operator")


class EventRecorder:
    """Posts events with the official client; a failed post is logged, never raised (events are best effort)."""

    def __init__(self, api: client.ApiClient):
        self._core = client.CoreV1Api(api)
        self._instance = socket.gethostname()

    def __call__(self, owner: Owner, namespace: str, type: str, reason: str, message: str) -> None:
        """One event on the run ``owner`` names: ``type`` Normal or Warning, ``reason`` a CamelCase word."""
        stamp = datetime.now(UTC)
        # The client takes plain dicts for its model arguments.
        body: Any = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{owner.name}.{time.time_ns():x}", "namespace": namespace},
            "involvedObject": {
                "apiVersion": owner.api_version,
                "kind": owner.kind,
                "name": owner.name,
                "namespace": namespace,
                "uid": owner.uid,
            },
            "type": type,
            "reason": reason,
            "message": message[:MAX_MESSAGE],
            "firstTimestamp": stamp.isoformat(),
            "lastTimestamp": stamp.isoformat(),
            "count": 1,
            "source": {"component": COMPONENT},
            "reportingComponent": COMPONENT,
            "reportingInstance": self._instance,
        }
        try:
            response: Any = self._core.create_namespaced_event(namespace, body, _preload_content=False)
            response.release_conn()  # not parsed: nothing in it is needed
        except ApiException as exc:
            logger.warning("could not post event %s on %s/%s: %s", reason, namespace, owner.name, exc.reason)
