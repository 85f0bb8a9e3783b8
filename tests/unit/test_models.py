"""Entity models: keys, names, specs that refuse bad input by field name, run state machine."""

from __future__ import annotations

import pytest

from digitalhub_runtime_python import models as m
from digitalhub_runtime_python.models.errors import SpecError, validate
from digitalhub_runtime_python.models.states import IllegalTransition, State


def test_key_round_trip() -> None:
    fn = m.Function(project="demo", name="add", spec={"code": "x", "handler": "add"})
    assert fn.key == f"store://demo/function/python/add:{fn.id}"
    assert m.parse_key(fn.key) == m.ParsedKey("demo", "function", "python", "add", fn.id)
    assert m.parse_key("store://demo/function/python/add:latest").id is None
    assert m.parse_key("store://demo") == m.ParsedKey("demo", "project", "project", "demo", None)


@pytest.mark.parametrize("key", ["demo/function/python/add", "store://demo/function/add", "store://", 42])
def test_malformed_keys_are_refused(key: object) -> None:
    with pytest.raises(m.InvalidKey, match="not an entity key"):
        m.parse_key(key)  # type: ignore[arg-type]


def test_versioned_entities_record_their_version() -> None:
    fn = m.Function(project="demo", name="add", spec={"code": "x", "handler": "add"})
    assert fn.metadata.version == fn.id
    run = m.Run(project="demo", name="r1", id="r1", spec={"task": "t", "function": fn.key, "action": "job"})
    assert run.metadata.version is None
    assert [t.state for t in run.status.transitions] == [State.CREATED]


def test_tampered_key_is_refused() -> None:
    with pytest.raises(ValueError, match="does not match"):
        m.Function(
            project="demo",
            name="add",
            id="1",
            key="store://demo/function/python/other:1",
            spec={"code": "x", "handler": "add"},
        )


@pytest.mark.parametrize("name", ["Add", "-add", "a b", "x" * 64, ""])
def test_bad_names_name_the_rule(name: str) -> None:
    with pytest.raises(SpecError, match="is not a valid name") as info:
        validate(m.Function, {"project": "demo", "name": name, "spec": {"code": "x", "handler": "f"}})
    assert info.value.fields == ["name"]


def test_unknown_function_field_is_named() -> None:
    with pytest.raises(SpecError) as info:
        validate(m.FunctionSpec, {"code": "x", "handler": "f", "handlr": "g"}, "function spec")
    assert info.value.fields == ["handlr"]
    assert "unknown field: remove it or check its spelling" in str(info.value)


def test_bad_python_version_lists_the_allowed_ones() -> None:
    with pytest.raises(SpecError) as info:
        validate(m.FunctionSpec, {"code": "x", "handler": "f", "python_version": "PYTHON2_7"})
    assert info.value.fields == ["python_version"]
    assert "PYTHON3_11, PYTHON3_12, PYTHON3_13, PYTHON3_14" in str(info.value)


@pytest.mark.parametrize(("version", "since"), [("PYTHON3_9", "October 2025"), ("PYTHON3_10", "October 2026")])
def test_end_of_life_python_versions_are_refused_saying_so(version: str, since: str) -> None:
    with pytest.raises(SpecError) as info:
        validate(m.FunctionSpec, {"code": "x", "handler": "f", "python_version": version})
    assert info.value.fields == ["python_version"]
    message = str(info.value)
    assert f"{version} is past end of life (since {since})" in message
    assert "use one of PYTHON3_11, PYTHON3_12, PYTHON3_13, PYTHON3_14" in message


def test_python_version_defaults_to_this_interpreter() -> None:
    spec = m.FunctionSpec(code="x", handler="f")
    assert spec.python_version == m.PythonVersion.current().value


@pytest.mark.parametrize("sources", [{}, {"code": "x", "code_src": "a.py"}, {"code": "x", "base64": "eA=="}])
def test_exactly_one_code_source(sources: dict) -> None:
    with pytest.raises(SpecError, match="exactly one of code_src, code or base64"):
        validate(m.FunctionSpec, {"handler": "f", **sources})


@pytest.mark.parametrize("handler", ["main:add", "pkg.mod:add", "add"])
def test_valid_handlers(handler: str) -> None:
    assert m.FunctionSpec(code="x", handler=handler).handler == handler


@pytest.mark.parametrize("handler", ["main:", "a b", "pkg..mod:f", "1abc"])
def test_invalid_handlers(handler: str) -> None:
    with pytest.raises(SpecError, match="is not valid: use 'function' or 'package.module:function'"):
        validate(m.FunctionSpec, {"code": "x", "handler": handler})


def test_task_resources_shorthand_and_validation() -> None:
    spec = m.TaskSpec(
        function="f", action="job", resources={"cpu": "500m", "mem": {"requests": "1Gi", "limits": "2Gi"}, "gpu": 1}
    )
    assert spec.resources.cpu.requests == "500m"
    assert spec.resources.mem.limits == "2Gi"
    assert spec.resources.gpu.requests == "1"
    with pytest.raises(SpecError) as info:
        validate(m.TaskSpec, {"function": "f", "action": "job", "resources": {"cpu": "lots"}})
    assert info.value.fields == ["resources.cpu.requests"]
    assert "not a Kubernetes quantity" in str(info.value)


def test_task_fields_for_another_action_are_refused() -> None:
    with pytest.raises(SpecError, match="replicas applies to serve tasks only, not job"):
        validate(m.TaskSpec, {"function": "f", "action": "job", "replicas": 2})
    assert m.TaskSpec(function="f", action="serve", replicas=2, service_type="NodePort").replicas == 2


def test_task_envs_and_selector_shorthands() -> None:
    spec = m.TaskSpec(function="f", action="job", envs={"A": 1}, node_selector=[{"key": "zone", "value": "a"}])
    assert spec.envs == [m.EnvVar(name="A", value="1")]
    assert spec.node_selector == {"zone": "a"}


def test_volume_needs_a_source() -> None:
    with pytest.raises(SpecError, match="needs 'source'"):
        validate(m.Volume, {"name": "data", "volume_type": "persistent_volume_claim", "mount_path": "/data"})
    assert m.Volume(name="tmp", volume_type="empty_dir", mount_path="/tmp/x", size_limit="1Gi").size_limit == "1Gi"


def test_unknown_action_is_refused() -> None:
    with pytest.raises(SpecError) as info:
        validate(m.TaskSpec, {"function": "f", "action": "train"})
    assert info.value.fields == ["action"]


def test_run_spec_checks_input_keys_and_output_names() -> None:
    with pytest.raises(SpecError, match="input 'di'"):
        validate(m.RunSpec, {"task": "t", "function": "f", "action": "job", "inputs": {"di": "not-a-key"}})
    with pytest.raises(SpecError, match="name for output 'output_0'"):
        validate(m.RunSpec, {"task": "t", "function": "f", "action": "job", "outputs": {"output_0": "Bad Name"}})


LEGAL = {
    (State.CREATED, State.READY),
    (State.CREATED, State.ERROR),
    (State.CREATED, State.STOPPED),
    (State.READY, State.RUNNING),
    (State.READY, State.ERROR),
    (State.READY, State.STOPPED),
    (State.RUNNING, State.COMPLETED),
    (State.RUNNING, State.ERROR),
    (State.RUNNING, State.STOPPED),
    (State.STOPPED, State.READY),
}


@pytest.mark.parametrize("current", list(State))
@pytest.mark.parametrize("target", list(State))
def test_state_machine(current: State, target: State) -> None:
    if (current, target) in LEGAL:
        assert m.check_transition(current, target) == target
    else:
        with pytest.raises(IllegalTransition, match=f"from {current.value} to {target.value}"):
            m.check_transition(current, target)


def test_final_states() -> None:
    assert {s for s in State if m.is_final(s)} == {State.COMPLETED, State.ERROR, State.STOPPED}


def test_task_envs_refuse_index_credentials_in_clear() -> None:
    with pytest.raises(SpecError) as info:
        validate(
            m.TaskSpec,
            {"function": "f", "action": "job", "envs": {"UV_INDEX_URL": "https://reader:t0ken@mirror/simple"}},
            "task spec",
        )
    assert info.value.fields == ["envs"]
    assert "UV_INDEX_URL has credentials in its URL" in str(info.value) and "t0ken" not in str(info.value)
    assert "put the variable in a Secret and name it in secrets" in str(info.value)
    ok = {"UV_INDEX_URL": "https://mirror/simple", "DATABASE_URL": "postgres://u:p@db/x"}  # not an installer's
    assert len(validate(m.TaskSpec, {"function": "f", "action": "job", "envs": ok}).envs) == 2
