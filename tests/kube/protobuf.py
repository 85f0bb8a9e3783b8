"""Read the Namespace that ``kubectl create namespace`` sends as ``application/vnd.kubernetes.protobuf``.

kubectl's typed clients post built-in objects as Kubernetes protobuf: the magic ``k8s\\0``, then a
``runtime.Unknown`` (1: typeMeta {1: apiVersion, 2: kind}, 2: raw object). Of a raw ``Namespace`` (1: metadata)
this reads the ObjectMeta fields a namespace is created with (1: name, 11: labels, 12: annotations; field numbers
from k8s.io/api's generated.proto). Other protobuf bodies raise ValueError: the emulator speaks JSON.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

MAGIC = b"k8s\x00"
CONTENT_TYPE = "application/vnd.kubernetes.protobuf"


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) of a protobuf message: varints as int, length-delimited and fixed fields as bytes."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, pos = _varint(data, pos)
            yield number, value
            continue
        if wire_type == 2:
            size, pos = _varint(data, pos)
        elif wire_type in (1, 5):
            size = 8 if wire_type == 1 else 4
        else:
            raise ValueError(f"protobuf wire type {wire_type} is not supported")
        yield number, data[pos : pos + size]
        pos += size


def _message(data: bytes) -> dict[int, list[bytes]]:
    """The length-delimited fields of a message by number (the only kind the Namespace fields read here have)."""
    found: dict[int, list[bytes]] = {}
    for number, value in fields(data):
        if isinstance(value, bytes):
            found.setdefault(number, []).append(value)
    return found


def _string_map(entries: list[bytes]) -> dict[str, str]:
    pairs = (_message(entry) for entry in entries)
    return {pair[1][0].decode(): pair.get(2, [b""])[0].decode() for pair in pairs if 1 in pair}


def namespace(body: bytes) -> dict[str, Any]:
    """The JSON form of a protobuf-encoded Namespace; ValueError for anything else."""
    if not body.startswith(MAGIC):
        raise ValueError("not a Kubernetes protobuf body (no k8s\\0 magic)")
    unknown = _message(body[len(MAGIC) :])
    type_meta = _message(unknown.get(1, [b""])[0])
    kind = type_meta.get(2, [b""])[0].decode()
    if kind != "Namespace":
        raise ValueError(f"the emulator reads protobuf for Namespace only, not {kind or 'this body'}: send JSON")
    meta = _message(_message(unknown.get(2, [b""])[0]).get(1, [b""])[0])
    metadata: dict[str, Any] = {"name": meta.get(1, [b""])[0].decode()}
    for number, key in ((11, "labels"), (12, "annotations")):
        if number in meta:
            metadata[key] = _string_map(meta[number])
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}
