"""429 over the concurrency limit, and a graceful drain on SIGTERM."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.waiting import wait_for

pytestmark = pytest.mark.integration


def _in_flight(url: str, count: int) -> bool:
    return httpx.get(f"{url}/healthz", timeout=5).json()["in_flight"] == count


def test_requests_over_the_limit_get_429(server, tmp_path: Path) -> None:
    release = tmp_path / "release"
    run = server.start(envs={"DIGITALHUB_SERVE_MAX_CONCURRENCY": "2", "SERVED_RELEASE_FILE": str(release)})
    url = run.endpoint
    with ThreadPoolExecutor(2) as pool:
        held = [pool.submit(httpx.post, f"{url}/hold", timeout=20) for _ in range(2)]
        wait_for(lambda: _in_flight(url, 2), what="two requests in flight")
        refused = httpx.post(f"{url}/add", json={"a": 1}, timeout=5)
        assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
        assert set(refused.json()) == {"id", "code", "details"} and "limit 2" in refused.json()["details"]
        assert httpx.get(f"{url}/readyz", timeout=5).status_code == 200  # probes are never limited
        release.touch()
        assert [future.result().json() for future in held] == [{"held": True}] * 2
    assert httpx.post(f"{url}/add", json={"a": 1}, timeout=5).json() == {"sum": 1}
    run.stop()


def test_failing_requests_under_the_limit_release_their_slot(server) -> None:
    run = server.start(envs={"DIGITALHUB_SERVE_MAX_CONCURRENCY": "1"})
    url = run.endpoint
    for _ in range(3):  # each would leak the one slot if a failure skipped the release
        failed = httpx.post(url, json="boom", timeout=5)
        assert failed.status_code == 500 and "ValueError" in failed.text and "secret detail" not in failed.text
        broken = httpx.post(f"{url}/count", json={"n": 3, "fail_at": 1}, timeout=5)
        assert broken.status_code == 200 and "event: error" in broken.text
        with pytest.raises(httpx.RemoteProtocolError):  # the server gives up on a response it cannot finish
            httpx.post(url, json="broken-stream", timeout=5)
    assert _in_flight(url, 0)
    assert httpx.post(f"{url}/add", json={"a": 1}, timeout=5).json() == {"sum": 1}
    run.stop()


def test_sigterm_drains_in_flight_requests_and_refuses_new_ones(server, tmp_path: Path) -> None:
    release = tmp_path / "release"
    run = server.start(envs={"DIGITALHUB_SERVE_DRAIN_DELAY": "1", "SERVED_RELEASE_FILE": str(release)})
    url, pid = run.endpoint, run.status.process.pid
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(httpx.post, f"{url}/hold", timeout=20)
        wait_for(lambda: _in_flight(url, 1), what="a request in flight")
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: httpx.get(f"{url}/readyz", timeout=5).status_code == 503, what="readiness to fail")
        assert "draining" in httpx.get(f"{url}/readyz", timeout=5).json()["details"]
        refused = httpx.post(f"{url}/add", json={"a": 1}, timeout=5)
        assert refused.status_code == 503 and "shutting down" in refused.json()["details"]
        release.touch()
        assert held.result().json() == {"held": True}
    # after the drain delay the listener closes and the process exits cleanly: the run is STOPPED
    stopped = run.backend.store.wait(run.key, lambda entity: entity.status.state != "RUNNING", timeout=20)
    assert stopped.status.state == "STOPPED" and stopped.status.process is None
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/healthz", timeout=5)


def _stream(url: str) -> Iterator[str]:
    with httpx.stream("POST", url, timeout=20) as response:
        yield from (line for line in response.iter_lines() if line.startswith("data:"))


def test_sigterm_without_delay_closes_the_listener_at_once(server, tmp_path: Path) -> None:
    release = tmp_path / "release"
    run = server.start(envs={"SERVED_RELEASE_FILE": str(release)})
    url = run.endpoint
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(httpx.post, f"{url}/hold", timeout=20)
        stream = _stream(f"{url}/hold-stream")
        assert next(stream) == 'data: {"i":0}'  # a stream in flight too
        wait_for(lambda: _in_flight(url, 2), what="two requests in flight")
        os.kill(run.status.process.pid, signal.SIGTERM)

        def refused() -> bool:
            try:
                httpx.get(f"{url}/healthz", timeout=5)
            except httpx.TransportError:  # refused, or accepted and closed while shutting down
                return True
            return False

        wait_for(refused, what="new connections to be refused")
        assert not held.done()
        release.touch()
        assert held.result().status_code == 200
        assert list(stream) == ['data: {"i":1}']  # the stream finished too
    assert (
        run.backend.store.wait(run.key, lambda entity: entity.status.state != "RUNNING", timeout=20).status.state
        == "STOPPED"
    )


def test_bodies_over_the_size_limit_get_413(server) -> None:
    run = server.start(envs={"DIGITALHUB_SERVE_MAX_BODY_SIZE": "100"})
    url = run.endpoint
    big = b'{"x": 1, "pad": "' + b"p" * 200 + b'"}'

    def chunked():  # no Content-Length: the limit applies while the body is read
        yield big[:50]
        yield big[50:]

    for path in ("/", "/add"):
        declared = httpx.post(f"{url}{path}", content=big, headers={"content-type": "application/json"}, timeout=5)
        assert declared.status_code == 413 and "DIGITALHUB_SERVE_MAX_BODY_SIZE" in declared.json()["details"]
        streamed = httpx.post(
            f"{url}{path}", content=chunked(), headers={"content-type": "application/json"}, timeout=5
        )
        assert streamed.status_code == 413 and set(streamed.json()) == {"id", "code", "details"}
    assert httpx.post(url, json={"x": 1}, timeout=5).json()["y"] == 1.0
    run.stop()
