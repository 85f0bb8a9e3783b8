"""What identifies an environment: a digest of its Python, normalized requirements, index settings and base.

Index settings come from uv's own environment variables (set in a shell, or from a Secret in a pod), never from
the function spec; credentials in them are left out of keys, records and messages.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping

from digitalhub_runtime_python.models.redaction import mask

INDEX_VARIABLES = (
    "UV_INDEX",
    "UV_DEFAULT_INDEX",
    "UV_INDEX_URL",
    "UV_EXTRA_INDEX_URL",
    "UV_FIND_LINKS",
    "UV_NO_INDEX",
    "UV_INDEX_STRATEGY",
    "UV_PRERELEASE",
    "UV_EXCLUDE_NEWER",
)
"""uv's variables that change which packages an install picks: part of the environment's key."""

_SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET|CREDENTIAL|(^|_)KEY$", re.IGNORECASE)
KEY_LENGTH = 20


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    """``text`` without URL credentials (``mask``: ``https://user:token@host`` -> ``https://***@host``) or the
    values of ``environ``'s secret-looking variables (``*_PASSWORD``, ``*_TOKEN``, ...)."""
    text = mask(text)
    for name, value in (environ or {}).items():
        if len(value) >= 4 and _SECRET_NAME.search(name):
            text = text.replace(value, "***")
    return text


def index_settings(environ: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The index settings in ``environ``, credentials removed: what an install's choice of packages depends on."""
    return tuple((name, redact(environ[name])) for name in INDEX_VARIABLES if environ.get(name))


def environment_key(
    python_version: str, requirements: Iterable[str], index: Iterable[tuple[str, str]], base: str
) -> str:
    """The content key of an environment.

    ``requirements`` normalized (``requirements.normalize_requirements``), ``index`` from ``index_settings``, and
    ``base`` what the environment is installed on top of (the runtime's interpreter and packages, or an image).
    """
    content = {"python": python_version, "requirements": list(requirements), "index": list(index), "base": base}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:KEY_LENGTH]
