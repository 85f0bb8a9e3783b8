"""Server settings from DIGITALHUB_SERVE_* and PORT."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from digitalhub_runtime_python.models.errors import SpecError
from digitalhub_runtime_python.serving.config import ServeConfig


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in [n for n in os.environ if n.startswith("DIGITALHUB_SERVE_") or n == "PORT"]:
        monkeypatch.delenv(name)


def test_defaults_suit_a_pod() -> None:
    config = ServeConfig.load()
    assert (config.host, config.port, config.max_concurrency, config.scheme) == ("0.0.0.0", 8080, 100, "http")
    assert config.uvicorn_options()["timeout_graceful_shutdown"] == 30.0


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("DIGITALHUB_SERVE_OPTIONS", '{"scale": 2}')
    monkeypatch.setenv("DIGITALHUB_SERVE_DEBUG", "true")
    config = ServeConfig.load()
    assert config.port == 9000 and config.options == {"scale": 2} and config.debug
    monkeypatch.setenv("DIGITALHUB_SERVE_PORT", "9001")  # the specific name wins over PORT
    assert ServeConfig.load().port == 9001
    assert ServeConfig.load(port=7000, host="127.0.0.1").port == 7000  # command-line flags win over both


def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGITALHUB_SERVE_MAX_CONCURRENCY", "lots")
    monkeypatch.setenv("DIGITALHUB_SERVE_PORT", "70000")
    with pytest.raises(SpecError) as error:
        ServeConfig.load()
    assert "DIGITALHUB_SERVE_MAX_CONCURRENCY" in str(error.value) and "DIGITALHUB_SERVE_PORT" in str(error.value)


def test_tls_settings_must_be_complete(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cert, key, ca = (tmp_path / name for name in ("cert.pem", "key.pem", "ca.pem"))
    for path in (cert, key, ca):
        path.write_text("pem")
    monkeypatch.setenv("DIGITALHUB_SERVE_TLS_CERT", str(cert))
    with pytest.raises(SpecError, match="set both DIGITALHUB_SERVE_TLS_CERT and DIGITALHUB_SERVE_TLS_KEY"):
        ServeConfig.load()
    monkeypatch.setenv("DIGITALHUB_SERVE_TLS_KEY", str(tmp_path / "missing.pem"))
    with pytest.raises(SpecError, match="missing.pem: no such file"):
        ServeConfig.load()
    monkeypatch.setenv("DIGITALHUB_SERVE_TLS_KEY", str(key))
    monkeypatch.setenv("DIGITALHUB_SERVE_TLS_CLIENT_CA", str(ca))
    options = ServeConfig.load().uvicorn_options()
    assert options["ssl_certfile"] == str(cert) and options["ssl_ca_certs"] == str(ca)
    assert options["ssl_cert_reqs"] == ssl.CERT_REQUIRED
    monkeypatch.delenv("DIGITALHUB_SERVE_TLS_CERT")
    monkeypatch.delenv("DIGITALHUB_SERVE_TLS_KEY")
    with pytest.raises(SpecError, match="TLS_CLIENT_CA"):
        ServeConfig.load()


def test_the_job_store_is_memory_or_redis_without_a_password_in_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ServeConfig.load().job_store == "memory"
    monkeypatch.setenv("DIGITALHUB_SERVE_JOB_STORE", "redis://redis.infra:6379/0")
    monkeypatch.setenv("DIGITALHUB_SERVE_JOB_STORE_PASSWORD", "s3cret-pw")
    config = ServeConfig.load()
    assert config.job_store == "redis://redis.infra:6379/0" and "s3cret-pw" not in repr(config)
    assert config.job_store_password is not None and config.job_store_password.get_secret_value() == "s3cret-pw"
    monkeypatch.setenv("DIGITALHUB_SERVE_JOB_STORE", "redis://:s3cret-pw@redis.infra:6379/0")
    with pytest.raises(SpecError) as error:
        ServeConfig.load()
    assert "DIGITALHUB_SERVE_JOB_STORE_PASSWORD" in str(error.value) and "s3cret-pw" not in str(error.value)
    monkeypatch.setenv("DIGITALHUB_SERVE_JOB_STORE", "redis://redis.infra:6379/0?password=s3cret-pw")
    with pytest.raises(SpecError) as error:
        ServeConfig.load()
    assert "password" in str(error.value) and "s3cret-pw" not in str(error.value)
    monkeypatch.setenv("DIGITALHUB_SERVE_JOB_STORE", "postgres://db")
    with pytest.raises(SpecError, match="DIGITALHUB_SERVE_JOB_STORE: not a Redis URL"):
        ServeConfig.load()


def test_input_url_prefixes_and_the_admin_token(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ServeConfig.load().input_urls == ["https://", "http://", "s3://"] and ServeConfig.load().admin_token is None
    monkeypatch.setenv("DIGITALHUB_SERVE_INPUT_URLS", '["s3://inputs/"]')
    monkeypatch.setenv("DIGITALHUB_SERVE_ADMIN_TOKEN", "s3cret")
    config = ServeConfig.load()
    assert config.input_urls == ["s3://inputs/"] and "s3cret" not in repr(config)
    monkeypatch.setenv("DIGITALHUB_SERVE_INPUT_URLS", '["file:///"]')
    with pytest.raises(SpecError, match="DIGITALHUB_SERVE_INPUT_URLS: .*every prefix starts with one of"):
        ServeConfig.load()
