"""Who acts when a visitor stops, resumes or calls a run: the console's own backend, or, with the forwarded
identity, a Kubernetes backend that authenticates as the caller (the bearer token of the request)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import HTTPException, Request

from digitalhub_runtime_python.console.settings import ConsoleSettings
from digitalhub_runtime_python.entities.backend import Backend


def bearer_token(request: Request) -> str:
    """The caller's token from ``Authorization: Bearer ...``; 401 without one."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            401,
            "this console acts with the caller's Kubernetes identity: sign in through the proxy in front of it "
            "(it forwards your token as 'Authorization: Bearer ...')",
        )
    return token.strip()


@contextmanager
def acting_backend(backend: Backend, settings: ConsoleSettings, request: Request) -> Iterator[Backend]:
    """The backend an action goes through; with the forwarded identity, one that holds only the caller's rights."""
    if settings.identity == "server":
        yield backend
        return
    from kubernetes import client

    from digitalhub_runtime_python.backends.kubernetes import KubernetesBackend
    from digitalhub_runtime_python.stores.kubernetes import KubernetesStore

    store = backend.store
    assert isinstance(store, KubernetesStore)  # create_app refuses the forwarded identity on other backends
    configuration = copy.copy(store.api_client.configuration)
    # Only the caller's token: no client certificate, password or token file of the console's own identity.
    configuration.api_key = {"authorization": bearer_token(request)}
    configuration.api_key_prefix = {"authorization": "Bearer"}
    configuration.refresh_api_key_hook = None
    configuration.cert_file = configuration.key_file = None
    configuration.username = configuration.password = None
    api_client = client.ApiClient(configuration)
    caller = KubernetesBackend(backend.settings, store=KubernetesStore(api_client, store.namespace))
    try:
        yield caller
    finally:
        caller.close()
        api_client.close()
