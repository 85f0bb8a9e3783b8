"""Output naming and renaming, and which values are plain results."""

from __future__ import annotations

import pytest

from digitalhub_runtime_python.execution.handler import declared_outputs, handler
from digitalhub_runtime_python.execution.outputs import (
    OutputError,
    is_dataframe,
    is_plain,
    name_outputs,
    rename_outputs,
)


def test_undecorated_single_value_and_tuple() -> None:
    assert name_outputs(42, None) == {"output_0": 42}
    assert name_outputs((1, "a"), None) == {"output_0": 1, "output_1": "a"}
    assert name_outputs(None, None) == {}


def test_decorated_names() -> None:
    @handler(outputs=["total", "label"])
    def f():
        return 1, "x"

    assert declared_outputs(f) == ["total", "label"]
    assert name_outputs(f(), declared_outputs(f)) == {"total": 1, "label": "x"}
    assert name_outputs((1, 2), ["pair"]) == {"pair": (1, 2)}
    assert declared_outputs(lambda: None) is None


def test_decorated_count_mismatch() -> None:
    with pytest.raises(OutputError, match="declares outputs \\['a', 'b'\\] but the handler returned int"):
        name_outputs(1, ["a", "b"])
    with pytest.raises(OutputError, match="a tuple of 3"):
        name_outputs((1, 2, 3), ["a", "b"])


def test_handler_refuses_repeated_names() -> None:
    with pytest.raises(ValueError, match="repeat a name"):
        handler(outputs=["a", "a"])


def test_rename() -> None:
    assert rename_outputs({"result": 1, "other": 2}, {"result": "named"}) == {"named": 1, "other": 2}
    with pytest.raises(OutputError, match="did not return"):
        rename_outputs({"result": 1}, {"missing": "x"})
    with pytest.raises(OutputError, match="same name"):
        rename_outputs({"a": 1, "b": 2}, {"a": "b"})


@pytest.mark.parametrize("value", [1, 1.5, "s", True, None, [1, "a"], {"k": [1, 2]}])
def test_plain_values(value: object) -> None:
    assert is_plain(value)


@pytest.mark.parametrize("value", [float("nan"), b"bytes", {1, 2}, object(), {"k": object()}])
def test_not_plain_values(value: object) -> None:
    assert not is_plain(value)


def test_dataframe_detection() -> None:
    import pandas as pd

    assert is_dataframe(pd.DataFrame({"a": [1]}))
    assert not is_dataframe({"a": [1]})
