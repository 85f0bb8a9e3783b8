"""The Kubernetes backend owns where a run's logs live: pod logs for remote runs, a local log store for local ones."""

from __future__ import annotations

import pytest

from digitalhub_runtime_python import State, get_or_create_project
from digitalhub_runtime_python.backends.kubernetes import KubernetesBackend

pytestmark = pytest.mark.integration

CODE = "import sys\n\ndef main(x):\n    print('out', x)\n    print('err', x, file=sys.stderr)\n    return x\n"


@pytest.mark.parametrize("isolation", ["inprocess", "subprocess"])
def test_a_local_run_on_the_kubernetes_backend_keeps_its_logs(kube, tmp_path, monkeypatch, isolation):
    monkeypatch.setenv("DIGITALHUB_HOME", str(tmp_path / "home"))
    project = get_or_create_project("demo", backend="kubernetes")
    assert isinstance(project.backend, KubernetesBackend)
    function = project.new_function("talker", code=CODE, handler="main")
    run = function.run("job", local_execution=True, isolation=isolation, parameters={"x": 7}).wait(60)
    assert run.status.state == State.COMPLETED, run.status.message
    assert run.results() == {"output_0": 7}
    logs = run.logs()
    assert "out 7" in logs and "err 7" in logs
    assert project.backend.store.read_logs(run.key) == []  # no pod ran it: the Kubernetes store has nothing
