"""Jobs on the embedded store, end to end through the SDK: arguments, outputs, lineage, errors, logs."""

from __future__ import annotations

import base64
from pathlib import Path

import pandas as pd
import pytest

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.models.states import State


def test_quickstart(project: dh.Project, write) -> None:
    write("src/add.py", "def add(a, b):\n    print('adding', a, b)\n    return a + b\n")
    fn = project.new_function(
        name="add", kind="python", code_src="src/add.py", handler="add", python_version="PYTHON3_11"
    )
    run = fn.run(action="job", local_execution=True, parameters={"a": 40, "b": 2})
    run.wait()
    assert run.status.state == State.COMPLETED
    assert run.results() == {"output_0": 42}
    assert run.logs() == "adding 40 2\n"
    assert [t.state for t in run.status.transitions] == ["CREATED", "READY", "RUNNING", "COMPLETED"]
    assert run.spec.local_execution is True
    assert run.status.error is None


def test_inline_code_and_base64(project: dh.Project) -> None:
    source = "def hello(name='world'):\n    return f'hello {name}'\n"
    inline = project.new_function(name="inline", code=source, handler="hello")
    assert inline.run(parameters={"name": "dh"}).results() == {"output_0": "hello dh"}
    encoded = project.new_function(name="b64", base64=base64.b64encode(source.encode()).decode(), handler="hello")
    assert encoded.run().results() == {"output_0": "hello world"}


def test_package_handler_from_folder_with_own_imports(project: dh.Project, write) -> None:
    write("app/pkg/__init__.py", "")
    write("app/pkg/helpers.py", "def double(x):\n    return 2 * x\n")
    write("app/pkg/main.py", "from pkg.helpers import double\n\ndef run(x):\n    return double(x)\n")
    fn = project.new_function(name="pkg", code_src="app", handler="pkg.main:run")
    assert fn.run(parameters={"x": 21}).results() == {"output_0": 42}


def test_handler_decorator_and_outputs_mapping(project: dh.Project) -> None:
    code = (
        "from digitalhub_runtime_python import handler\n"
        "@handler(outputs=['total', 'label'])\n"
        "def f(a):\n    return a + 1, 'ok'\n"
    )
    fn = project.new_function(name="deco", code=code, handler="f")
    run = fn.run(parameters={"a": 1}, outputs={"total": "sum"})
    assert run.results() == {"sum": 2, "label": "ok"}


def test_tuple_becomes_numbered_results(project: dh.Project) -> None:
    fn = project.new_function(name="pair", code="def f():\n    return 1, [2, 3], {'k': None}\n", handler="f")
    assert fn.run().results() == {"output_0": 1, "output_1": [2, 3], "output_2": {"k": None}}


def test_dataframe_and_object_outputs_with_lineage(project: dh.Project) -> None:
    code = "import pandas as pd\ndef f():\n    return pd.DataFrame({'x': [1, 2, 3]}), {1, 2}\n"
    fn = project.new_function(name="out", code=code, handler="f")
    run = fn.run(outputs={"output_0": "table", "output_1": "bag"})
    assert run.status.state == State.COMPLETED, run.status.message
    assert run.results() == {}
    outputs = run.outputs()
    table, bag = outputs["table"], outputs["bag"]
    assert isinstance(table, dh.Dataitem) and table.kind == "table"
    assert table.as_df()["x"].tolist() == [1, 2, 3]
    assert table.spec.rows == 3 and table.spec.columns == {"x": "int64"}
    assert isinstance(bag, dh.Artifact) and bag.as_object() == {1, 2}
    for entity in (table, bag):
        assert [(r.type, r.dest) for r in entity.metadata.relationships] == [("produced_by", run.key)]


def test_inputs_arrive_as_entities_and_project_is_reserved(project: dh.Project) -> None:
    source = project.log_dataitem("numbers", df=pd.DataFrame({"n": [1, 2, 3]}))
    code = (
        "def f(project, context, events, di, factor=1):\n"
        "    context.logger.info('summing %s', di.name)\n"
        "    assert events is None\n"
        "    total = int(di.as_df()['n'].sum()) * factor\n"
        "    project.log_model('m', source=__file__, framework='none', metrics={'total': total})\n"
        "    return total\n"
    )
    fn = project.new_function(name="consume", code=code, handler="f")
    run = fn.run(inputs={"di": source.key}, parameters={"factor": 10})
    assert run.status.state == State.COMPLETED, run.status.message
    assert run.results() == {"output_0": 60}
    assert [(r.type, r.dest) for r in run.metadata.relationships] == [("consumes", source.key)]
    assert "summing numbers" in run.logs()
    assert project.get_model("m").spec.metrics == {"total": 60}


def test_handler_exception_ends_in_error_with_traceback(project: dh.Project) -> None:
    fn = project.new_function(
        name="boom", code="def f():\n    print('before')\n    raise RuntimeError('kaput')\n", handler="f"
    )
    run = fn.run()
    assert run.status.state == State.ERROR
    assert run.status.message == "RuntimeError: kaput"
    assert run.status.error.type == "RuntimeError"
    assert "line 3, in f" in run.status.error.traceback
    assert run.logs().startswith("before\n") and "RuntimeError: kaput" in run.logs()
    assert [t.state for t in run.status.transitions] == ["CREATED", "READY", "RUNNING", "ERROR"]


def test_missing_handler_function(project: dh.Project) -> None:
    run = project.new_function(name="nohandler", code="def g():\n    pass\n", handler="f").run()
    assert run.status.state == State.ERROR
    assert "handler 'f': no 'f' in" in run.status.message
    assert run.status.error.traceback is None


def test_syntax_error_names_file_and_line(project: dh.Project, write) -> None:
    write("bad.py", "def f(:\n    pass\n")
    run = project.new_function(name="syntax", code_src="bad.py", handler="f").run()
    assert run.status.state == State.ERROR
    assert "syntax error in" in run.status.message and "bad.py, line 1" in run.status.message


def test_missing_code_file(project: dh.Project) -> None:
    run = project.new_function(name="nofile", code_src="nowhere/x.py", handler="f").run()
    assert run.status.state == State.ERROR
    assert "code_src 'nowhere/x.py': no such file or folder" in run.status.message


def test_missing_input_key(project: dh.Project) -> None:
    fn = project.new_function(name="needs", code="def f(di):\n    return 1\n", handler="f")
    run = fn.run(inputs={"di": "store://demo/dataitem/table/ghost:latest"})
    assert run.status.state == State.ERROR
    assert "input 'di': no dataitem ghost in project demo" in run.status.message


def test_missing_parameter(project: dh.Project) -> None:
    run = project.new_function(name="add", code="def add(a, b):\n    return a + b\n", handler="add").run(
        parameters={"a": 1}
    )
    assert run.status.state == State.ERROR
    assert run.status.message == "ArgumentError: missing required argument(s) 'b': pass them in parameters or inputs"


def test_unknown_spec_fields_are_refused_up_front(project: dh.Project) -> None:
    with pytest.raises(dh.SpecError) as info:
        project.new_function(name="x", code="def f(): pass", handler="f", handlr="g")
    assert info.value.fields == ["spec.handlr"]
    fn = project.new_function(name="x", code="def f(): pass", handler="f")
    with pytest.raises(dh.SpecError) as info:
        fn.run(action="job", parmeters={"a": 1})
    assert info.value.fields == ["parmeters"]
    assert project.list_runs() == []


def test_bad_python_version_is_refused(project: dh.Project) -> None:
    with pytest.raises(dh.SpecError) as info:
        project.new_function(name="x", code="def f(): pass", handler="f", python_version="3.11")
    assert info.value.fields == ["spec.python_version"]
    assert "use one of PYTHON3_11, PYTHON3_12, PYTHON3_13, PYTHON3_14" in str(info.value)


def test_other_python_version_and_missing_requirement_warn_in_process(project: dh.Project) -> None:
    fn = project.new_function(
        name="warn",
        code="def f(): return 1",
        handler="f",
        python_version="PYTHON3_14",
        requirements=["surely-not-installed-pkg>=1", "pydantic>=2"],
    )
    run = fn.run()
    assert run.status.state == State.COMPLETED
    logs = run.logs()
    assert "function asks for Python 3.14; running on Python 3.11: run it with isolation='subprocess'" in logs
    assert "'surely-not-installed-pkg>=1' is not installed here" in logs
    assert "requirements are only checked in this process: run it with isolation='subprocess'" in logs
    assert "pydantic" not in logs


def test_task_envs_apply_during_the_run_only(project: dh.Project) -> None:
    import os

    fn = project.new_function(name="env", code="import os\ndef f():\n    return os.environ['GREETING']\n", handler="f")
    assert fn.run(envs={"GREETING": "hi"}).results() == {"output_0": "hi"}
    assert "GREETING" not in os.environ


def test_a_local_build_without_an_engine_ends_in_error_saying_where_to_find_one(
    project: dh.Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/absent.sock")
    fn = project.new_function(name="b", code="def f(): pass", handler="f", base_image="python:3.11")
    run = fn.run(action="build")
    assert run.status.state == "ERROR" and "cannot reach a Docker engine at unix://" in run.status.message
    assert "point DOCKER_HOST at one" in run.status.message
    assert "FROM python:3.11" in run.status.build.dockerfile  # rendered before the engine was asked
    with pytest.raises(dh.SpecError, match=r"instructions\[1\] 'a\\nb'"):  # refused before anything is stored
        fn.run(action="build", instructions=["apt-get update", "a\nb"])


def test_a_local_builds_output_reaches_its_log_and_record_with_credentials_masked(
    project: dh.Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from digitalhub_runtime_python.builds.engine import BuildFailed
    from digitalhub_runtime_python.launchers import build as local_build

    leaked = "Looking in indexes: https://builder:s3cr3t-t0ken@pypi.example/simple"

    class FailingEngine:  # the launcher's Builder interface, as an engine whose RUN step fails
        name = "test-engine"

        def build(self, context: object, output) -> None:
            for line in ("STEP 1/2: FROM base\n", "STEP 2/2: RUN uv pip install x\n", leaked + "\n"):
                output(line)
            raise BuildFailed(f"STEP 2/2: RUN uv pip install x failed\n{leaked}", log=f"STEP 2/2\n{leaked}\n")

    monkeypatch.setattr(local_build, "DockerEngineBuilder", lambda network: FailingEngine())
    fn = project.new_function(name="b", code="def f(): pass", handler="f", base_image="python:3.11")
    run = fn.run(action="build")
    assert run.status.state == "ERROR" and "https://***@pypi.example" in run.status.message
    logs = run.logs()
    assert "STEP 2/2: RUN uv pip install x" in logs and "https://***@pypi.example" in logs
    stored = project.backend.store.get_run(run.key)
    assert "https://***@pypi.example" in (stored.status.build.log or "")
    assert "s3cr3t-t0ken" not in logs + stored.model_dump_json()
