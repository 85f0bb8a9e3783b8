"""Real kopf against the emulator layer: create/update/delete handlers, finalizers and status patches work."""

from __future__ import annotations

import asyncio
import threading

import kopf
import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.waiting import wait_for

pytestmark = pytest.mark.integration

GROUP, VERSION, PLURAL = "example.com", "v1", "widgets"


@pytest.fixture
def operator(kube):
    """A kopf operator for widgets in the test's namespace, on its own thread and event loop."""
    registry = kopf.OperatorRegistry()
    seen: list[str] = []

    @kopf.on.login(registry=registry)
    def login(**_):
        return kopf.ConnectionInfo(server=kube.server.url, token="emulator-token", default_namespace=kube.namespace)

    @kopf.on.create(GROUP, VERSION, PLURAL, registry=registry)
    def created(spec, patch, **_):
        seen.append("create")
        patch.status["size"] = spec.get("size", 0) * 2

    @kopf.on.update(GROUP, VERSION, PLURAL, registry=registry)
    def updated(spec, patch, **_):
        seen.append("update")
        patch.status["size"] = spec.get("size", 0) * 2

    @kopf.on.delete(GROUP, VERSION, PLURAL, registry=registry)
    def deleted(**_):
        seen.append("delete")

    settings = kopf.OperatorSettings()
    settings.watching.server_timeout = 5
    settings.posting.enabled = False
    stop, ready = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=lambda: asyncio.run(
            kopf.operator(
                registry=registry,
                settings=settings,
                standalone=True,
                namespaces=[kube.namespace],
                stop_flag=stop,
                ready_flag=ready,
            )
        ),
        daemon=True,
    )
    thread.start()
    assert ready.wait(10), "kopf did not start"
    yield seen
    stop.set()
    thread.join(15)


def test_kopf_handlers_run_against_the_emulator(kube, operator):
    with kube.api_client() as api:
        custom = client.CustomObjectsApi(api)

        def widget():
            try:
                return custom.get_namespaced_custom_object(GROUP, VERSION, kube.namespace, PLURAL, "gizmo")
            except ApiException as exc:
                if exc.status == 404:
                    return None
                raise

        custom.create_namespaced_custom_object(
            GROUP,
            VERSION,
            kube.namespace,
            PLURAL,
            {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Widget", "metadata": {"name": "gizmo"}, "spec": {"size": 2}},
        )
        wait_for(
            lambda: (widget() or {}).get("status", {}).get("size") == 4, what="status written by the create handler"
        )
        assert "kopf.zalando.org/KopfFinalizerMarker" in widget()["metadata"]["finalizers"]
        custom.patch_namespaced_custom_object(GROUP, VERSION, kube.namespace, PLURAL, "gizmo", {"spec": {"size": 5}})
        wait_for(lambda: widget()["status"].get("size") == 10, what="status written by the update handler")
        custom.delete_namespaced_custom_object(GROUP, VERSION, kube.namespace, PLURAL, "gizmo")
        wait_for(lambda: widget() is None, what="deletion after the finalizer is released")
    assert operator == ["create", "update", "delete"]
