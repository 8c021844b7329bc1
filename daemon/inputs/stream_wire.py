"""SONIC's packed ZeroMQ message format: bytes <-> named, typed arrays (sans I/O).

One single-part message per publish, the same layout on every topic SONIC's producers use
(``pose``, ``command``, ``planner``)::

    [topic bytes][1280-byte NUL-padded UTF-8 JSON header][raw little-endian arrays]

The header is ``{"v": VERSION, "endian": "le", "count": N, "fields": [{"name", "dtype",
"shape"}, ...]}`` with dtypes ``f32 f64 i32 i64 i16 f16 i8 u8 bool``; the arrays follow in
header order with no padding (../shared/reference/sonic-deploy.md §1; SONIC's builder is
``pack_pose_message()`` in ``gear_sonic/utils/teleop/zmq/zmq_planner_sender.py``).

This module knows the format, not what the fields mean: ``daemon.inputs.stream_messages`` turns
``pose`` and ``command`` messages into typed messages. Every refusal is a ``StreamDecodeError``
with a ``StreamErrorCode``; nothing else escapes, whatever the bytes.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

HEADER_SIZE = 1280
POSE_TOPIC = b"pose"
COMMAND_TOPIC = b"command"

WIRE_DTYPES: dict[str, np.dtype[Any]] = {
    "f32": np.dtype("<f4"),
    "f64": np.dtype("<f8"),
    "i32": np.dtype("<i4"),
    "i64": np.dtype("<i8"),
    "i16": np.dtype("<i2"),
    "f16": np.dtype("<f2"),
    "i8": np.dtype("i1"),
    "u8": np.dtype("u1"),
    "bool": np.dtype("?"),
}
_NAME_OF_KIND = {(d.kind, d.itemsize): name for name, d in WIRE_DTYPES.items()}
FLOATS = frozenset({"f32", "f64"})
INTS = frozenset({"i32", "i64"})
FLAGS = frozenset({"bool", "u8", "i32"})
_MAX_NDIM = 4
_MAX_ELEMENTS = 1 << 31
"""An empty field (a zero dimension) whose other dimensions multiply past this is refused: numpy
cannot shape even an empty array past its size limit (``np.zeros((0, 2**62))`` raises)."""


class StreamErrorCode(str, enum.Enum):
    """Stable reasons a streamed message is refused by the decoder."""

    WRONG_TOPIC = "wrong_topic"
    TRUNCATED = "truncated"
    """Shorter than topic + header, or the header's fields claim more bytes than arrived."""
    TRAILING_BYTES = "trailing_bytes"
    BAD_HEADER = "bad_header"
    """Not NUL-padded UTF-8 JSON, not an object, or a malformed field list."""
    UNSUPPORTED_VERSION = "unsupported_version"
    BAD_ENDIAN = "bad_endian"
    UNKNOWN_DTYPE = "unknown_dtype"
    BAD_DTYPE = "bad_dtype"
    """A known dtype this field cannot have (e.g. ``joint_pos`` as ``i8``)."""
    BAD_SHAPE = "bad_shape"
    """Wrong shape, no frames, or frame counts that disagree between fields."""
    DUPLICATE_FIELD = "duplicate_field"
    MISSING_FIELD = "missing_field"
    NON_FINITE = "non_finite"
    NOT_A_QUATERNION = "not_a_quaternion"
    TOO_MANY_FRAMES = "too_many_frames"


class StreamDecodeError(ValueError):
    """A streamed message was refused.

    Attributes:
        code: the stable reason.
        field: the offending field (``"header"``, ``"joint_pos"``, ``"message"``, ...).
        detail: a human-readable explanation.
    """

    def __init__(self, code: StreamErrorCode, field: str, detail: str) -> None:
        super().__init__(f"[{code.value}] {field}: {detail}")
        self.code = code
        self.field = field
        self.detail = detail


def fail(code: StreamErrorCode, field_name: str, detail: str) -> StreamDecodeError:
    return StreamDecodeError(code, field_name, detail)


@dataclass(frozen=True)
class StreamDecodeConfig:
    """Limits of the decoder."""

    topic: bytes = POSE_TOPIC
    command_topic: bytes = COMMAND_TOPIC
    token_dim: int = 64
    """``token_state`` length for v4 (SONIC's encoder output)."""
    max_frames: int = 500
    """Most frames in one message (10 s at 50 Hz)."""
    max_fields: int = 32
    quat_norm_tolerance: float = 0.1
    """Largest ``| |q| - 1 |`` accepted before normalising a quaternion."""

    def __post_init__(self) -> None:
        if not self.topic or not self.command_topic:
            raise ValueError("streaming topics must not be empty")
        if self.topic.startswith(self.command_topic) or self.command_topic.startswith(self.topic):
            raise ValueError("the pose and command topics must not be prefixes of each other")
        if self.token_dim < 1 or self.max_frames < 1 or self.max_fields < 1:
            raise ValueError("token_dim, max_frames and max_fields must be >= 1")
        if not 0.0 < self.quat_norm_tolerance < 1.0:
            raise ValueError("quat_norm_tolerance must lie in (0, 1)")


@dataclass(frozen=True)
class WireMessage:
    """A message's header and arrays (views into the received bytes: copy what you keep)."""

    header: Mapping[str, Any]
    arrays: Mapping[str, tuple[str, npt.NDArray[Any]]]
    """Field name -> (wire dtype name, array)."""


# ---------------------------------------------------------------------- reading


def _parse_header(raw: memoryview) -> dict[str, Any]:
    text = bytes(raw).rstrip(b"\0")
    if b"\0" in text:
        raise fail(StreamErrorCode.BAD_HEADER, "header", "NUL inside the JSON header")
    try:
        header = json.loads(text.decode("utf-8"))
    except (ValueError, RecursionError):
        raise fail(StreamErrorCode.BAD_HEADER, "header", "not UTF-8 JSON") from None
    if not isinstance(header, dict):
        raise fail(StreamErrorCode.BAD_HEADER, "header", "not a JSON object")
    endian = header.get("endian", "le")
    if endian != "le":
        raise fail(StreamErrorCode.BAD_ENDIAN, "header.endian", f"{endian!r:.20}; only 'le'")
    return header


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _field_spec(entry: object, index: int) -> tuple[str, str, tuple[int, ...]]:
    where = f"header.fields[{index}]"
    if not isinstance(entry, dict):
        raise fail(StreamErrorCode.BAD_HEADER, where, "not an object")
    name, dtype, shape = entry.get("name"), entry.get("dtype"), entry.get("shape")
    if not isinstance(name, str) or not 0 < len(name) <= 64:
        raise fail(StreamErrorCode.BAD_HEADER, where, "name must be a string of 1-64 chars")
    if not isinstance(dtype, str):
        raise fail(StreamErrorCode.BAD_HEADER, name, "dtype must be a string")
    if dtype not in WIRE_DTYPES:
        raise fail(StreamErrorCode.UNKNOWN_DTYPE, name, f"dtype {dtype[:16]!r}")
    if not isinstance(shape, list) or not all(is_int(d) and d >= 0 for d in shape):
        raise fail(StreamErrorCode.BAD_SHAPE, name, "shape must be a list of ints >= 0")
    if len(shape) > _MAX_NDIM:
        raise fail(StreamErrorCode.BAD_SHAPE, name, f"more than {_MAX_NDIM} dimensions")
    return name, dtype, tuple(shape)


def _read_arrays(
    header: Mapping[str, Any], body: memoryview, max_fields: int
) -> dict[str, tuple[str, npt.NDArray[Any]]]:
    specs = header.get("fields")
    if not isinstance(specs, list):
        raise fail(StreamErrorCode.BAD_HEADER, "header.fields", "missing or not a list")
    if len(specs) > max_fields:
        raise fail(StreamErrorCode.BAD_HEADER, "header.fields", f"more than {max_fields}")
    arrays: dict[str, tuple[str, npt.NDArray[Any]]] = {}
    offset = 0
    for index, entry in enumerate(specs):
        name, dtype_name, shape = _field_spec(entry, index)
        if name in arrays:
            raise fail(StreamErrorCode.DUPLICATE_FIELD, name, "named twice in the header")
        dtype = WIRE_DTYPES[dtype_name]
        count = math.prod(shape)
        nbytes = count * dtype.itemsize
        if offset + nbytes > len(body):
            raise fail(
                StreamErrorCode.TRUNCATED,
                name,
                f"header claims {offset + nbytes} body bytes, {len(body)} arrived",
            )
        if count:
            values = np.frombuffer(body, dtype=dtype, count=count, offset=offset).reshape(shape)
        elif math.prod(max(d, 1) for d in shape) > _MAX_ELEMENTS:
            raise fail(StreamErrorCode.BAD_SHAPE, name, f"empty, yet {shape} is beyond any field")
        else:
            values = np.zeros(shape, dtype=dtype)
        if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
            raise fail(StreamErrorCode.NON_FINITE, name, "contains NaN or infinity")
        arrays[name] = (dtype_name, values)
        offset += nbytes
    if offset != len(body):
        raise fail(
            StreamErrorCode.TRAILING_BYTES,
            "message",
            f"{len(body) - offset} bytes after the last field",
        )
    return arrays


def read_wire_message(
    message: bytes | bytearray | memoryview, topic: bytes, max_fields: int
) -> WireMessage:
    """Split one message into header and arrays; ``topic`` must prefix it.

    Raises:
        StreamDecodeError: for every way the bytes can be wrong, and nothing else.
    """
    view = memoryview(message).cast("B")
    topic_len = len(topic)
    if len(view) < topic_len + HEADER_SIZE:
        if bytes(view[:topic_len]) != topic[: len(view)]:
            raise fail(StreamErrorCode.WRONG_TOPIC, "topic", "does not start with the topic")
        raise fail(
            StreamErrorCode.TRUNCATED,
            "header",
            f"{len(view)} bytes; topic + header alone are {topic_len + HEADER_SIZE}",
        )
    if bytes(view[:topic_len]) != topic:
        raise fail(StreamErrorCode.WRONG_TOPIC, "topic", f"expected {topic!r}")
    header = _parse_header(view[topic_len : topic_len + HEADER_SIZE])
    return WireMessage(header, _read_arrays(header, view[topic_len + HEADER_SIZE :], max_fields))


class FieldReader:
    """Typed access to a message's arrays with the refusals the protocols define."""

    def __init__(self, arrays: Mapping[str, tuple[str, npt.NDArray[Any]]], what: str) -> None:
        self._arrays = arrays
        self._what = what

    def has(self, name: str) -> bool:
        return name in self._arrays

    def first_present(self, *names: str) -> str | None:
        return next((n for n in names if n in self._arrays), None)

    def get(
        self, name: str, dtypes: frozenset[str], shapes: tuple[tuple[int, ...], ...]
    ) -> npt.NDArray[Any] | None:
        """The array if sent, checked against the allowed dtypes and shapes (-1: any >= 1)."""
        found = self._arrays.get(name)
        if found is None:
            return None
        dtype_name, values = found
        if dtype_name not in dtypes:
            raise fail(
                StreamErrorCode.BAD_DTYPE,
                name,
                f"{dtype_name}; expected {'/'.join(sorted(dtypes))}",
            )
        for shape in shapes:
            if len(shape) == values.ndim and all(
                want == got or (want == -1 and got >= 1)
                for want, got in zip(shape, values.shape, strict=True)
            ):
                return values
        wanted = " or ".join(str(list(s)).replace("-1", "N") for s in shapes)
        raise fail(
            StreamErrorCode.BAD_SHAPE, name, f"shape {list(values.shape)}, expected {wanted}"
        )

    def require(
        self, name: str, dtypes: frozenset[str], shapes: tuple[tuple[int, ...], ...]
    ) -> npt.NDArray[Any]:
        values = self.get(name, dtypes, shapes)
        if values is None:
            raise fail(StreamErrorCode.MISSING_FIELD, name, f"required by {self._what}")
        return values

    def flag(self, name: str) -> bool | None:
        """A boolean scalar (``bool``, ``u8`` or ``i32``, shape ``[]`` or ``[1]``), if sent."""
        values = self.get(name, FLAGS, ((), (1,)))
        return None if values is None else bool(values.reshape(()).item())

    def scalar(self, name: str) -> float | None:
        """A float scalar (shape ``[]`` or ``[1]``), if sent."""
        values = self.get(name, FLOATS, ((), (1,)))
        return None if values is None else float(values.reshape(()))


# ---------------------------------------------------------------------- writing


def pack_wire_message(
    topic: bytes, version: int, fields: Mapping[str, npt.ArrayLike], *, count: int = 1
) -> bytes:
    """Build a message the way SONIC's senders do (``count`` 1 whatever the frame count).

    Args:
        topic: the topic prefix.
        version: protocol version for the header (not checked: tests send bad ones).
        fields: name -> array, in wire order; dtypes must be one of the wire dtypes.
        count: the header's ``count``.

    Raises:
        ValueError: an unsupported dtype, or a header longer than ``HEADER_SIZE``.
    """
    specs: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    for name, value in fields.items():
        array = np.asarray(value)
        wire_name = _NAME_OF_KIND.get((array.dtype.kind, array.dtype.itemsize))
        if wire_name is None:
            raise ValueError(f"{name}: dtype {array.dtype} has no wire name")
        wire = np.ascontiguousarray(array, dtype=WIRE_DTYPES[wire_name])
        specs.append({"name": name, "dtype": wire_name, "shape": list(wire.shape)})
        chunks.append(wire.tobytes())
    header = json.dumps(
        {"v": version, "endian": "le", "count": count, "fields": specs}, separators=(",", ":")
    ).encode()
    if len(header) > HEADER_SIZE:
        raise ValueError(f"header too large: {len(header)} > {HEADER_SIZE} bytes")
    return topic + header.ljust(HEADER_SIZE, b"\0") + b"".join(chunks)
