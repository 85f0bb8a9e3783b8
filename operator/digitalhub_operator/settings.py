"""Operator configuration, read from ``DIGITALHUB_OPERATOR_*`` environment variables."""

from __future__ import annotations

import base64
import json
import os
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kubernetes.utils import parse_quantity

from digitalhub_operator.build_settings import BuildSettings, BuildSettingsError
from digitalhub_runtime_python.contract import RUNTIME_IMAGE
from digitalhub_runtime_python.models.function import PythonVersion
from digitalhub_runtime_python.models.task import JobStoreSpec, check_job_store_url, check_quantity

PREFIX = "DIGITALHUB_OPERATOR_"
DEFAULT_IMAGE = RUNTIME_IMAGE
SERVICE_ACCOUNT_TOKEN = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")
DEFAULT_REQUESTS = "cpu=100m,memory=128Mi"


class SettingsError(ValueError):
    """An environment variable with a value the operator cannot use."""


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(PREFIX + name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{PREFIX}{name}={raw!r} is not a boolean: use true or false")


def _number(env: Mapping[str, str], name: str, default: float, minimum: float = 0) -> float:
    raw = env.get(PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{PREFIX}{name}={raw!r} is not a number: give seconds, e.g. {default:g}") from None
    if value < minimum:
        raise SettingsError(f"{PREFIX}{name}={raw!r} must be at least {minimum:g}")
    return value


def _service_accounts(env: Mapping[str, str], default: str) -> tuple[str, str | None]:
    """The run pods' default ServiceAccount and the operator's own, which must differ."""
    run_account = env.get(PREFIX + "RUN_SERVICE_ACCOUNT") or default
    own_account = env.get(PREFIX + "SERVICE_ACCOUNT") or _token_service_account()
    if own_account is not None and run_account == own_account:
        raise SettingsError(
            f"{PREFIX}RUN_SERVICE_ACCOUNT={run_account!r} is the operator's own ServiceAccount: run pods must never "
            "get it; give them an account of their own (the chart creates digitalhub-runner)"
        )
    return run_account, own_account


def _token_service_account(token: Path = SERVICE_ACCOUNT_TOKEN) -> str | None:
    """In a pod, the name of its ServiceAccount, from the subject of its token (``system:serviceaccount:NS:NAME``)."""
    try:
        payload = token.read_text().split(".")[1]
        subject = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).get("sub", "")
    except (OSError, IndexError, ValueError):
        return None
    prefix, _, name = str(subject).rpartition(":")
    return name if prefix.startswith("system:serviceaccount:") and name else None


def _quantities(env: Mapping[str, str], name: str, default: str) -> dict[str, str]:
    """``cpu=100m,memory=128Mi`` -> ``{"cpu": "100m", "memory": "128Mi"}``; an empty value means none."""
    raw = env.get(PREFIX + name)
    text = default if raw is None else raw
    amounts = {}
    for part in _split(text):
        resource, _, amount = part.partition("=")
        try:
            amounts[resource.strip()] = check_quantity(amount.strip(), resource.strip())
        except ValueError as exc:
            raise SettingsError(f"{PREFIX}{name}={text!r}: {exc}; write e.g. {DEFAULT_REQUESTS}") from None
    return amounts


def _random_priority() -> int:
    return random.randint(1, 2**31 - 1)


@dataclass(frozen=True)
class OperatorSettings:
    """Everything the operator can be told; every field has a production default."""

    namespaces: tuple[str, ...] = ()
    """Namespaces to watch; empty means the whole cluster."""
    scanning: bool = True
    """Follow namespaces and CRDs as they come and go (needs cluster-wide list/watch on both); off serves exactly
    ``namespaces`` with no cluster-wide rights."""
    image_template: str = DEFAULT_IMAGE
    """Runtime image for functions without their own image; ``{python}`` becomes e.g. ``3.11``."""
    images: Mapping[str, str] = field(default_factory=dict)
    """Per python_version overrides, e.g. ``{"PYTHON3_11": "registry/runtime:3.11"}``."""
    image_pull_policy: str = "IfNotPresent"
    run_service_account: str = "digitalhub-runner"
    """ServiceAccount of run pods whose task names none; it needs access to the digitalhub resources."""
    allowed_service_accounts: tuple[str, ...] = ()
    """ServiceAccounts a task may name besides ``run_service_account``; any other is refused (run pods may create
    runs, so a task naming a more privileged account would hand its rights to whoever can create a run)."""
    own_service_account: str | None = None
    """The operator's own ServiceAccount: run pods never get it, whatever the allow-list says."""
    pod_secrets: tuple[str, ...] = ()
    """Secrets every run pod gets as environment variables (e.g. shared artifact-store credentials)."""
    pending_deadline: float = 600.0
    """Seconds a run may wait for its pods to be scheduled and started before it ends in ERROR."""
    check_interval: float = 10.0
    """Seconds between scans for runs stuck past the pending deadline."""
    termination_grace_period: int = 30
    """Seconds a serve pod gets to drain after SIGTERM."""
    service_port: int = 80
    cluster_domain: str = "cluster.local"
    peering: str | None = None
    """kopf peering name for running several replicas (HA); None runs standalone."""
    peering_lifetime: int = 60
    """Seconds a silent peer counts as alive: a standby replica takes over that long after the active one died."""
    priority: int = field(default_factory=_random_priority)
    """kopf peering priority; replicas need distinct ones, so the default is random."""
    health_host: str = "0.0.0.0"
    health_port: int = 8080
    """Port of ``/healthz``, ``/readyz`` and ``/metrics`` (Prometheus)."""
    job_ttl: int = 86400
    """Seconds Kubernetes keeps a finished Job and its pods (``ttlSecondsAfterFinished``); the run keeps its record
    and the tail of its log."""
    default_requests: Mapping[str, str] = field(default_factory=lambda: {"cpu": "100m", "memory": "128Mi"})
    """Requests of run containers for resources their task sets nothing for (no BestEffort pods by default)."""
    default_limits: Mapping[str, str] = field(default_factory=dict)
    """Limits of run containers for resources their task sets nothing for."""
    log_tail_lines: int = 200
    """Lines of a finished pod's log kept on its run (0: none)."""
    serve_job_store: JobStoreSpec | None = None
    """Redis for the async jobs of serve tasks that name none (e.g. the chart's own); None keeps them in memory."""
    build: BuildSettings = field(default_factory=BuildSettings)
    """Image builds: registry, builder, credentials (``DIGITALHUB_OPERATOR_BUILD_*``, see build_settings.py)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OperatorSettings:
        """Settings from the environment; a bad value raises SettingsError naming the variable."""
        env = os.environ if env is None else env
        images = {}
        for version in PythonVersion:
            override = env.get(f"{PREFIX}IMAGE_{version.value}")
            if override:
                images[version.value] = override
        template = env.get(PREFIX + "IMAGE_TEMPLATE") or DEFAULT_IMAGE
        if "{python}" not in template:
            raise SettingsError(
                f"{PREFIX}IMAGE_TEMPLATE={template!r} needs a '{{python}}' placeholder, e.g. {DEFAULT_IMAGE}"
            )
        policy = env.get(PREFIX + "IMAGE_PULL_POLICY") or "IfNotPresent"
        if policy not in ("Always", "IfNotPresent", "Never"):
            raise SettingsError(f"{PREFIX}IMAGE_PULL_POLICY={policy!r}: use Always, IfNotPresent or Never")
        priority = int(_number(env, "PRIORITY", 0)) if env.get(PREFIX + "PRIORITY") else _random_priority()
        run_account, own_account = _service_accounts(env, cls.run_service_account)
        requests = _quantities(env, "DEFAULT_REQUESTS", DEFAULT_REQUESTS)
        limits = _quantities(env, "DEFAULT_LIMITS", "")
        for resource in requests.keys() & limits.keys():
            if parse_quantity(requests[resource]) > parse_quantity(limits[resource]):
                raise SettingsError(
                    f"{PREFIX}DEFAULT_REQUESTS {resource}={requests[resource]} exceeds "
                    f"{PREFIX}DEFAULT_LIMITS {resource}={limits[resource]}: lower the request or raise the limit"
                )
        job_store = None
        if env.get(PREFIX + "SERVE_JOB_STORE"):
            try:
                url = check_job_store_url(env[PREFIX + "SERVE_JOB_STORE"], f"set {PREFIX}SERVE_JOB_STORE_SECRET")
            except ValueError as exc:
                raise SettingsError(f"{PREFIX}SERVE_JOB_STORE: {exc}") from None
            job_store = JobStoreSpec(
                url=url,
                password_secret=env.get(PREFIX + "SERVE_JOB_STORE_SECRET") or None,
                password_key=env.get(PREFIX + "SERVE_JOB_STORE_SECRET_KEY") or "password",
            )
        try:
            build = BuildSettings.from_env(env)
        except BuildSettingsError as exc:
            raise SettingsError(str(exc)) from None
        return cls(
            namespaces=_split(env.get(PREFIX + "NAMESPACES", "")),
            scanning=_flag(env, "SCANNING", True),
            image_template=template,
            images=images,
            image_pull_policy=policy,
            run_service_account=run_account,
            allowed_service_accounts=_split(env.get(PREFIX + "ALLOWED_SERVICE_ACCOUNTS", "")),
            own_service_account=own_account,
            pod_secrets=_split(env.get(PREFIX + "POD_SECRETS", "")),
            pending_deadline=_number(env, "PENDING_DEADLINE", cls.pending_deadline, 1),
            check_interval=_number(env, "CHECK_INTERVAL", cls.check_interval, 0.05),
            termination_grace_period=int(_number(env, "TERMINATION_GRACE_PERIOD", cls.termination_grace_period)),
            service_port=int(_number(env, "SERVICE_PORT", cls.service_port, 1)),
            cluster_domain=env.get(PREFIX + "CLUSTER_DOMAIN") or cls.cluster_domain,
            peering=env.get(PREFIX + "PEERING") or None,
            peering_lifetime=int(_number(env, "PEERING_LIFETIME", cls.peering_lifetime, 1)),
            health_host=env.get(PREFIX + "HEALTH_HOST") or cls.health_host,
            health_port=int(_number(env, "HEALTH_PORT", cls.health_port)),
            priority=priority,
            job_ttl=int(_number(env, "JOB_TTL", cls.job_ttl)),
            default_requests=requests,
            default_limits=limits,
            log_tail_lines=int(_number(env, "LOG_TAIL_LINES", cls.log_tail_lines)),
            serve_job_store=job_store,
            build=build,
        )

    def image_for(self, python_version: str) -> str:
        """The runtime image for a python_version such as ``PYTHON3_11``."""
        if python_version in self.images:
            return self.images[python_version]
        return self.image_template.format(python=PythonVersion(python_version).dotted)
