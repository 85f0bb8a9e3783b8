"""What a build run made: the Dockerfile rendered from its function, the image, and the builder's account of it."""

from __future__ import annotations

from pydantic import Field

from digitalhub_runtime_python.models.base import StrictModel


class BuildInfo(StrictModel):
    """The image a build run makes of its function, recorded on the run as the build goes."""

    image: str | None = Field(None, description="Reference the image is built as: <registry>/<project>-<function>:<id>")
    digest: str | None = Field(
        None, description="sha256 digest of the pushed image (a local engine's build: the image ID)"
    )
    builder: str | None = Field(None, description="What built it: docker (a local engine), kaniko or buildkit")
    dockerfile: str | None = Field(None, description="The Dockerfile rendered from the function")
    log: str | None = Field(None, description="The end of the builder's output")
    function: str | None = Field(None, description="Key of the function version that runs in the image")
