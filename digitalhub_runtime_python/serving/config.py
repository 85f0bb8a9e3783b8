"""Server settings from the environment (``DIGITALHUB_SERVE_*``, plus ``PORT``), checked before anything starts."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from digitalhub_runtime_python.models.errors import SpecError
from digitalhub_runtime_python.models.task import check_job_store_url

ENV_PREFIX = "DIGITALHUB_SERVE_"
INPUT_URL_SCHEMES = ("https://", "http://", "s3://")


class ServeConfig(BaseSettings):
    """How the server listens, drains, limits and secures itself. Every field is ``DIGITALHUB_SERVE_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    host: str = Field("0.0.0.0", description="Address to bind")
    port: int = Field(
        8080,
        ge=0,
        le=65535,
        validation_alias=AliasChoices(f"{ENV_PREFIX}PORT", "PORT", "port"),
        description="Port to bind (PORT works too); 0 picks a free one",
    )
    options: dict[str, Any] = Field(default_factory=dict, description="Init options as a JSON object")
    debug: bool = Field(False, description="Put exception messages and tracebacks in error bodies")
    max_concurrency: int = Field(100, ge=0, description="Requests handled at once before answering 429; 0: no limit")
    max_body_size: int = Field(
        16 * 1024 * 1024, ge=0, description="Largest request body in bytes (413 beyond); 0: no limit"
    )
    drain_delay: float = Field(0.0, ge=0, description="Seconds /readyz reports draining before the listener closes")
    drain_timeout: float = Field(30.0, ge=0, description="Seconds in-flight requests get to finish on SIGTERM")
    tls_cert: Path | None = Field(None, description="PEM certificate chain: serve HTTPS")
    tls_key: Path | None = Field(None, description="PEM private key of tls_cert")
    tls_client_ca: Path | None = Field(None, description="PEM CA bundle: require client certificates it signed (mTLS)")
    job_store: str = Field(
        "memory",
        description="Where async jobs live: 'memory' (this process) or a Redis URL redis[s]://host:port/db that the "
        "replicas share; no password in it (job_store_password)",
    )
    job_store_password: SecretStr | None = Field(None, description="Password of the job store's Redis (a Secret)")
    job_workers: int = Field(4, ge=1, description="Async jobs executed at once")
    job_ttl: float = Field(3600.0, gt=0, description="Seconds a finished job's result is kept")
    max_jobs: int = Field(
        10000,
        ge=1,
        description="Jobs kept at once, more answer 429: in memory all of them, in Redis the unfinished ones",
    )
    job_visibility_timeout: float = Field(
        30.0,
        gt=0,
        description="Seconds a running job stays its worker's without a renewal (sent every third of it); a job "
        "whose server died runs again after that long (shared job store)",
    )
    job_max_attempts: int = Field(
        3, ge=1, description="Starts of a job whose server keeps dying before it ends FAILURE (shared job store)"
    )
    job_result_limit: int = Field(
        1024 * 1024,
        ge=0,
        description="Largest result in bytes kept in the job store; larger ones go to the project's artifact store "
        "and the job carries result_url; 0: no limit",
    )
    access_log: bool = Field(True, description="Log one line per request")
    admin_token: SecretStr | None = Field(
        None,
        description="Token that deploying and undeploying models and starting or cancelling training require "
        "('Authorization: Bearer <token>'); without one those routes are disabled",
    )
    input_urls: list[str] = Field(
        default_factory=lambda: list(INPUT_URL_SCHEMES),
        description="URL prefixes a request's 'url' may read its input from, as a JSON list (e.g. "
        '["s3://my-bucket/inputs/"]); [] refuses url inputs',
    )
    notify_fd: int | None = Field(
        None, description="File descriptor to write 'ready' to once serving (set by the local launcher)"
    )

    @field_validator("job_store")
    @classmethod
    def _job_store_url(cls, value: str) -> str:
        if value == "memory":
            return value
        return check_job_store_url(value, f"set {ENV_PREFIX}JOB_STORE_PASSWORD (from a Secret on Kubernetes)")

    @field_validator("input_urls")
    @classmethod
    def _input_url_prefixes(cls, value: list[str]) -> list[str]:
        bad = [prefix for prefix in value if not prefix.startswith(INPUT_URL_SCHEMES)]
        if bad:
            raise ValueError(f"{bad}: every prefix starts with one of {', '.join(INPUT_URL_SCHEMES)}")
        return value

    @model_validator(mode="after")
    def _tls_complete(self) -> ServeConfig:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError(f"set both {ENV_PREFIX}TLS_CERT and {ENV_PREFIX}TLS_KEY, or neither")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise ValueError(f"{ENV_PREFIX}TLS_CLIENT_CA (mTLS) needs {ENV_PREFIX}TLS_CERT and {ENV_PREFIX}TLS_KEY too")
        for name in ("tls_cert", "tls_key", "tls_client_ca"):
            path = getattr(self, name)
            if path is not None and not path.is_file():
                raise ValueError(f"{ENV_PREFIX}{name.upper()}={path}: no such file")
        return self

    @classmethod
    def load(cls, **overrides: Any) -> ServeConfig:
        """Settings from the environment, ``overrides`` winning; a SpecError names each bad variable."""
        try:
            return cls(**{key: value for key, value in overrides.items() if value is not None})
        except ValidationError as exc:
            problems = [
                (
                    f"{ENV_PREFIX}{'.'.join(map(str, e['loc'])).upper()}" if e["loc"] else "",
                    e["msg"].removeprefix("Value error, "),
                )
                for e in exc.errors()
            ]
            raise SpecError("serving settings", problems) from None

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert else "http"

    def uvicorn_options(self) -> dict[str, Any]:
        """Keyword arguments for ``uvicorn.Config``: address, TLS/mTLS, graceful shutdown, access log."""
        options: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "access_log": self.access_log,
            "timeout_graceful_shutdown": self.drain_timeout,
            "lifespan": "on",
        }
        if self.tls_cert:
            options.update(ssl_certfile=str(self.tls_cert), ssl_keyfile=str(self.tls_key))
        if self.tls_client_ca:
            options.update(ssl_ca_certs=str(self.tls_client_ca), ssl_cert_reqs=ssl.CERT_REQUIRED)
        return options
