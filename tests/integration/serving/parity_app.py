"""The module the Scale Launch and Caikit parity tests serve: a handler reading what a request (or its url) held,
commands taking a file and an image, a command using deployed models, a model loader, and a training command."""

import pickle
from pathlib import Path

from PIL import ImageOps

from digitalhub_runtime_python import command
from digitalhub_runtime_python.serving import model_loader
from digitalhub_runtime_python.serving.types import file, image


def predict(event):
    """The handler: what the body was (JSON from args or a JSON url, bytes from any other url)."""
    body = event.body
    if isinstance(body, bytes):
        return {"bytes": len(body), "type": event.headers.get("content-type")}
    return {"body": body}


@command("double", inputs={"x": float})
def double(x):
    """Its result is a set, which JSON turns into a list: pickled, it stays a set."""
    return frozenset({2 * x})


@command("add", inputs={"a": int, "b": (int, 0)}, outputs={"sum": int})
def add(a, b):
    return {"sum": a + b}


@command("rows", inputs={"table": file(extensions=[".csv"])})
def rows(table):
    return {"name": table.name, "rows": len(table.data.decode().splitlines())}


@command("invert", inputs={"picture": image(channels=3)}, outputs={"picture": image(channels=3)})
def invert(picture):
    return {"picture": ImageOps.invert(picture)}


@command("score", inputs={"x": float, "model": (str, "linear")})
def score(context, x, model):
    """Use a deployed model: context.models[name].value is what the loader returned."""
    deployed = context.models[model]
    return {"y": deployed.value["w"] * x, "key": deployed.key, "names": sorted(context.models)}


@model_loader
def load(path: Path, model):
    """A model is a pickled dict {"w": weight}; anything else does not load."""
    source = path if path.is_file() else next(path.iterdir())
    value = pickle.loads(source.read_bytes())
    if not isinstance(value, dict) or "w" not in value:
        raise ValueError(f"{model.name}: not a linear model")
    return value


@command("fit", inputs={"w": float, "gate": (str, ""), "epochs": (int, 3)}, training=True, model_name="linear")
def fit(event, w, gate, epochs):
    """Train for ``epochs``; with ``gate``, each epoch waits for that file. A cancelled job stops at the next
    check of event.cancelled and leaves ``<gate>.stopped`` behind."""
    for epoch in range(epochs):
        while gate and not Path(gate).exists():
            if event.cancelled.wait(0.02):
                Path(f"{gate}.stopped").write_text(str(epoch))
                return None
    return {"w": w}
