"""A session run -> a Secret with its token, a one-replica Deployment running the session entrypoint, a Service.

The token is made here, once: the Secret's name is deterministic, so a second launch finds it and keeps it. The pod
reads it from the Secret (an env var from a secretKeyRef), the SDK through the API; it is never in the run.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from digitalhub_operator.manifests.common import Workload
from digitalhub_operator.manifests.serve import server_deployment
from digitalhub_runtime_python.contract import (
    ENV_SESSION_PORT,
    ENV_SESSION_TOKEN,
    SERVE_PORT,
    SESSION_TOKEN_KEY,
    session_secret_name,
)
from digitalhub_runtime_python.models.task import Action


def secret_manifest(workload: Workload) -> dict[str, Any]:
    """The Secret holding a fresh token for the session's API, owned by the run."""
    token = secrets.token_urlsafe(32)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": workload.metadata(session_secret_name(workload.run.id)),
        "type": "Opaque",
        "data": {SESSION_TOKEN_KEY: base64.b64encode(token.encode()).decode()},
    }


def deployment_manifest(workload: Workload) -> dict[str, Any]:
    """One replica (its kernel's state lives in it), replaced rather than rolled: never two kernels at once."""
    token = {"secretKeyRef": {"name": session_secret_name(workload.run.id), "key": SESSION_TOKEN_KEY}}
    return server_deployment(
        workload,
        Action.SESSION,
        {ENV_SESSION_PORT: str(SERVE_PORT), ENV_SESSION_TOKEN: token},
        replicas=1,
        strategy={"type": "Recreate"},
        revision_history=1,
    )
