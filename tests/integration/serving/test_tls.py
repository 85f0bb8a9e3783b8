"""HTTPS from certificate files, and mutual TLS that refuses clients without a certificate."""

from __future__ import annotations

import httpx
import pytest

from digitalhub_runtime_python.serving import SyncEndpoint
from digitalhub_runtime_python.serving.clients import tls_context
from tests.servers.tls import Cert, make_cert

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client_cert(tmp_path_factory: pytest.TempPathFactory) -> Cert:
    """A second self-signed certificate: the client's, and the only CA the mTLS server trusts."""
    return make_cert(tmp_path_factory.mktemp("client-cert"))


def _tls_envs(cert: Cert) -> dict[str, str]:
    return {"DIGITALHUB_SERVE_TLS_CERT": str(cert.cert), "DIGITALHUB_SERVE_TLS_KEY": str(cert.key)}


def test_https_with_certificate_files(server, cert: Cert) -> None:
    run = server.start(envs=_tls_envs(cert))
    assert run.endpoint.startswith("https://127.0.0.1:")
    assert run.invoke(json={"x": 1}, verify=tls_context(str(cert.cert))).json()["y"] == 1.0
    with pytest.raises(httpx.ConnectError):  # a client that does not trust the CA
        httpx.get(f"{run.endpoint}/healthz")
    plain = run.endpoint.replace("https://", "http://")
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{plain}/healthz")
    run.stop()


def test_mutual_tls_rejects_a_client_without_certificate(server, cert: Cert, client_cert: Cert) -> None:
    run = server.start(envs={**_tls_envs(cert), "DIGITALHUB_SERVE_TLS_CLIENT_CA": str(client_cert.cert)})
    assert run.status.state == "RUNNING", run.status.message
    server_ca = str(cert.cert)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{run.endpoint}/healthz", verify=tls_context(server_ca))
    with pytest.raises(httpx.TransportError):  # a certificate the client CA did not sign
        httpx.get(f"{run.endpoint}/healthz", verify=tls_context(server_ca, str(cert.cert), str(cert.key)))
    with SyncEndpoint(
        run.endpoint, command="add", verify=tls_context(server_ca, str(client_cert.cert), str(client_cert.key))
    ) as endpoint:
        assert endpoint.predict({"a": 2, "b": 3}).value == {"sum": 5}
    run.stop()


def test_incomplete_tls_settings_fail_the_run_with_the_variable_named(server, cert: Cert) -> None:
    run = server.start(envs={"DIGITALHUB_SERVE_TLS_CERT": str(cert.cert)})
    assert run.status.state == "ERROR"
    assert "DIGITALHUB_SERVE_TLS_KEY" in run.status.message
