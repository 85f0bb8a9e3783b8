"""The data types: what they accept and refuse (naming the field), how they convert both ways, their schema."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydantic import BaseModel, ValidationError

from digitalhub_runtime_python.models.errors import SpecError, validate
from digitalhub_runtime_python.serving.commands import fields_model
from digitalhub_runtime_python.serving.media import DataURI, FileData
from digitalhub_runtime_python.serving.types import array, boolean, category, file, image, number, text, vector


def model(**fields: object) -> type[BaseModel]:
    built = fields_model("Inputs", fields)
    assert built is not None
    return built


def problems(fields: type[BaseModel], data: dict) -> str:
    with pytest.raises(SpecError) as caught:
        validate(fields, data, "inputs")
    return str(caught.value)


def png(size: tuple[int, int] = (4, 3), mode: str = "RGB") -> str:
    out = io.BytesIO()
    Image.new(mode, size, 7 if mode == "L" else (1, 2, 3, 4)[: len(mode)]).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def test_number_bounds_step_default_and_integer_kind() -> None:
    inputs = model(steps=number(min=0, max=10, step=2, default=4), ratio=number(min=0.5, max=1.0))
    assert inputs.model_validate({"ratio": 0.5}).model_dump() == {"steps": 4, "ratio": 0.5}
    schema = inputs.model_json_schema()["properties"]
    assert schema["steps"] == {
        "default": 4,
        "maximum": 10,
        "minimum": 0,
        "title": "Steps",
        "type": "integer",
        "x-data-type": "number",
        "x-step": 2,
    }
    assert schema["ratio"]["type"] == "number" and "ratio" in inputs.model_json_schema()["required"]
    refused = problems(inputs, {"steps": 3, "ratio": 2})
    assert "steps: 3 is not 0 plus a multiple of the step 2" in refused and "ratio: " in refused
    with pytest.raises(ValueError, match="step must be positive"):
        number(step=0)
    with pytest.raises(ValueError, match="min is above max"):
        number(min=2, max=1)


def test_text_boolean_and_category() -> None:
    inputs = model(
        name=text(max_length=3, default="ab"), flag=boolean(default=False), size=category([64, 128], default=64)
    )
    assert inputs.model_validate({}).model_dump() == {"name": "ab", "flag": False, "size": 64}
    refused = problems(inputs, {"name": "abcd", "flag": "yes", "size": 100})
    assert "name: " in refused and "flag: " in refused and "size: Input should be 64 or 128" in refused
    assert inputs.model_json_schema()["properties"]["size"]["enum"] == [64, 128]
    with pytest.raises(ValueError, match="default 'dusk' is not one of the choices"):
        category(["day", "night"], default="dusk")
    with pytest.raises(ValueError, match="each a string or an integer"):
        category([1.5])


def test_vector_is_sampled_when_left_out_and_takes_numpy_arrays() -> None:
    inputs = model(z=vector(length=8, sampling_std=0.5), fixed=vector(length=2, sampling_std=None))
    values = inputs.model_validate({"fixed": np.array([1.0, 2.0])}).model_dump()
    assert len(values["z"]) == 8 and values["z"] != inputs.model_validate({"fixed": [1, 2]}).model_dump()["z"]
    assert values["fixed"] == [1.0, 2.0]
    assert "fixed: required field is missing" in problems(inputs, {})
    assert "z: " in problems(inputs, {"z": [1.0], "fixed": [1, 2]})
    z = inputs.model_json_schema()["properties"]["z"]
    assert z["minItems"] == z["maxItems"] == 8 and z["x-sampling-std"] == 0.5


def test_image_in_as_pillow_or_numpy_and_out_as_a_data_uri() -> None:
    inputs = model(picture=image(width=4, height=3), grey=image(channels=1, array=True))
    values = validate(inputs, {"picture": png(mode="RGBA"), "grey": png()})
    assert isinstance(values.picture, Image.Image) and values.picture.mode == "RGB"  # converted to 3 channels
    assert isinstance(values.grey, np.ndarray) and values.grey.shape == (3, 4)
    assert "picture: image is 5x5 pixels, expected 4x3" in problems(inputs, {"picture": png((5, 5)), "grey": png()})
    assert "picture: not base64" in problems(inputs, {"picture": "data:image/png;base64,%%", "grey": png()})
    not_image = "data:image/png;base64," + base64.b64encode(b"plain text").decode()
    assert "not an image Pillow can read" in problems(inputs, {"picture": not_image, "grey": png()})

    outputs = model(picture=image(width=4, height=3, format="jpeg"))
    encoded = outputs.model_validate({"picture": np.zeros((3, 4, 3), dtype=np.uint8)}).model_dump(mode="json")
    assert encoded["picture"].startswith("data:image/jpeg;base64,")
    assert Image.open(io.BytesIO(DataURI.parse(encoded["picture"]).data)).size == (4, 3)
    bare = png().partition(",")[2]  # bare base64 is accepted too
    assert outputs.model_validate({"picture": bare}).picture.size == (4, 3)
    schema = outputs.model_json_schema()["properties"]["picture"]
    assert schema["x-data-type"] == "image" and schema["x-width"] == 4 and schema["contentEncoding"] == "base64"


def test_file_checks_its_extension_and_converts_both_ways(tmp_path: Path) -> None:
    inputs = model(table=file(extensions=["csv", ".TSV"]))
    named = validate(inputs, {"table": str(DataURI("text/plain", b"a,b\n", "data.csv"))}).table
    assert named == FileData(b"a,b\n", "data.csv", "text/plain") and named.suffix == ".csv"
    by_type = validate(inputs, {"table": str(DataURI("text/csv", b"a\n"))}).table
    assert by_type.name is None and by_type.save(tmp_path).read_bytes() == b"a\n"
    refused = problems(inputs, {"table": str(DataURI("image/png", b"x", "picture.png"))})
    assert "table: file with name 'picture.png' is not one of .csv, .tsv" in refused
    source = tmp_path / "out.csv"
    source.write_text("x\n")
    encoded = inputs.model_validate({"table": source}).model_dump(mode="json")["table"]
    assert encoded == "data:text/csv;name=out.csv;base64," + base64.b64encode(b"x\n").decode()
    assert inputs.model_json_schema()["properties"]["table"]["x-extensions"] == [".csv", ".tsv"]


def test_array_of_a_type_with_length_bounds() -> None:
    inputs = model(scores=array(number(min=0), min_length=1, max_length=2, default=[0]))
    assert inputs.model_validate({}).scores == [0]
    assert "scores: " in problems(inputs, {"scores": [1, 2, 3]})
    assert "scores.0: " in problems(inputs, {"scores": [-1]})
    schema = inputs.model_json_schema()["properties"]["scores"]
    assert schema["minItems"] == 1 and schema["maxItems"] == 2 and schema["items"]["minimum"] == 0


def test_a_plain_type_stays_required_and_a_tuple_keeps_its_default() -> None:
    inputs = model(a=int, b=(int, 2))
    assert inputs.model_validate({"a": 1}).model_dump() == {"a": 1, "b": 2}
    with pytest.raises(ValidationError):
        inputs.model_validate({})
