"""What importing a part loads: light faces, and an operator that needs only models, the contract and its store."""

from __future__ import annotations

import json
import subprocess
import sys

PACKAGE = "digitalhub_runtime_python"


def loaded_after(statement: str) -> set[str]:
    """The modules of the package (and a few third-party ones) loaded by ``statement`` in a fresh interpreter."""
    code = f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    return set(json.loads(done.stdout))


def test_importing_the_sdk_loads_no_part_of_it_yet():
    modules = loaded_after(f"import {PACKAGE}")
    assert {m for m in modules if m.startswith(PACKAGE + ".")} == set()
    assert "kubernetes" not in modules and "pydantic" not in modules


def test_importing_the_models_loads_models_and_pydantic_only():
    modules = loaded_after(f"import {PACKAGE}.models")
    ours = {m for m in modules if m.startswith(PACKAGE + ".")}
    assert ours and all(m.startswith(f"{PACKAGE}.models") for m in ours), ours
    assert not {"kubernetes", "boto3", "fastapi", "httpx", "sqlite3", "click", "rich"} & modules


def test_the_operator_loads_no_sqlite_store_code_fetchers_or_local_launchers():
    modules = loaded_after("import digitalhub_operator.handlers")
    forbidden = [
        f"{PACKAGE}.stores.local",
        f"{PACKAGE}.sources",
        f"{PACKAGE}.launchers",
        f"{PACKAGE}.execution",
        f"{PACKAGE}.entities",
        f"{PACKAGE}.backends",
        f"{PACKAGE}.api",
        f"{PACKAGE}.console",
    ]
    loaded = sorted(m for m in modules if m.startswith(tuple(forbidden)))
    assert loaded == [], loaded
    assert {f"{PACKAGE}.contract", f"{PACKAGE}.stores.kubernetes"} <= modules


def test_a_local_run_of_local_code_loads_no_remote_fetcher_or_kubernetes():
    statement = (
        "import tempfile, os; os.environ['DIGITALHUB_HOME'] = tempfile.mkdtemp(); "
        f"import {PACKAGE} as dh; "
        "p = dh.get_or_create_project('imports'); "
        "f = p.new_function('f', code='def main():\\n    return 1\\n', handler='main'); "
        "assert f.run('job').status.state == 'COMPLETED'"
    )
    modules = loaded_after(statement)
    assert not {
        m
        for m in modules
        if m.startswith((f"{PACKAGE}.sources.git", f"{PACKAGE}.sources.s3", f"{PACKAGE}.sources.http"))
    }
    assert "kubernetes" not in modules and "boto3" not in modules and "fastapi" not in modules


def test_every_public_name_loads_from_its_module():
    statement = (
        f"import {PACKAGE} as dh; "
        "missing = [n for n in dh.__all__ if getattr(dh, n, None) is None]; "
        "assert not missing, missing; "
        "assert {'new_function', 'get_run', 'log_table', 'import_project', 'Task'} <= set(dh.__all__)"
    )
    assert f"{PACKAGE}.sdk" in loaded_after(statement)


def test_the_kubernetes_store_leaves_the_core_api_until_it_reads_pods():
    """A pod's runner opens the store on every start: the core API (pods, logs) costs about a second to import."""
    statement = (
        "from digitalhub_runtime_python.stores.kubernetes import KubernetesStore; "
        "from kubernetes import client; "
        "store = KubernetesStore(api_client=client.ApiClient(), namespace='ns')"
    )
    assert "kubernetes.client.api.core_v1_api" not in loaded_after(statement)
    after_use = loaded_after(statement + "; store.core")
    assert "kubernetes.client.api.core_v1_api" in after_use
