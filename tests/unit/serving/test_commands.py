"""The @command and @setup decorators and how the server finds them."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from digitalhub_runtime_python import command, setup
from digitalhub_runtime_python.serving.commands import (
    fields_model,
    find_commands,
    find_model_loader,
    find_setup,
    model_loader,
)


def test_command_builds_input_and_output_models() -> None:
    @command("scale", inputs={"x": float, "factor": (float, 2.0)}, outputs={"y": float})
    def scale(x, factor):
        """Scale x."""
        return {"y": x * factor}

    [spec] = find_commands([scale])
    assert spec.name == "scale" and spec.description == "Scale x." and spec.func is scale
    assert spec.inputs.model_validate({"x": 1}).factor == 2.0
    with pytest.raises(ValidationError):
        spec.inputs.model_validate({"factor": 1})
    assert spec.outputs.model_json_schema()["required"] == ["y"]
    assert scale(1, 3) == {"y": 3}  # still a plain function


def test_command_takes_a_pydantic_model_and_defaults_its_name() -> None:
    class Inputs(BaseModel):
        text: str

    @command(inputs=Inputs)
    def shout(text):
        return text.upper()

    [spec] = find_commands([shout])
    assert spec.name == "shout" and spec.inputs is Inputs and spec.outputs is None


@pytest.mark.parametrize("name", ["Bad", "9lives", "jobs", "healthz", "with space", ""])
def test_unusable_command_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not usable"):
        command(name or "x" * 70)(lambda: None)


def test_fields_must_be_a_mapping_or_model() -> None:
    with pytest.raises(TypeError, match="declare fields"):
        fields_model("Inputs", ["x"])  # type: ignore[arg-type]
    assert fields_model("Inputs", None) is None


def test_two_functions_with_one_command_name_are_refused() -> None:
    first = command("same")(lambda: 1)
    second = command("same")(lambda: 2)
    with pytest.raises(ValueError, match="two functions declare @command 'same'"):
        find_commands([first, second])
    assert len(find_commands([first, first])) == 1  # the same function seen twice (imported under two names)


def test_setup_with_and_without_options() -> None:
    @setup
    def plain(context):
        return 1

    @setup(options={"size": (int, 3)})
    def sized(context, size):
        return size

    assert find_setup([plain]).options is None
    assert find_setup([sized]).options.model_validate({}).size == 3
    assert find_setup([len, "text"]) is None
    with pytest.raises(ValueError, match="several @setup functions"):
        find_setup([plain, sized])


def test_training_commands_name_their_model_and_return_one() -> None:
    @command("fit", inputs={"w": float}, training=True)
    def fit(w):
        return {"w": w}

    @command("tune", training=True, model_name="tuned.v1")
    def tune():
        return 1

    [spec, tuned] = find_commands([fit, tune])
    assert spec.training and spec.model_name == "fit" and tuned.model_name == "tuned.v1"
    assert spec.describe(streaming=False)["training"] is True
    with pytest.raises(ValueError, match="cannot be a generator"):
        command("stream", training=True)(lambda: (yield 1))
    with pytest.raises(ValueError, match="add training=True"):
        command("plain", model_name="m")(lambda: 1)
    with pytest.raises(ValueError, match="not an entity name"):
        command("bad", training=True, model_name="Not Valid")(lambda: 1)


def test_one_model_loader_per_module() -> None:
    @model_loader
    def load(path, model):
        return path

    def other(path, model):
        return None

    assert find_model_loader([load, other, len]) is load
    assert find_model_loader([other]) is None
    with pytest.raises(ValueError, match="several @model_loader functions"):
        find_model_loader([load, model_loader(other)])
