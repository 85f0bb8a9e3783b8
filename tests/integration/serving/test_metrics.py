"""``GET /metrics`` of a served function: requests by route and status (refusals included), latency, requests in
flight and unfinished async jobs, read the way Prometheus reads them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.waiting import wait_for

pytestmark = pytest.mark.integration


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(f"{url}/metrics", timeout=5)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def requests(samples: dict, route: str, method: str, status: int) -> float:
    labels = (("method", method), ("route", route), ("status", str(status)))
    return samples.get(("digitalhub_serve_requests_total", labels), 0.0)


def test_metrics_count_requests_by_route_and_status_and_show_the_load(server, tmp_path: Path) -> None:
    release = tmp_path / "release"
    run = server.start(envs={"DIGITALHUB_SERVE_MAX_CONCURRENCY": "1", "SERVED_RELEASE_FILE": str(release)})
    url = run.endpoint
    for _ in range(2):
        assert httpx.post(f"{url}/", json={"x": 1}, timeout=5).status_code == 200
    assert httpx.post(f"{url}/add", json={"a": 1}, timeout=5).status_code == 200
    assert httpx.get(f"{url}/no-such-route", timeout=5).status_code == 404
    job = httpx.post(f"{url}/jobs", json={"command": "hold"}, timeout=5)
    assert job.status_code == 202
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(httpx.post, f"{url}/hold", timeout=20)
        wait_for(lambda: httpx.get(f"{url}/healthz", timeout=5).json()["in_flight"] == 1, what="a request in flight")
        assert httpx.post(f"{url}/add", json={"a": 1}, timeout=5).status_code == 429
        busy = scrape(url)
        release.touch()
        assert held.result().status_code == 200

    assert busy[("digitalhub_serve_requests_in_flight", ())] == 1
    assert busy[("digitalhub_serve_async_jobs", (("status", "RUNNING"),))] == 1
    assert requests(busy, "/", "POST", 200) == 2 and requests(busy, "/add", "POST", 200) == 1
    assert requests(busy, "other", "GET", 404) == 1 and requests(busy, "other", "POST", 429) == 1
    assert requests(busy, "/jobs", "POST", 202) == 1
    count = busy[
        ("digitalhub_serve_request_duration_seconds_count", (("method", "POST"), ("route", "/"), ("status", "200")))
    ]
    assert count == 2

    job_id = job.json()["id"]
    httpx.get(f"{url}/jobs/{job_id}", params={"wait": 10}, timeout=15)
    done = scrape(url)
    assert requests(done, "/jobs/{job_id}", "GET", 200) == 1  # routes by template: one series for every job
    assert done[("digitalhub_serve_async_jobs", (("status", "RUNNING"),))] == 0
    assert not any(labels and dict(labels).get("route") == "/metrics" for _, labels in done)
    run.stop()
