"""Credentials in URLs: found before anything is stored (to refuse them), masked wherever text is shown.

A URL carries credentials in its user part (``https://user:token@host``, ``https://token@host``) or in query
parameters that hold secrets (``?access_token=``, a presigned URL's ``X-Amz-Signature``, ...).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

MASK = "***"
SECRET_PARAMETERS = frozenset(
    {
        "access_token",
        "api_key",
        "apikey",
        "auth",
        "authorization",
        "awsaccesskeyid",
        "client_secret",
        "id_token",
        "key",
        "passwd",
        "password",
        "refresh_token",
        "secret",
        "sig",
        "signature",
        "token",
        "x-amz-credential",
        "x-amz-security-token",
        "x-amz-signature",
        "x-goog-credential",
        "x-goog-signature",
    }
)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>`]*[^\s'\"<>`.,:;!?)\]}]")  # no trailing punctuation
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@]*@")
_PARAMETER = re.compile(r"([?&;])([^=&;#]+)=([^&;#]*)")


def credentials_in(url: str) -> list[str]:
    """What in ``url`` is a credential: ``user part``, ``query parameter NAME``; empty when there is none."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = ["user part"] if "@" in parts.netloc else []
    found += [
        f"query parameter {name}"
        for name, _ in parse_qsl(parts.query, keep_blank_values=True)
        if name.lower() in SECRET_PARAMETERS
    ]
    return found


def mask_url(url: str) -> str:
    """``url`` with its user part and secret query values replaced by ``***``."""
    masked = _USERINFO.sub(rf"\1{MASK}@", url)
    return _PARAMETER.sub(
        lambda m: f"{m[1]}{m[2]}={MASK}" if m[2].lower() in SECRET_PARAMETERS else m[0],
        masked,
    )


def mask(text: str) -> str:
    """``text`` with the credentials of every URL in it masked."""
    if "://" not in text:
        return text
    return _URL.sub(lambda m: mask_url(m[0]), text)


def urls_in(text: str) -> list[str]:
    """The URLs written in ``text``."""
    return _URL.findall(text) if "://" in text else []
