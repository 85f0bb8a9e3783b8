"""Images and files carried in JSON as base64 data URIs: decode them for user code, encode what it returns.

Pillow is imported on the first image, numpy only when an image is asked for or given as an array.
"""

from __future__ import annotations

import base64
import binascii
import io
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, unquote

from digitalhub_runtime_python.extras import require

MODES = {1: "L", 3: "RGB", 4: "RGBA"}  # channels -> Pillow mode
DEFAULT_MEDIA_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class DataURI:
    """The parts of ``data:<media type>[;name=<file name>][;base64],<data>``."""

    media_type: str
    data: bytes
    name: str | None = None

    @classmethod
    def parse(cls, text: str) -> DataURI:
        """A data URI, or bare base64 (media type unknown); ValueError saying what is wrong."""
        if not text.startswith("data:"):
            return cls(DEFAULT_MEDIA_TYPE, _b64decode(text))
        header, comma, payload = text[5:].partition(",")
        if not comma:
            raise ValueError("a data URI needs a ',' before its data: data:<media type>;base64,<data>")
        media_type, *params = header.split(";")
        encoded = bool(params) and params[-1] == "base64"
        named = dict(p.partition("=")[::2] for p in (params[:-1] if encoded else params))
        data = _b64decode(payload) if encoded else unquote(payload).encode()
        name = unquote(named["name"]) if named.get("name") else None
        return cls(media_type or "text/plain", data, name)

    def __str__(self) -> str:
        name = f";name={quote(self.name)}" if self.name else ""
        return f"data:{self.media_type}{name};base64,{base64.b64encode(self.data).decode()}"


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64: send a data URI (data:<media type>;base64,<data>) or base64 text") from None


# Images


def _pil() -> Any:
    require("serve")
    from PIL import Image

    return Image


def is_array(value: Any) -> bool:
    """True for a numpy array, without importing numpy."""
    return type(value).__module__ == "numpy" and type(value).__name__ == "ndarray"


def to_image(value: Any, width: int | None, height: int | None, channels: int | None) -> Any:
    """A Pillow image from a data URI, base64 text, a Pillow image or a numpy array (height x width [x channels],
    uint8), checked against the declared size (before its pixels are decoded) and converted to ``channels``."""
    image_module = _pil()
    if isinstance(value, str):
        try:
            image = image_module.open(io.BytesIO(DataURI.parse(value).data))
        except image_module.UnidentifiedImageError:
            raise ValueError("not an image Pillow can read (PNG, JPEG, WebP, ...)") from None
    elif is_array(value):
        try:
            image = image_module.fromarray(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"a numpy array that is no image ({exc}): use uint8, height x width [x channels]"
            ) from None
    elif isinstance(value, image_module.Image):
        image = value
    else:
        raise ValueError(f"expected an image (data URI, Pillow image or numpy array), not {type(value).__name__}")
    got_width, got_height = image.size
    if (width is not None and got_width != width) or (height is not None and got_height != height):
        wanted = f"{width or 'any'}x{height or 'any'}"
        raise ValueError(f"image is {got_width}x{got_height} pixels, expected {wanted}")
    if width is None and height is None and got_width * got_height > image_module.MAX_IMAGE_PIXELS:
        raise ValueError(f"image is {got_width}x{got_height} pixels, more than Pillow's limit of decoded pixels")
    if channels is not None and image.mode != MODES[channels]:
        image = image.convert(MODES[channels])
    return image


def image_to_array(image: Any) -> Any:
    import numpy

    return numpy.asarray(image)


def encode_image(value: Any, image_format: str) -> str:
    """A data URI of a Pillow image or numpy array in ``image_format`` (png, jpeg, webp)."""
    image = _pil().fromarray(value) if is_array(value) else value
    if image_format == "jpeg" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, format=image_format)
    return str(DataURI(f"image/{image_format}", out.getvalue()))


# Files


class FileData:
    """A file a request brought or a command returns: its bytes, ``name`` (may be None) and media type. A plain
    class, not a dataclass: pydantic hands it to user code as it is instead of turning it into a dict."""

    __slots__ = ("data", "media_type", "name")

    def __init__(self, data: bytes, name: str | None = None, media_type: str = DEFAULT_MEDIA_TYPE):
        self.data, self.name, self.media_type = data, name, media_type

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FileData) and (self.data, self.name, self.media_type) == (
            other.data,
            other.name,
            other.media_type,
        )

    def __hash__(self) -> int:
        return hash((self.data, self.name, self.media_type))

    def __repr__(self) -> str:
        return f"FileData(name={self.name!r}, media_type={self.media_type!r}, {len(self.data)} bytes)"

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.name).suffix.lower() if self.name else ""

    def save(self, folder: str | Path, name: str | None = None) -> Path:
        """Write it into ``folder`` (as ``name``, its own name, or ``file<suffix>``); the path written."""
        path = Path(folder, PurePosixPath(name or self.name or f"file{self.suffix}").name)
        path.write_bytes(self.data)
        return path


def to_file(value: Any, extensions: Sequence[str] | None) -> FileData:
    """A FileData from a data URI (a ``name=`` parameter names it), bytes, a path or a FileData, whose extension
    (from its name, else its media type) is one of ``extensions`` when given."""
    if isinstance(value, FileData):
        file = value
    elif isinstance(value, str):
        uri = DataURI.parse(value)
        file = FileData(uri.data, uri.name, uri.media_type)
    elif isinstance(value, (bytes, bytearray)):
        file = FileData(bytes(value))
    elif isinstance(value, Path):
        media_type = mimetypes.guess_type(value.name)[0] or DEFAULT_MEDIA_TYPE
        file = FileData(value.read_bytes(), value.name, media_type)
    else:
        raise ValueError(f"expected a file (data URI, bytes or a path), not {type(value).__name__}")
    if extensions:
        known = [file.suffix] if file.suffix else mimetypes.guess_all_extensions(file.media_type)
        if not set(known) & set(extensions):
            what = f"name {file.name!r}" if file.name else f"media type {file.media_type}"
            raise ValueError(f"file with {what} is not one of {', '.join(extensions)}")
    return file


def encode_file(file: FileData) -> str:
    return str(DataURI(file.media_type, file.data, file.name))
