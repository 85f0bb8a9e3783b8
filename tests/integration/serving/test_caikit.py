"""Caikit parity: models deployed into a running server and undeployed (behind the admin token), training
commands as jobs that log a Model (cancelled midway: nothing logged), and the runtime's version info."""

from __future__ import annotations

import pickle
import platform
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest

from digitalhub_runtime_python.models.keys import parse_key
from digitalhub_runtime_python.serving import AsyncEndpoint, EndpointError, EndpointRequest, SyncEndpoint
from tests.waiting import wait_for

from .conftest import ADMIN, Parity


def log_linear(parity: Parity, tmp_path: Path, weight: object, name: str = "linear") -> str:
    """A Model entity whose file is a pickled ``weight`` (a dict {"w": ...} loads; anything else is broken)."""
    path = tmp_path / f"{name}.pkl"
    path.write_bytes(pickle.dumps(weight))
    return parity.project.log_model(name, source_path=path, framework="pickle").key


def test_info_version_names_the_runtime_python_and_function(parity: Parity) -> None:
    with SyncEndpoint(parity.run.endpoint) as endpoint:
        info = endpoint.info()
    assert info["runtime_version"] == version("digitalhub-runtime-python")
    assert info["python_version"] == platform.python_version()
    assert info["function"] == {"key": parity.run.spec.function, "id": parse_key(parity.run.spec.function).id}
    assert info["run"]["key"] == parity.run.key


def test_model_management_needs_the_admin_token(parity: Parity, served) -> None:
    url = f"{parity.run.endpoint}/models"
    assert httpx.post(url, json={"key": "x"}).status_code == 401
    wrong = httpx.delete(f"{url}/linear", headers={"authorization": "Bearer wrong"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    assert httpx.post(url, json={"not": "even valid"}).status_code == 401  # checked before the body
    disabled = httpx.post(f"{served.endpoint}/models", json={"key": "x"}, headers=ADMIN)  # no token configured
    assert disabled.status_code == 403 and "DIGITALHUB_SERVE_ADMIN_TOKEN" in disabled.json()["details"]
    assert httpx.get(url).status_code == 200  # listing is open


def test_deploy_use_and_undeploy_models(parity: Parity, tmp_path: Path) -> None:
    first = log_linear(parity, tmp_path, {"w": 3.0})
    with (
        SyncEndpoint(parity.run.endpoint, headers=ADMIN) as admin,
        SyncEndpoint(parity.run.endpoint, command="score") as score,
    ):
        deployed = admin.deploy_model(first)
        assert deployed["name"] == "linear" and deployed["key"] == first
        assert deployed["size"] > 0 and deployed["load_seconds"] >= 0
        assert [m["key"] for m in admin.models()] == [first]
        assert score.predict({"x": 2}).value == {"y": 6.0, "key": first, "names": ["linear"]}

        missing = first.replace("/linear:", "/absent:")
        with pytest.raises(EndpointError) as not_found:
            admin.deploy_model(missing)
        assert not_found.value.error["code"] == 404 and missing in not_found.value.error["details"]
        broken = log_linear(parity, tmp_path, "not a model")
        with pytest.raises(EndpointError) as unloadable:
            admin.deploy_model(broken)
        assert unloadable.value.error["code"] == 422 and broken in unloadable.value.error["details"]
        assert score.predict({"x": 1}).value["key"] == first  # what was deployed keeps serving

        second = log_linear(parity, tmp_path, {"w": 10.0})
        admin.deploy_model(second)  # same name: replaces the first once loaded
        admin.deploy_model(first, name="old")
        assert score.predict({"x": 1}).value == {"y": 10.0, "key": second, "names": ["linear", "old"]}
        assert score.predict({"x": 1, "model": "old"}).value["y"] == 3.0

        assert admin.undeploy_model("old")["key"] == first
        assert [m["name"] for m in admin.models()] == ["linear"]
        with pytest.raises(EndpointError, match="no model 'old' is deployed"):
            admin.undeploy_model("old")
        admin.undeploy_model("linear")
        assert admin.models() == []


def test_a_training_job_logs_a_model_that_can_be_deployed(parity: Parity) -> None:
    url = parity.run.endpoint
    assert httpx.post(f"{url}/fit", json={"w": "not a number"}).status_code == 401  # token first, then the body
    started = httpx.post(f"{url}/fit", json={"w": 4.0, "epochs": 1}, headers=ADMIN)
    assert started.status_code == 202 and started.json()["status_url"] == f"/jobs/{started.json()['id']}"
    done = httpx.get(f"{url}/jobs/{started.json()['id']}/result", params={"wait": 30}).json()
    assert done["status"] == "SUCCESS", done
    key = done["result"]["model"]["key"]
    model = parity.project.get_entity(key)
    assert model.name == "linear" and model.spec.parameters == {"w": 4.0, "gate": "", "epochs": 1}
    assert [(r.type, r.dest) for r in model.metadata.relationships] == [("produced_by", parity.run.key)]
    with SyncEndpoint(url, headers=ADMIN) as admin, SyncEndpoint(url, command="score") as score:
        admin.deploy_model(key, name="trained")
        assert score.predict({"x": 2, "model": "trained"}).value["y"] == 8.0
        admin.undeploy_model("trained")


def test_a_training_job_cancelled_midway_stops_and_logs_nothing(parity: Parity, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    before = len(parity.project.list_models(all_versions=True))
    with AsyncEndpoint(parity.run.endpoint, command="fit", headers=ADMIN) as trainer:
        batch = trainer.predict(EndpointRequest(args={"w": 1.0, "gate": str(gate)}, request_id="fit-cancelled"))
        wait_for(
            lambda: httpx.get(f"{parity.run.endpoint}/jobs/fit-cancelled").json()["status"] == "RUNNING",
            what="the training job to run",
        )
        stranger = httpx.delete(f"{parity.run.endpoint}/jobs/fit-cancelled")
        assert stranger.status_code == 401  # cancelling a training needs the token too
        batch.cancel()
        assert batch.get_responses()["fit-cancelled"].error["details"] == "the job was cancelled"
    assert wait_for(lambda: Path(f"{gate}.stopped").exists(), what="the training loop to see the cancellation")
    assert Path(f"{gate}.stopped").read_text() == "0"  # stopped in its first epoch
    assert len(parity.project.list_models(all_versions=True)) == before
    with AsyncEndpoint(parity.run.endpoint, command="fit") as anonymous, pytest.raises(ValueError, match="401"):
        anonymous.predict({"w": 1.0})  # through /jobs: the same rule
