"""Kubernetes events on Run custom resources, posted through kopf's event queue (safe from worker threads)."""

from __future__ import annotations

import kopf

from .manifests import Owner

MAX_MESSAGE = 1000  # the API server refuses event messages over 1 KiB


def post(owner: Owner, namespace: str, type: str, reason: str, message: str) -> None:
    """Post one event on the run ``owner`` names: ``type`` is Normal or Warning, ``reason`` a CamelCase word."""
    reference = {"apiVersion": owner.api_version, "kind": owner.kind,
                 "metadata": {"name": owner.name, "namespace": namespace, "uid": owner.uid}}
    kopf.event(reference, type=type, reason=reason, message=message[:MAX_MESSAGE])
