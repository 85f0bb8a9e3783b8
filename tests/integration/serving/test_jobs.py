"""Async request jobs: submit, status, long-poll, result, batch ids, cancel."""

from __future__ import annotations

import httpx
import pytest

import digitalhub_runtime_python as dh

from .conftest import APP, Server

pytestmark = pytest.mark.integration


def test_job_runs_the_handler_and_keeps_the_result(http: httpx.Client) -> None:
    submitted = http.post("/jobs", json={"args": {"x": 4}})
    assert submitted.status_code == 202 and submitted.json()["status"] in ("PENDING", "RUNNING", "SUCCESS")
    job_id = submitted.json()["id"]
    done = http.get(f"/jobs/{job_id}", params={"wait": 5}).json()
    assert done["status"] == "SUCCESS" and "result" not in done
    result = http.get(f"/jobs/{job_id}/result")
    assert result.status_code == 200 and result.json()["result"]["y"] == 9.0


def test_job_for_a_command_checks_inputs_at_submit(http: httpx.Client) -> None:
    job = http.post("/jobs", json={"command": "add", "args": {"a": 1, "b": 2}, "request_id": "cmd-1"}).json()
    assert job["id"] == "cmd-1"
    assert http.get("/jobs/cmd-1/result", params={"wait": 5}).json()["result"] == {"sum": 3}
    refused = http.post("/jobs", json={"command": "add", "args": {"b": 2}})
    assert refused.status_code == 400 and "a: required field is missing" in refused.json()["details"]
    unknown = http.post("/jobs", json={"command": "nope", "args": {}})
    assert unknown.status_code == 404 and "add" in unknown.json()["details"]
    streamed = http.post("/jobs", json={"command": "count", "args": {"n": 2}}).json()["id"]
    assert http.get(f"/jobs/{streamed}/result", params={"wait": 5}).json()["result"] == [{"i": 0}, {"i": 1}]


def test_failed_job_reports_failure_without_traceback(http: httpx.Client) -> None:
    job_id = http.post("/jobs", json={"args": "boom"}).json()["id"]
    body = http.get(f"/jobs/{job_id}/result", params={"wait": 5}).json()
    assert body["status"] == "FAILURE" and body["error"]["code"] == 500
    assert "secret detail" not in str(body) and "result" not in body


def test_batch_ids_are_callers_unique_and_checked(http: httpx.Client) -> None:
    batch = http.post(
        "/jobs/batch",
        json={
            "command": "add",
            "requests": [
                {"args": {"a": 1}, "request_id": "b-1"},
                {"args": {"a": 2}, "request_id": "b-2"},
                {"args": {"a": 3}},
            ],
        },
    )
    assert batch.status_code == 202
    ids = [job["id"] for job in batch.json()["jobs"]]
    assert ids[:2] == ["b-1", "b-2"] and len(ids[2]) == 32
    assert [http.get(f"/jobs/{i}/result", params={"wait": 5}).json()["result"]["sum"] for i in ids] == [1, 2, 3]
    repeated = http.post(
        "/jobs/batch", json={"requests": [{"args": {"x": 1}, "request_id": "d"}, {"args": {"x": 1}, "request_id": "d"}]}
    )
    assert repeated.status_code == 400 and "request_id d repeated" in repeated.json()["details"]
    taken = http.post("/jobs/batch", json={"requests": [{"args": {"x": 1}, "request_id": "b-1"}]})
    assert taken.status_code == 409
    bad_id = http.post("/jobs", json={"args": {}, "request_id": "../etc"})
    assert bad_id.status_code == 400 and "request_id" in bad_id.json()["details"]
    assert http.get("/jobs/d").status_code == 404  # nothing of the refused batch was queued


def test_cancel_a_running_job(http: httpx.Client) -> None:
    http.post("/rearm")
    job_id = http.post("/jobs", json={"command": "hold", "request_id": "held"}).json()["id"]
    assert http.get(f"/jobs/{job_id}").json()["status"] in ("PENDING", "RUNNING")
    pending = http.get(f"/jobs/{job_id}/result", params={"wait": 0.05})
    assert pending.status_code == 202 and "result" not in pending.json()
    cancelled = http.delete(f"/jobs/{job_id}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
    assert http.get(f"/jobs/{job_id}", params={"wait": 5}).json()["status"] == "CANCELLED"
    again = http.delete(f"/jobs/{job_id}")
    assert again.status_code == 409 and "already finished" in again.json()["details"]
    assert http.delete("/jobs/never").status_code == 404


def test_a_large_result_goes_to_the_artifact_store_and_the_job_carries_a_presigned_url(
    server: Server, bucket: str
) -> None:
    home = server.project.backend.settings.home
    project = dh.get_or_create_project("serving-s3", home=home, artifact_store=f"s3://{bucket}/artifacts")
    function = project.new_function("served", code_src=str(APP), handler="predict")
    run = function.run("serve", envs={"DIGITALHUB_SERVE_JOB_RESULT_LIMIT": "1000"})  # S3 settings: the environment
    try:
        assert run.status.state == "RUNNING", run.status.message
        with httpx.Client(base_url=run.endpoint, timeout=30) as http:
            big = http.post("/jobs", json={"command": "big", "args": {"size": 5000}}).json()["id"]
            done = http.get(f"/jobs/{big}/result", params={"wait": 20}).json()
            assert done["status"] == "SUCCESS" and "result" not in done
            assert done["result_url"].startswith("http://127.0.0.1") and "Signature=" in done["result_url"]
            assert httpx.get(done["result_url"]).json() == {"text": "x" * 5000}  # no credentials needed
            small = http.post("/jobs", json={"command": "big", "args": {"size": 10}}).json()["id"]
            assert http.get(f"/jobs/{small}/result", params={"wait": 20}).json()["result"] == {"text": "x" * 10}
    finally:
        run.stop()
