"""Optional parts of the install (pip extras): check that one is there, or say in one line how to add it."""

from __future__ import annotations

import importlib.util

DISTRIBUTION = "digitalhub-runtime-python"


def installed_version() -> str | None:
    """This runtime's installed version; None when it is imported from a source tree that was never installed."""
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None


# extra -> (what needs it, the modules it provides that the runtime imports)
EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "data": ("DataFrames (log_dataitem(df=...), as_df(), returned DataFrames)", ("pandas", "pyarrow", "duckdb")),
    "s3": ("S3 (s3:// code and artifact stores)", ("boto3",)),
    "kubernetes": ("the Kubernetes backend", ("kubernetes",)),
    "serve": (
        "serving (action serve, invoke, endpoint clients)",
        (
            "fastapi",
            "uvicorn",
            "httpx",
            "httpx_sse",
            "sse_starlette",
            "pydantic_settings",
            "redis",
            "PIL",
            "prometheus_client",
        ),
    ),
    "session": (
        "interactive sessions (new_session, dhrun exec)",
        ("jupyter_client", "ipykernel", "fastapi", "uvicorn", "httpx"),
    ),
    "ui": (
        "the web console (dhrun ui)",
        ("fastapi", "uvicorn", "httpx", "sse_starlette", "jinja2", "python_multipart"),
    ),
    "build": ("image builds on this machine (action build, through a Docker engine)", ("docker",)),
}


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message names the pip command that adds it."""


def install_command(extra: str) -> str:
    return f"pip install '{DISTRIBUTION}[{extra}]'"


def missing_modules(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported here."""
    return [module for module in EXTRAS[extra][1] if importlib.util.find_spec(module) is None]


def require(extra: str) -> None:
    """Raise MissingExtra, in one line with the pip command to run, unless every module of ``extra`` is installed."""
    absent = missing_modules(extra)
    if absent:
        feature = EXTRAS[extra][0]
        raise MissingExtra(
            f"{feature} needs the {extra!r} extra (not installed: {', '.join(absent)}): run {install_command(extra)}"
        )
