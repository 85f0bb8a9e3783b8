"""Operator settings from the environment: defaults, overrides and errors naming the variable."""

from __future__ import annotations

import base64
import json

import pytest

from digitalhub_operator.settings import OperatorSettings, SettingsError, _token_service_account


def test_defaults_need_no_environment():
    settings = OperatorSettings.from_env({})
    assert settings.namespaces == () and settings.peering is None and settings.pending_deadline == 600
    assert settings.image_for("PYTHON3_12") == "ghcr.io/scc-digitalhub/digitalhub-runtime-python:py3.12"
    assert settings.priority > 0


def test_overrides():
    settings = OperatorSettings.from_env(
        {
            "DIGITALHUB_OPERATOR_NAMESPACES": "team-a, team-b",
            "DIGITALHUB_OPERATOR_PENDING_DEADLINE": "30",
            "DIGITALHUB_OPERATOR_IMAGE_TEMPLATE": "mirror/runtime:{python}",
            "DIGITALHUB_OPERATOR_PEERING": "digitalhub",
            "DIGITALHUB_OPERATOR_PRIORITY": "7",
            "DIGITALHUB_OPERATOR_IMAGE_PYTHON3_14": "new/py314",
        }
    )
    assert settings.namespaces == ("team-a", "team-b") and settings.pending_deadline == 30
    assert settings.image_for("PYTHON3_13") == "mirror/runtime:3.13" and settings.image_for("PYTHON3_14") == "new/py314"
    assert settings.peering == "digitalhub" and settings.priority == 7


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"DIGITALHUB_OPERATOR_PENDING_DEADLINE": "soon"}, ["DIGITALHUB_OPERATOR_PENDING_DEADLINE", "not a number"]),
        ({"DIGITALHUB_OPERATOR_PENDING_DEADLINE": "0"}, ["at least"]),
        ({"DIGITALHUB_OPERATOR_IMAGE_TEMPLATE": "runtime:latest"}, ["{python}"]),
        ({"DIGITALHUB_OPERATOR_IMAGE_PULL_POLICY": "Sometimes"}, ["IfNotPresent"]),
        ({"DIGITALHUB_OPERATOR_SERVE_JOB_STORE": "http://redis"}, ["DIGITALHUB_OPERATOR_SERVE_JOB_STORE", "redis://"]),
        (
            {"DIGITALHUB_OPERATOR_SERVE_JOB_STORE": "redis://:hunter2@redis/0"},
            ["DIGITALHUB_OPERATOR_SERVE_JOB_STORE_SECRET", "password"],
        ),
    ],
)
def test_bad_values_name_the_variable(env, words):
    with pytest.raises(SettingsError) as error:
        OperatorSettings.from_env(env)
    for word in words:
        assert word in str(error.value)
    assert "hunter2" not in str(error.value)


def test_service_accounts():
    settings = OperatorSettings.from_env(
        {
            "DIGITALHUB_OPERATOR_ALLOWED_SERVICE_ACCOUNTS": "trainer, reader",
            "DIGITALHUB_OPERATOR_SERVICE_ACCOUNT": "digitalhub-operator",
        }
    )
    assert settings.allowed_service_accounts == ("trainer", "reader")
    assert settings.own_service_account == "digitalhub-operator"
    with pytest.raises(SettingsError, match="RUN_SERVICE_ACCOUNT='ops' is the operator's own ServiceAccount"):
        OperatorSettings.from_env(
            {"DIGITALHUB_OPERATOR_SERVICE_ACCOUNT": "ops", "DIGITALHUB_OPERATOR_RUN_SERVICE_ACCOUNT": "ops"}
        )


def test_in_a_pod_the_own_account_comes_from_the_token(tmp_path):
    claims = base64.urlsafe_b64encode(json.dumps({"sub": "system:serviceaccount:hub:digitalhub-op"}).encode())
    token = tmp_path / "token"
    token.write_text(f"header.{claims.decode().rstrip('=')}.signature")
    assert _token_service_account(token) == "digitalhub-op"
    assert _token_service_account(tmp_path / "absent") is None
