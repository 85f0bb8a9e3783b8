"""The admin token that routes changing what a server serves require (deploying models, starting training).

Disabled unless ``DIGITALHUB_SERVE_ADMIN_TOKEN`` is set: such a route then answers 403 saying how to enable it.
With a token, a request must carry ``Authorization: Bearer <token>`` (compared in constant time) or gets 401.
"""

from __future__ import annotations

import hmac

from pydantic import SecretStr

from digitalhub_runtime_python.contract import ENV_SERVE_PREFIX
from digitalhub_runtime_python.serving.errors import RequestError

ENV_ADMIN_TOKEN = ENV_SERVE_PREFIX + "ADMIN_TOKEN"


def require_admin(token: SecretStr | None, authorization: str | None, action: str) -> None:
    """Let ``action`` (e.g. ``"POST /models"``) through only with the configured token."""
    if token is None:
        raise RequestError(
            403,
            f"{action} is disabled: set {ENV_ADMIN_TOKEN} on the server (on Kubernetes, from a Secret) and send it "
            "as 'Authorization: Bearer <token>'",
        )
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.get_secret_value().encode()):
        raise RequestError(
            401, f"{action} needs 'Authorization: Bearer <admin token>'", headers={"WWW-Authenticate": "Bearer"}
        )
