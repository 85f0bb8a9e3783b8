"""The emulator compatibility layer behaves like an API server for the official kubernetes client."""

from __future__ import annotations

import threading

import httpx
import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

pytestmark = pytest.mark.integration

GROUP, VERSION, PLURAL = "example.com", "v1", "widgets"


@pytest.fixture
def api(kube):
    with kube.api_client() as api_client:
        yield client.CustomObjectsApi(api_client), client.CoreV1Api(api_client), client.BatchV1Api(api_client)


def widget(name: str, labels: dict[str, str] | None = None, **spec) -> dict:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Widget",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": spec,
        "status": {"phase": "ignored"},
    }


def create(custom, kube, name: str, **kwargs) -> dict:
    return custom.create_namespaced_custom_object(GROUP, VERSION, kube.namespace, PLURAL, widget(name, **kwargs))


def test_create_fills_metadata_answers_201_and_drops_status(api, kube):
    custom, _, _ = api
    created = create(custom, kube, "w1", size=1)
    meta = created["metadata"]
    assert meta["namespace"] == kube.namespace
    assert meta["uid"] and meta["resourceVersion"] and meta["creationTimestamp"] and meta["generation"] == 1
    assert "status" not in created
    with pytest.raises(ApiException) as info:
        create(custom, kube, "w1")
    assert info.value.status == 409


def test_get_list_patch_bump_versions(api, kube):
    custom, _, _ = api
    created = create(custom, kube, "w2", size=1)
    patched = custom.patch_namespaced_custom_object(GROUP, VERSION, kube.namespace, PLURAL, "w2", {"spec": {"size": 2}})
    assert int(patched["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    assert patched["metadata"]["generation"] == 2 and patched["metadata"]["uid"] == created["metadata"]["uid"]
    fetched = custom.get_namespaced_custom_object(GROUP, VERSION, kube.namespace, PLURAL, "w2")
    assert fetched["spec"] == {"size": 2}
    listed = custom.list_namespaced_custom_object(GROUP, VERSION, kube.namespace, PLURAL)
    assert [item["metadata"]["name"] for item in listed["items"]] == ["w2"]
    assert listed["metadata"]["resourceVersion"].isdigit()
    with pytest.raises(ApiException) as info:
        custom.get_namespaced_custom_object(GROUP, VERSION, kube.namespace, PLURAL, "missing")
    assert info.value.status == 404


def test_status_subresource_is_isolated(api, kube):
    custom, _, _ = api
    create(custom, kube, "w3", size=1)
    status = custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, kube.namespace, PLURAL, "w3", {"status": {"phase": "Ready"}, "spec": {"size": 99}}
    )
    assert status["status"] == {"phase": "Ready"} and status["spec"] == {"size": 1}
    assert status["metadata"]["generation"] == 1
    main = custom.patch_namespaced_custom_object(
        GROUP, VERSION, kube.namespace, PLURAL, "w3", {"status": {"phase": "Hacked"}, "spec": {"size": 3}}
    )
    assert main["status"] == {"phase": "Ready"} and main["spec"] == {"size": 3}


def test_replace_checks_resource_version(api, kube):
    custom, _, _ = api
    created = create(custom, kube, "w4", size=1)
    fresh = {**created, "spec": {"size": 5}}
    replaced = custom.replace_namespaced_custom_object(GROUP, VERSION, kube.namespace, PLURAL, "w4", fresh)
    assert replaced["spec"] == {"size": 5}
    stale = {**created, "spec": {"size": 6}}  # still carries the first resourceVersion
    with pytest.raises(ApiException) as info:
        custom.replace_namespaced_custom_object(GROUP, VERSION, kube.namespace, PLURAL, "w4", stale)
    assert info.value.status == 409
    replaced["status"] = {"phase": "Done"}
    status = custom.replace_namespaced_custom_object_status(GROUP, VERSION, kube.namespace, PLURAL, "w4", replaced)
    assert status["status"] == {"phase": "Done"} and status["spec"] == {"size": 5}


def test_label_and_field_selectors(api, kube):
    custom, _, _ = api
    create(custom, kube, "a", labels={"app": "x", "tier": "web"})
    create(custom, kube, "b", labels={"app": "y"})
    create(custom, kube, "c", labels={})

    def names(**selectors) -> list[str]:
        items = custom.list_namespaced_custom_object(GROUP, VERSION, kube.namespace, PLURAL, **selectors)["items"]
        return sorted(item["metadata"]["name"] for item in items)

    assert names(label_selector="app=x") == ["a"]
    assert names(label_selector="app!=x") == ["b", "c"]
    assert names(label_selector="app in (x, y)") == ["a", "b"]
    assert names(label_selector="app notin (x)") == ["b", "c"]
    assert names(label_selector="app,tier=web") == ["a"]
    assert names(label_selector="!app") == ["c"]
    assert names(field_selector="metadata.name=b") == ["b"]


def test_list_chunks_with_limit_and_continue(api, kube):
    custom, _, _ = api
    for name in ("d", "b", "e", "a", "c"):
        create(custom, kube, name, labels={"even": str(name in "bd").lower()})

    def chunk(**params) -> dict:
        return custom.list_namespaced_custom_object(GROUP, VERSION, kube.namespace, PLURAL, **params)

    first = chunk(limit=2)
    assert [item["metadata"]["name"] for item in first["items"]] == ["a", "b"]
    assert first["metadata"]["remainingItemCount"] == 3
    second = chunk(limit=2, _continue=first["metadata"]["continue"])
    assert [item["metadata"]["name"] for item in second["items"]] == ["c", "d"]
    last = chunk(limit=2, _continue=second["metadata"]["continue"])
    assert [item["metadata"]["name"] for item in last["items"]] == ["e"]
    assert "continue" not in last["metadata"]
    selected = chunk(limit=1, label_selector="even=true")
    assert [item["metadata"]["name"] for item in selected["items"]] == ["b"]
    rest = chunk(limit=1, label_selector="even=true", _continue=selected["metadata"]["continue"])
    assert [item["metadata"]["name"] for item in rest["items"]] == ["d"] and "continue" not in rest["metadata"]
    assert len(chunk()["items"]) == 5  # no limit: everything at once
    with pytest.raises(ApiException) as refused:
        chunk(limit=2, _continue="not-a-token")
    assert refused.value.status == 400


def test_watch_streams_changes_and_ends_at_timeout(api, kube):
    custom, _, _ = api
    created = create(custom, kube, "w5", labels={"watched": "yes"})
    create(custom, kube, "other", labels={"watched": "no"})
    custom.patch_namespaced_custom_object_status(GROUP, VERSION, kube.namespace, PLURAL, "w5", {"status": {"n": 1}})
    seen: list[tuple[str, str, int]] = []
    first = threading.Event()

    def writer() -> None:
        assert first.wait(30)
        custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, kube.namespace, PLURAL, "other", {"status": {"n": 2}}
        )
        custom.patch_namespaced_custom_object_status(GROUP, VERSION, kube.namespace, PLURAL, "w5", {"status": {"n": 3}})
        custom.delete_namespaced_custom_object(GROUP, VERSION, kube.namespace, PLURAL, "w5")

    def watcher() -> None:
        # Watching from the creation's version: the change made since arrives first, then the live events.
        for event in watch.Watch().stream(
            custom.list_namespaced_custom_object,
            GROUP,
            VERSION,
            kube.namespace,
            PLURAL,
            label_selector="watched=yes",
            timeout_seconds=2,
            resource_version=created["metadata"]["resourceVersion"],
        ):
            obj = event["object"]
            seen.append((event["type"], obj["metadata"]["name"], obj.get("status", {}).get("n", 0)))
            first.set()

    threads = [threading.Thread(target=target, daemon=True) for target in (writer, watcher)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)  # generous: the server ends the stream after 2 s; without timeoutSeconds it never would
    assert not any(thread.is_alive() for thread in threads), "the watch did not end at its timeoutSeconds"
    assert seen == [("ADDED", "w5", 1), ("MODIFIED", "w5", 3), ("DELETED", "w5", 3)]


def test_deleting_an_owner_collects_what_it_owns(api, kube):
    custom, core, batch = api
    owner = create(custom, kube, "owner")
    ref = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Widget", "name": "owner", "uid": owner["metadata"]["uid"]}
    job = batch.create_namespaced_job(
        kube.namespace,
        {
            "metadata": {"name": "owned-job", "ownerReferences": [ref]},
            "spec": {
                "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}
            },
        },
    )
    job_ref = {"apiVersion": "batch/v1", "kind": "Job", "name": "owned-job", "uid": job.metadata.uid}
    core.create_namespaced_pod(
        kube.namespace,
        {
            "metadata": {"name": "owned-pod", "ownerReferences": [job_ref]},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        },
    )
    core.create_namespaced_pod(
        kube.namespace, {"metadata": {"name": "free-pod"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    )
    custom.delete_namespaced_custom_object(GROUP, VERSION, kube.namespace, PLURAL, "owner")
    assert batch.list_namespaced_job(kube.namespace).items == []
    assert [p.metadata.name for p in core.list_namespaced_pod(kube.namespace).items] == ["free-pod"]


def test_finalizers_hold_deletion_until_removed(api, kube):
    custom, _, _ = api
    obj = widget("held")
    obj["metadata"]["finalizers"] = ["example.com/cleanup"]
    custom.create_namespaced_custom_object(GROUP, VERSION, kube.namespace, PLURAL, obj)
    marked = custom.delete_namespaced_custom_object(GROUP, VERSION, kube.namespace, PLURAL, "held")
    assert marked["metadata"]["deletionTimestamp"]
    assert custom.get_namespaced_custom_object(GROUP, VERSION, kube.namespace, PLURAL, "held")
    custom.patch_namespaced_custom_object(
        GROUP, VERSION, kube.namespace, PLURAL, "held", {"metadata": {"finalizers": None}}
    )
    with pytest.raises(ApiException) as info:
        custom.get_namespaced_custom_object(GROUP, VERSION, kube.namespace, PLURAL, "held")
    assert info.value.status == 404


def test_pod_logs_and_discovery(api, kube):
    _, core, _ = api
    core.create_namespaced_pod(
        kube.namespace, {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    )
    kube.emulator.pod_logs[(kube.namespace, "p")] = "line 1\nline 2\n"
    assert core.read_namespaced_pod_log("p", kube.namespace) == "line 1\nline 2\n"
    assert core.read_namespaced_pod_log("p", kube.namespace, tail_lines=1) == "line 2\n"
    for path in ("/apis/", "/api/", "/version/", "/apis/example.com/v1"):
        assert httpx.get(kube.server.url + path).status_code == 200, path
    resources = httpx.get(kube.server.url + "/apis/example.com/v1").json()["resources"]
    assert {r["name"]: r["shortNames"] for r in resources} == {"widgets": ["wd"], "widgets/status": []}
