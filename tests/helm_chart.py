"""The project's Helm chart rendered offline with helm-python-sdk, for the tests that read what it installs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import helm_python
import yaml

CHART = Path(__file__).resolve().parents[1] / "charts" / "digitalhub"
RELEASE, RELEASE_NAMESPACE = "dh", "digitalhub"


def render(values: dict[str, Any], **options: Any) -> list[dict[str, Any]]:
    """Every object the templates render for ``values`` (``is_upgrade=True`` includes the upgrade hooks)."""
    with helm_python.Chart.load(CHART) as chart:
        rendered = chart.render(values, name=RELEASE, namespace=RELEASE_NAMESPACE, **options)
    return [doc for path, text in rendered.items() if path.endswith(".yaml") for doc in yaml.safe_load_all(text) if doc]


def notes(values: dict[str, Any]) -> str:
    """The rendered NOTES.txt."""
    with helm_python.Chart.load(CHART) as chart:
        return chart.render(values, name=RELEASE, namespace=RELEASE_NAMESPACE)["digitalhub/templates/NOTES.txt"]


def crd_files() -> dict[str, str]:
    """The files of crds/ by name, as Helm reads them (installed before any template)."""
    with helm_python.Chart.load(CHART) as chart:
        return {Path(crd["name"]).name: crd["data"] for crd in chart.crds}


def shipped_crds() -> list[dict[str, Any]]:
    """The CRDs in crds/."""
    return [doc for text in crd_files().values() for doc in yaml.safe_load_all(text) if doc]


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def hook_objects(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The objects Helm creates as hooks (around an install or upgrade) rather than as part of the release."""
    return [doc for doc in docs if "helm.sh/hook" in (doc["metadata"].get("annotations") or {})]
