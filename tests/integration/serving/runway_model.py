"""Runway's example model, with the import lines and names adapted: a setup option, and a ``sample`` command
taking a vector and a category and answering an image. Run as ``python runway_model.py`` it serves itself."""

from PIL import Image

from digitalhub_runtime_python import command, serve, setup
from digitalhub_runtime_python.serving.types import category, image, vector

SIZE = 1024


class Model:
    """Stands in for a generative network: paints the category's colour, shaded by z and the network size."""

    def __init__(self, network_size: int):
        self.network_size = network_size

    def sample(self, z: list[float], category: str) -> Image.Image:
        shade = (int(abs(z[0]) * 100) + self.network_size) % 256
        colour = (255, 200, shade) if category == "day" else (0, 0, shade)
        return Image.new("RGB", (SIZE, SIZE), colour)


options = {"network_size": category(choices=[64, 128, 256, 512], default=256)}


@setup(options=options)
def init(network_size):
    print(f"Setup ran, and the network size is {network_size}")
    return Model(network_size=network_size)


sample_inputs = {"z": vector(length=512), "category": category(choices=["day", "night"])}
sample_outputs = {"image": image(width=SIZE, height=SIZE)}


@command("sample", inputs=sample_inputs, outputs=sample_outputs, description="Generate an image")
def sample(context, z, category):
    img = context.state.sample(z=z, category=category)
    return {"image": img}  # a Pillow image: the server encodes it as a base64 data URI


if __name__ == "__main__":
    # the arguments give way to DIGITALHUB_SERVE_HOST, _PORT, _OPTIONS, _DEBUG, _META and _NO_SERVE
    serve(host="127.0.0.1", port=9, model_options={"network_size": 64})
