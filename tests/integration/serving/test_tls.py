"""HTTPS from certificate files, and mutual TLS that refuses clients without a certificate."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from digitalhub_runtime_python.serving import SyncEndpoint
from digitalhub_runtime_python.serving.clients import tls_context

from .certs import Certs, make_certs

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


def test_https_with_certificate_files(server, certs: Certs) -> None:
    run = server.start(envs={"DIGITALHUB_SERVE_TLS_CERT": str(certs.server_cert), "DIGITALHUB_SERVE_TLS_KEY": str(certs.server_key)})
    assert run.endpoint.startswith("https://127.0.0.1:")
    assert run.invoke(json={"x": 1}, verify=tls_context(certs.ca)).json()["y"] == 1.0
    with pytest.raises(httpx.ConnectError):  # a client that does not trust the CA
        httpx.get(f"{run.endpoint}/healthz")
    plain = run.endpoint.replace("https://", "http://")
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{plain}/healthz")
    run.stop()


def test_mutual_tls_rejects_a_client_without_certificate(server, certs: Certs) -> None:
    run = server.start(envs={"DIGITALHUB_SERVE_TLS_CERT": str(certs.server_cert), "DIGITALHUB_SERVE_TLS_KEY": str(certs.server_key),
                             "DIGITALHUB_SERVE_TLS_CLIENT_CA": str(certs.ca)})
    assert run.status.state == "RUNNING", run.status.message
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{run.endpoint}/healthz", verify=tls_context(certs.ca))
    with pytest.raises(httpx.TransportError):  # a certificate not meant for clients (server auth only)
        httpx.get(f"{run.endpoint}/healthz", verify=tls_context(certs.ca, certs.server_cert, certs.server_key))
    with SyncEndpoint(run.endpoint, command="add", verify=tls_context(certs.ca, certs.client_cert, certs.client_key)) as endpoint:
        assert endpoint.predict({"a": 2, "b": 3}).result == {"sum": 5}
    run.stop()


def test_incomplete_tls_settings_fail_the_run_with_the_variable_named(server, certs: Certs) -> None:
    run = server.start(envs={"DIGITALHUB_SERVE_TLS_CERT": str(certs.server_cert)})
    assert run.status.state == "ERROR"
    assert "DIGITALHUB_SERVE_TLS_KEY" in run.status.message
