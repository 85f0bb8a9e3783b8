"""Sample entities of every type, with optional and free-form parts filled, for CRD and store tests."""

from __future__ import annotations

from digitalhub_runtime_python.models.base import Entity
from digitalhub_runtime_python.models.data import Artifact, Dataitem, Model
from digitalhub_runtime_python.models.function import Function
from digitalhub_runtime_python.models.project import Project
from digitalhub_runtime_python.models.run import ErrorInfo, KubernetesInfo, Run, RunSpec, RunStatus, ServiceInfo
from digitalhub_runtime_python.models.states import State, Transition
from digitalhub_runtime_python.models.task import Task, TaskSpec

FN_KEY = "store://demo/function/python/train:abc"


def sample_entities() -> list[Entity]:
    """One entity of every type, with the optional and free-form parts filled."""
    task_spec = TaskSpec(
        function=FN_KEY,
        action="job",
        resources={"cpu": "500m", "mem": {"requests": "1Gi", "limits": "2Gi"}},
        envs={"MODE": "fast"},
        secrets=["creds"],
        node_selector={"disk": "ssd"},
        volumes=[{"name": "data", "volume_type": "persistent_volume_claim", "mount_path": "/data", "source": "pvc"}],
        affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}},
        tolerations=[{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}],
        backoff_limit=2,
        active_deadline_seconds=600,
    )
    run_status = RunStatus(
        state=State.ERROR,
        message="ValueError: bad",
        results={"score": 0.9, "nested": {"a": [1, None, "x"]}},
        outputs={"model": "store://demo/artifact/artifact/model:def"},
        transitions=[Transition(state=State.CREATED)],
        error=ErrorInfo(type="ValueError", message="bad", traceback="Traceback ..."),
        service=ServiceInfo(url="http://svc:8080", replicas=1),
        kubernetes=KubernetesInfo(job="run-abc", pods=["p"]),
    )
    return [
        Project(name="demo", spec={"description": "d", "artifact_store": "s3://bucket/demo"}),
        Function(
            project="demo",
            name="train_model",
            spec={"code": "def f():\n    return 1\n", "handler": "f", "requirements": ["pandas>=2"]},
            metadata={"description": "trains", "labels": ["ml"]},
        ),
        Task(project="demo", name="train-job", kind="python+job", spec=task_spec),
        Task(
            project="demo",
            name="train-serve",
            kind="python+serve",
            spec=TaskSpec(function=FN_KEY, action="serve", replicas=2, service_type="NodePort"),
        ),
        Run(
            project="demo",
            name="r1",
            id="r1",
            spec=RunSpec(
                task="store://demo/task/python+job/train-job:t1",
                function=FN_KEY,
                action="job",
                parameters={"n": 3, "xs": [1, 2]},
                inputs={"data": "store://demo/dataitem/table/d:1"},
            ),
            status=run_status,
        ),
        Dataitem(
            project="demo",
            name="table",
            spec={"path": "s3://b/t.parquet", "columns": {"a": "int64"}, "rows": 3},
            status={"state": "READY", "files": [{"path": "t.parquet", "size": 10, "sha256": "00"}]},
        ),
        Artifact(project="demo", name="blob", spec={"path": "s3://b/blob"}),
        Model(
            project="demo",
            name="clf",
            kind="sklearn",
            spec={"path": "s3://b/m.pkl", "parameters": {"c": 1.0}, "metrics": {"acc": 0.9}},
        ),
    ]
