"""The admin token: disabled without one (403 saying how to enable it), 401 without the right bearer token."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from digitalhub_runtime_python.serving.auth import require_admin
from digitalhub_runtime_python.serving.errors import RequestError


def refusal(token: str | None, authorization: str | None) -> RequestError:
    with pytest.raises(RequestError) as caught:
        require_admin(SecretStr(token) if token is not None else None, authorization, "POST /models")
    return caught.value


def test_without_a_configured_token_the_route_is_disabled() -> None:
    refused = refusal(None, "Bearer anything")
    assert refused.code == 403 and "set DIGITALHUB_SERVE_ADMIN_TOKEN" in str(refused)


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer wrong", "Basic s3cret", "s3cret"])
def test_a_missing_or_wrong_token_is_401(authorization: str | None) -> None:
    refused = refusal("s3cret", authorization)
    assert refused.code == 401 and refused.headers == {"WWW-Authenticate": "Bearer"}
    assert "s3cret" not in str(refused)


def test_the_right_token_passes() -> None:
    require_admin(SecretStr("s3cret"), "bearer s3cret", "POST /models")
