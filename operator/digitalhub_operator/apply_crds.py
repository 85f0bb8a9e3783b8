"""Server-side apply of CustomResourceDefinition files: the chart's pre-upgrade hook (Helm never upgrades ``crds/``).

``python -m digitalhub_operator.apply_crds FOLDER_OR_FILE...`` applies every CRD document of the ``*.yaml`` files
given (the hook mounts the chart's ``crds/`` as a ConfigMap), as field manager ``digitalhub-chart``, taking over
fields another manager set (``force``): the chart is the owner of its CRDs. It is the same as
``kubectl apply --server-side --force-conflicts --field-manager=digitalhub-chart -f crds/``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from digitalhub_operator.cluster import api_message
from digitalhub_runtime_python.stores.kubernetes import StoreError, load_api_client

FIELD_MANAGER = "digitalhub-chart"
APPLY_PATCH = "application/apply-patch+yaml"


def crd_documents(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    """The CustomResourceDefinition documents of the YAML files in ``paths`` (folders: their ``*.yaml``, sorted)."""
    for path in paths:
        files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
        for file in files:
            for doc in yaml.safe_load_all(file.read_text()):
                if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                    yield doc


def apply_crds(api: client.ApiextensionsV1Api, crds: Iterable[dict[str, Any]]) -> list[str]:
    """Server-side apply each CRD (created when missing); the names applied."""
    applied = []
    for crd in crds:
        name = crd["metadata"]["name"]
        api.patch_custom_resource_definition(
            name, crd, field_manager=FIELD_MANAGER, force=True, _content_type=APPLY_PATCH
        )
        applied.append(name)
    return applied


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m digitalhub_operator.apply_crds FOLDER_OR_FILE...", file=sys.stderr)
        return 2
    paths = [Path(arg) for arg in args]
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        print(f"apply_crds: {', '.join(missing)} does not exist: give the folder of CRD files", file=sys.stderr)
        return 2
    crds = list(crd_documents(paths))
    if not crds:
        print(f"apply_crds: no CustomResourceDefinition in {', '.join(args)}", file=sys.stderr)
        return 2
    try:
        with load_api_client() as api_client:
            names = apply_crds(client.ApiextensionsV1Api(api_client), crds)
    except StoreError as exc:
        print(f"apply_crds: {exc}", file=sys.stderr)
        return 1
    except ApiException as exc:
        print(f"apply_crds: the API server refused a CRD: {api_message(exc)}", file=sys.stderr)
        return 1
    for name in names:
        print(f"customresourcedefinition.apiextensions.k8s.io/{name} serverside-applied")
    return 0


if __name__ == "__main__":
    sys.exit(main())
