"""The code examples of DigitalHub's python-runtime documentation (the core seed), run on the embedded default.

Each example is kept as the documentation writes it; what differs is said where it is:
- the import line (``digitalhub_core``/``sdk`` are this package);
- file paths (``main.py`` and ``/path/to/file`` are files the test writes);
- ``python_version="PYTHON3_9"`` becomes ``PYTHON3_11`` (the versions this runtime supports);
- ``...`` placeholders are filled in, and ``func5``, whose body is only comments (a SyntaxError as printed), gets
  a ``return``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest

import digitalhub_runtime_python as dh
from digitalhub_runtime_python.models.states import State

HANDLERS = """
from digitalhub_runtime_python import handler, Dataitem  # the import line: Dataitem for the annotations

# 1. Simple function that returns a string

def func1():
   return "hello world"

# 2. Decorated function that returns a string

# If you decorate your function and return something, you need to map the outputs
# in the decorator and in the run's `outputs` parameter
@handler(outputs=["result"])
def func2():
   return "hello world"


# 3. Function with project argument
def func3(project):
   # allowed use of project variable
   project.log_artifact(name="example",
                        kind="artifact",
                         source_path="{source_path}")

   # not allowed use of project variable
   project.some_method_not_from_sdk() # Probably there will be an error


# 4. Function with context and events arguments
def func4(context, events):
   # allowed use of context and events variables in remote execution
   context.logger.info("Some log")

# 5. Function with mixed input arguments
def func5(di: Dataitem, param1: str):
   # di refers to a Dataitem object, so it must be mapped
   # into runs inputs paramaters
   # param1 is a string, it must be mapped into runs input parameters
   return f"{{di.name}} {{param1}}"  # added: a body, so that the module compiles
"""

INPUT_ONLY = """
from digitalhub_runtime_python import Dataitem

# Define your function and declare di argument as Dataitem
def func(di: Dataitem):
   # do something with di
   return di.name  # added: a body, so that the module compiles
"""

INPUT_AND_PARAMETER = """
from digitalhub_runtime_python import Dataitem

# Define your function and declare di argument as Dataitem
def func(di: Dataitem, param1: str):
   # do something with di
   return f"{di.name} {param1}"  # added: a body, so that the module compiles
"""

OUTPUTS = """
from digitalhub_runtime_python import handler, Dataitem

@handler(outputs=["result", "other_result"])
def func(di: Dataitem, param1: str):
   # do something with di
   return "some value", "some other value"
"""

MAIN = """
def function():
    return "from main.py"
"""

RUN_EXAMPLE = """
from digitalhub_runtime_python import handler

@handler(outputs=["dataitem", "label"])
def function(dataitem):
    return dataitem.as_df().head(1), "a label"
"""


@pytest.fixture
def sdk_project(home: Path) -> dh.Project:
    return dh.get_or_create_project("my-project")


@pytest.fixture
def sdk_dataitem(sdk_project: dh.Project, write) -> dh.Dataitem:
    csv = write("data/table.csv", "a,b\n1,x\n2,y\n")
    return dh.new_dataitem(project="my-project", name="di", kind="table", path=str(csv))


def function_of(project: dh.Project, write, source: str, handler: str, module: str) -> dh.Function:
    path = write(f"{module}.py", textwrap.dedent(source))
    return project.new_function(name=module.replace("_", "-"), kind="python", code_src=str(path), handler=handler)


def test_function_definition_examples(sdk_project: dh.Project, write) -> None:
    source_path = write("path/to/file", "an artifact")
    module = write("handlers.py", HANDLERS.format(source_path=source_path))

    def fn(handler: str) -> dh.Function:
        return sdk_project.new_function(name=handler, kind="python", code_src=str(module), handler=handler)

    assert fn("func1").run(action="job").results() == {"output_0": "hello world"}
    assert fn("func2").run(action="job").results() == {"result": "hello world"}

    failed = fn("func3").run(action="job")
    assert failed.status.state == State.ERROR
    assert "some_method_not_from_sdk" in failed.status.message  # "Probably there will be an error"
    [logged_file] = sdk_project.get_artifact("example").as_file()  # logged before the error
    assert Path(logged_file).read_text() == "an artifact"

    logged = fn("func4").run(action="job")
    assert logged.status.state == State.COMPLETED and "Some log" in logged.logs()


def test_inputs_examples(sdk_project: dh.Project, sdk_dataitem: dh.Dataitem, write) -> None:
    sdk_function = function_of(sdk_project, write, INPUT_ONLY, "func", "input_only")
    # fmt: off
    # Reference the di argument as key and the dataitem key as value
    run = sdk_function.run(inputs={"di": sdk_dataitem.key})
    # fmt: on
    assert run.results() == {"output_0": "di"}
    assert run.inputs()["di"].key == sdk_dataitem.key and run.inputs(as_dict=True)["di"]["name"] == "di"

    sdk_function = function_of(sdk_project, write, INPUT_AND_PARAMETER, "func", "input_and_parameter")
    # fmt: off
    # Reference the di argument as key and the dataitem key as value
    run = sdk_function.run(inputs={"di": sdk_dataitem.key},
                     parameter={"param1": "some value"})
    # fmt: on
    assert run.status.state == State.COMPLETED, run.status.message
    assert run.results() == {"output_0": "di some value"}


def test_outputs_example(sdk_project: dh.Project, sdk_dataitem: dh.Dataitem, write) -> None:
    sdk_function = function_of(sdk_project, write, OUTPUTS, "func", "outputs")
    # fmt: off
    run = sdk_function.run(inputs={"di": sdk_dataitem.key},
                     parameter={"param1": "some value"},
                     outputs={"result": "named_result",
                              "other_result": "named_other_result"})
    # fmt: on
    assert run.results() == {"named_result": "some value", "named_other_result": "some other value"}
    assert run.result("named_result") == "some value"


def test_function_example(sdk_project: dh.Project, write) -> None:
    write("main.py", MAIN)
    project = sdk_project
    import digitalhub_runtime_python as dh  # `import digitalhub_core as dh`: the import line

    # fmt: off
    # From project ...

    function = project.new_function(name="python-function",
                                    kind="python",
                                    code_src="main.py",
                                    handler="function",
                                    python_version="PYTHON3_11")
    from_project = function

    # .. or from sdk

    function = dh.new_function(project="my-project",
                               name="python-function",
                               kind="python",
                               code_src="main.py",
                               handler="function",
                               python_version="PYTHON3_11")
    # fmt: on

    assert function.id == from_project.id  # the same spec: the same version
    assert function.spec.python_version == "PYTHON3_11"
    assert function.run(action="job").results() == {"output_0": "from main.py"}
    assert [f.name for f in dh.list_functions("my-project")] == ["python-function"]


def test_task_example(sdk_project: dh.Project, write) -> None:
    write("main.py", MAIN)
    function = sdk_project.new_function(name="python-function", kind="python", code_src="main.py", handler="function")
    # fmt: off
    run = function.run(
        action="job",
        backoff_limit=1,
    )
    # fmt: on
    assert run.status.state == State.COMPLETED
    task = dh.get_task(run.spec.task)
    assert task.spec.backoff_limit == 1 and task.kind == "python+job"


def test_run_example(sdk_project: dh.Project, write) -> None:
    dataitem = sdk_project.log_dataitem(name="table", kind="table", data=pd.DataFrame({"n": [1, 2]}))
    function = function_of(sdk_project, write, RUN_EXAMPLE, "function", "run_example")
    # fmt: off
    run = function.run(
        action="job",
        inputs={
            "dataitem": dataitem.key
        },
        outputs={
            "dataitem": "mapped-name",
            "label": "some-label"
        }
    )
    # fmt: on
    assert run.status.state == State.COMPLETED, run.status.message
    assert run.output("mapped-name").as_df().to_dict("records") == [{"n": 1}]
    assert run.result("some-label") == "a label"
    assert run.output("mapped-name", as_key=True) == sdk_project.get_dataitem("mapped-name").key
