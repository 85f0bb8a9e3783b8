"""The chart's pre-upgrade hook, run as its pod would run: it server-side applies the CRDs of crds/ over older ones,
creates new ones, is idempotent, and needs exactly the rights its ClusterRole grants."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from digitalhub_operator.apply_crds import main
from tests.helm_chart import by_kind, hook_objects, render, shipped_crds
from tests.kube import rbac

pytestmark = pytest.mark.integration
HOOK_TOKEN = "crd-upgrade-hook"


@pytest.fixture
def crd_api(kube) -> Iterator[client.ApiextensionsV1Api]:
    """CRD objects on the shared emulator; the test's are deleted afterwards (they are cluster-scoped)."""
    with kube.api_client() as api:
        crds = client.ApiextensionsV1Api(api)
        yield crds
        for crd in shipped_crds():
            try:
                crds.delete_custom_resource_definition(crd["metadata"]["name"])
            except client.ApiException as exc:
                if exc.status != 404:
                    raise


def run_hook(job: dict[str, Any], config_map: dict[str, Any], kubeconfig: Path, folder: Path) -> str:
    """The hook Job's container as a child process: the ConfigMap's files where the pod mounts them."""
    container = job["spec"]["template"]["spec"]["containers"][0]
    (mount,) = container["volumeMounts"]
    folder.mkdir(exist_ok=True)
    for name, text in config_map["data"].items():
        (folder / name).write_text(text)
    command = [
        sys.executable if p == "python" else str(folder) if p == mount["mountPath"] else p for p in container["command"]
    ]
    done = subprocess.run(
        command,
        env={"KUBECONFIG": str(kubeconfig), "PYTHONPATH": os.environ["PYTHONPATH"]},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_upgrade_hook_applies_the_shipped_crds_over_older_ones(kube, crd_api, tmp_path):
    runs = next(crd for crd in shipped_crds() if crd["metadata"]["name"] == "runs.digitalhub.io")
    old = copy.deepcopy(runs)
    old_version = old["spec"]["versions"][0]
    old_version["additionalPrinterColumns"] = [
        c for c in old_version["additionalPrinterColumns"] if c["name"] != "Message"
    ]
    uid = crd_api.create_custom_resource_definition(old).metadata.uid

    hooks = hook_objects(render({}, is_upgrade=True))
    (job,), (config_map,), (role,) = by_kind(hooks, "Job"), by_kind(hooks, "ConfigMap"), by_kind(hooks, "ClusterRole")
    calls = kube.emulator.record_calls(HOOK_TOKEN)
    kubeconfig = kube.server.kubeconfig(tmp_path / "hook-kubeconfig", kube.namespace, token=HOOK_TOKEN)
    output = run_hook(job, config_map, kubeconfig, tmp_path / "crds")

    names = sorted(crd["metadata"]["name"] for crd in shipped_crds())
    assert sorted(line.split("/")[1].split()[0] for line in output.splitlines()) == names
    upgraded = crd_api.read_custom_resource_definition("runs.digitalhub.io")
    assert upgraded.metadata.uid == uid  # patched in place: the Run objects stay
    assert "Message" in [c.name for c in upgraded.spec.versions[0].additional_printer_columns]
    assert crd_api.read_custom_resource_definition("kopfpeerings.kopf.dev").spec.scope == "Namespaced"

    run_hook(job, config_map, kubeconfig, tmp_path / "crds")  # a second upgrade changes nothing and still works
    wanted = [p for p in map(rbac.permission, calls) if p is not None]
    assert {(p.verb, p.resource) for p in wanted} == {("patch", "customresourcedefinitions")}
    assert rbac.refused([rbac.Grant(tuple(role["rules"]))], wanted) == []


def test_apply_crds_explains_bad_arguments(tmp_path, capsys, monkeypatch):
    assert main([]) == 2 and "usage:" in capsys.readouterr().err
    assert main([str(tmp_path / "nowhere")]) == 2 and "does not exist" in capsys.readouterr().err
    (tmp_path / "other.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    assert main([str(tmp_path)]) == 2 and "no CustomResourceDefinition" in capsys.readouterr().err
    (tmp_path / "crd.yaml").write_text(yaml.safe_dump(shipped_crds()[0]))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing-kubeconfig"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    assert main([str(tmp_path)]) == 1 and "cannot reach Kubernetes" in capsys.readouterr().err
