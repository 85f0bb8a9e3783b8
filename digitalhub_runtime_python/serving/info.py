"""``GET /info/version``: what runs here (runtime and Python versions, the function and run served)."""

from __future__ import annotations

import platform
from typing import Any

from fastapi import FastAPI

from digitalhub_runtime_python.extras import installed_version
from digitalhub_runtime_python.models.keys import parse_key
from digitalhub_runtime_python.serving.service import Service


def runtime_version() -> str:
    return installed_version() or "unknown"


def install_info(app: FastAPI, service: Service) -> None:
    """Add ``GET /info/version``."""
    function_key = service.run.spec.function
    body = {
        "runtime_version": runtime_version(),
        "python_version": platform.python_version(),
        "function": {"key": function_key, "id": parse_key(function_key).id},
        "run": {"key": service.run.key, "id": service.run.id},
    }

    @app.get("/info/version", tags=["service"], summary="Runtime and Python versions, the function and run served")
    async def info_version() -> dict[str, Any]:
        return body
