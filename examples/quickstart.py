"""The README's quickstart, plus data in and out: ``python examples/quickstart.py`` (needs the ``data`` extra)."""

from __future__ import annotations

from pathlib import Path

import digitalhub_runtime_python as dh

HERE = Path(__file__).parent


def main() -> None:
    project = dh.get_or_create_project("demo")
    fn = project.new_function(name="add", kind="python", code_src=str(HERE / "src" / "add.py"), handler="add")
    run = fn.run(action="job", local_execution=True, parameters={"a": 40, "b": 2})
    run.wait()
    print(run.status.state, run.results())

    import pandas as pd

    numbers = project.log_dataitem("numbers", df=pd.DataFrame({"n": range(10)}))
    stats = project.new_function(name="stats", code_src=str(HERE / "src" / "stats.py"), handler="describe")
    run = stats.run(inputs={"table": numbers.key}, outputs={"summary": "numbers-summary"})
    print(run.status.state, run.results(), {name: obj.key for name, obj in run.outputs().items()})


if __name__ == "__main__":
    main()
