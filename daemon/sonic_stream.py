"""SONIC-compatible streaming input (opt-in): the ZeroMQ ``pose`` protocol, versions 1, 3, 4.

Existing SONIC producers (PICO teleoperation, the webcam example, the VLA) publish on a PUB
socket they bind; we connect a SUB to it. Wire format, one single-part message::

    [topic b"pose"][1280-byte NUL-padded UTF-8 JSON header][raw little-endian arrays]

The header is ``{"v": VERSION, "endian": "le", "count": N, "fields": [{"name", "dtype",
"shape"}, ...]}`` with dtypes ``f32 f64 i32 i64 i16 f16 i8 u8 bool``; the arrays follow in
header order with no padding. Protocols (../shared/reference/sonic-deploy.md §1, SONIC's
``docs/source/tutorials/zmq.md``):

- v1: ``joint_pos``, ``joint_vel`` ``[N, 29]`` (IsaacLab joint order), ``body_quat`` ``[N, 4]``
  or ``[N, B, 4]`` (wxyz, body 0 the root), ``frame_index`` ``[N]``;
- v3: v1 plus ``smpl_joints`` ``[N, 24, 3]`` (root-local, Z-up) and ``smpl_pose`` ``[N, 21, 3]``
  (axis-angle; only the 6 wrist entries of ``joint_pos`` need to be meaningful);
- v4: ``token_state`` ``[64]`` (straight into the decoder), optional ``frame_index``,
  ``body_quat_w`` ``[4]``;
- any version, optional: ``left_hand_joints`` / ``right_hand_joints`` ``[7]`` (Dex3 rad),
  ``vr_position`` ``[9]``, ``vr_orientation`` ``[12]``, ``catch_up``, ``heading_increment``.

The frame count comes from the array shapes: SONIC's own Python sender writes ``"count": 1``
whatever it sends. Every refusal is a ``StreamDecodeError`` with a ``StreamErrorCode``; nothing
else escapes the decoder, whatever the bytes. ``SonicStreamDecoder`` keeps the protocol version
of the stream; a change mid-stream stops it (as SONIC does) until ``reset()``. Frames are meant
at 50 Hz, one per control tick, like SONIC's own consumption; nothing is resampled here.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt
import zmq
import zmq.asyncio
from zmq.auth.asyncio import AsyncioAuthenticator

from controller.embodiment.dex3 import HAND_Q_MAX, HAND_Q_MIN
from controller.embodiment.g1 import HW_TO_ISAAC, Q_MAX, Q_MIN
from daemon.curve import CurveConfig, load_server_keys, start_curve_server
from estimators.track import NUM_SMPL_JOINTS, ReferenceTrack

_LOG = logging.getLogger(__name__)

HEADER_SIZE = 1280
POSE_TOPIC = b"pose"
SUPPORTED_VERSIONS = (1, 3, 4)
NUM_ISAAC_JOINTS = 29
NUM_SMPL_POSE_JOINTS = 21
NUM_HAND_JOINTS = 7

F64 = npt.NDArray[np.float64]

_WIRE_DTYPES: dict[str, np.dtype[Any]] = {
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
_NAME_OF_KIND = {(d.kind, d.itemsize): name for name, d in _WIRE_DTYPES.items()}
_FLOATS = frozenset({"f32", "f64"})
_INTS = frozenset({"i32", "i64"})
_FLAGS = frozenset({"bool", "u8", "i32"})
_MAX_NDIM = 4
_MAX_ELEMENTS = 1 << 31
"""An empty field (a zero dimension) whose other dimensions multiply past this is refused: numpy
cannot shape even an empty array past its size limit (``np.zeros((0, 2**62))`` raises)."""


class StreamErrorCode(str, enum.Enum):
    """Stable reasons a streamed message is refused."""

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
    VERSION_CHANGED = "version_changed"
    """The protocol version changed mid-stream; streaming stopped."""
    STREAM_STOPPED = "stream_stopped"
    """A message after the stream was stopped (until ``reset``)."""


class StreamDecodeError(ValueError):
    """A streamed message was refused.

    Attributes:
        code: the stable reason.
        field: the offending field (``"header"``, ``"joint_pos"``, ``"message"``, ...).
        detail: a human-readable explanation.
    """

    def __init__(self, code: StreamErrorCode, field: str, detail: str) -> None:
        super().__init__(f"stream message refused [{code.value}] {field}: {detail}")
        self.code = code
        self.field = field
        self.detail = detail


@dataclass(frozen=True)
class StreamDecodeConfig:
    """Limits of the decoder."""

    topic: bytes = POSE_TOPIC
    token_dim: int = 64
    """``token_state`` length for v4 (SONIC's encoder output)."""
    max_frames: int = 500
    """Most frames in one message (10 s at 50 Hz)."""
    max_fields: int = 32
    quat_norm_tolerance: float = 0.1
    """Largest ``| |q| - 1 |`` accepted before normalising a quaternion."""

    def __post_init__(self) -> None:
        if not self.topic:
            raise ValueError("streaming topic must not be empty")
        if self.token_dim < 1 or self.max_frames < 1 or self.max_fields < 1:
            raise ValueError("token_dim, max_frames and max_fields must be >= 1")
        if not 0.0 < self.quat_norm_tolerance < 1.0:
            raise ValueError("quat_norm_tolerance must lie in (0, 1)")


@dataclass(frozen=True)
class PoseMessage:
    """One decoded message: ``n_frames`` frames (v1/v3) or one token (v4). Arrays are float64
    copies (own memory), joints in IsaacLab order as sent."""

    version: int
    n_frames: int
    """Frames of motion in this message (0 for v4)."""
    frame_index: npt.NDArray[np.int64]
    """(N,) for v1/v3; (0,) or (1,) for v4."""
    body_quat_wxyz: F64 | None
    """(N, 4) root quaternion, normalised; v4: (1, 4) from ``body_quat_w`` when sent."""
    joint_pos_isaac: F64 | None = None
    """(N, 29) rad, IsaacLab order."""
    joint_vel_isaac: F64 | None = None
    smpl_joints: F64 | None = None
    """(N, 24, 3) m, root-local, Z-up."""
    smpl_pose: F64 | None = None
    """(N, 21, 3) axis-angle."""
    token_state: F64 | None = None
    """(token_dim,) v4 only."""
    left_hand_q: F64 | None = None
    """(7,) Dex3 joint targets (rad), slot order."""
    right_hand_q: F64 | None = None
    vr_position: F64 | None = None
    """(3, 3) left wrist, right wrist, head (m)."""
    vr_orientation: F64 | None = None
    """(3, 4) wxyz for the same three points."""
    catch_up: bool | None = None
    heading_increment_rad: float | None = None
    header_count: int | None = None
    """The header's ``count`` as sent; not trusted (SONIC's sender always writes 1)."""


def _fail(code: StreamErrorCode, field_name: str, detail: str) -> StreamDecodeError:
    return StreamDecodeError(code, field_name, detail)


# ---------------------------------------------------------------------- header and arrays


def _parse_header(raw: memoryview) -> dict[str, Any]:
    text = bytes(raw).rstrip(b"\0")
    if b"\0" in text:
        raise _fail(StreamErrorCode.BAD_HEADER, "header", "NUL inside the JSON header")
    try:
        header = json.loads(text.decode("utf-8"))
    except (ValueError, RecursionError):
        raise _fail(StreamErrorCode.BAD_HEADER, "header", "not UTF-8 JSON") from None
    if not isinstance(header, dict):
        raise _fail(StreamErrorCode.BAD_HEADER, "header", "not a JSON object")
    return header


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_version(header: Mapping[str, Any]) -> int:
    version = header.get("v")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _fail(StreamErrorCode.BAD_HEADER, "header.v", f"{version!r:.20} is not an integer")
    if version not in SUPPORTED_VERSIONS:
        raise _fail(
            StreamErrorCode.UNSUPPORTED_VERSION,
            "header.v",
            f"protocol v{version}; supported: {', '.join(map(str, SUPPORTED_VERSIONS))}",
        )
    endian = header.get("endian", "le")
    if endian != "le":
        raise _fail(StreamErrorCode.BAD_ENDIAN, "header.endian", f"{endian!r}; only 'le'")
    return version


def _field_spec(entry: object, index: int) -> tuple[str, str, tuple[int, ...]]:
    where = f"header.fields[{index}]"
    if not isinstance(entry, dict):
        raise _fail(StreamErrorCode.BAD_HEADER, where, "not an object")
    name, dtype, shape = entry.get("name"), entry.get("dtype"), entry.get("shape")
    if not isinstance(name, str) or not 0 < len(name) <= 64:
        raise _fail(StreamErrorCode.BAD_HEADER, where, "name must be a string of 1-64 chars")
    if not isinstance(dtype, str):
        raise _fail(StreamErrorCode.BAD_HEADER, name, "dtype must be a string")
    if dtype not in _WIRE_DTYPES:
        raise _fail(StreamErrorCode.UNKNOWN_DTYPE, name, f"dtype {dtype[:16]!r}")
    if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
        raise _fail(StreamErrorCode.BAD_SHAPE, name, "shape must be a list of ints >= 0")
    if len(shape) > _MAX_NDIM:
        raise _fail(StreamErrorCode.BAD_SHAPE, name, f"more than {_MAX_NDIM} dimensions")
    return name, dtype, tuple(shape)


def _read_arrays(
    header: Mapping[str, Any], body: memoryview, config: StreamDecodeConfig
) -> dict[str, tuple[str, npt.NDArray[Any]]]:
    specs = header.get("fields")
    if not isinstance(specs, list):
        raise _fail(StreamErrorCode.BAD_HEADER, "header.fields", "missing or not a list")
    if len(specs) > config.max_fields:
        raise _fail(StreamErrorCode.BAD_HEADER, "header.fields", f"more than {config.max_fields}")
    arrays: dict[str, tuple[str, npt.NDArray[Any]]] = {}
    offset = 0
    for index, entry in enumerate(specs):
        name, dtype_name, shape = _field_spec(entry, index)
        if name in arrays:
            raise _fail(StreamErrorCode.DUPLICATE_FIELD, name, "named twice in the header")
        dtype = _WIRE_DTYPES[dtype_name]
        count = math.prod(shape)
        nbytes = count * dtype.itemsize
        if offset + nbytes > len(body):
            raise _fail(
                StreamErrorCode.TRUNCATED,
                name,
                f"header claims {offset + nbytes} body bytes, {len(body)} arrived",
            )
        if count:
            values = np.frombuffer(body, dtype=dtype, count=count, offset=offset).reshape(shape)
        elif math.prod(max(d, 1) for d in shape) > _MAX_ELEMENTS:
            raise _fail(StreamErrorCode.BAD_SHAPE, name, f"empty, yet {shape} is beyond any field")
        else:
            values = np.zeros(shape, dtype=dtype)
        if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
            raise _fail(StreamErrorCode.NON_FINITE, name, "contains NaN or infinity")
        arrays[name] = (dtype_name, values)
        offset += nbytes
    if offset != len(body):
        raise _fail(
            StreamErrorCode.TRAILING_BYTES,
            "message",
            f"{len(body) - offset} bytes after the last field",
        )
    return arrays


# ---------------------------------------------------------------------- per-field checks


class _Fields:
    """Typed access to the decoded arrays with the refusals the protocols define."""

    def __init__(self, arrays: dict[str, tuple[str, npt.NDArray[Any]]], version: int) -> None:
        self._arrays = arrays
        self._version = version

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
            raise _fail(
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
        raise _fail(
            StreamErrorCode.BAD_SHAPE, name, f"shape {list(values.shape)}, expected {wanted}"
        )

    def require(
        self, name: str, dtypes: frozenset[str], shapes: tuple[tuple[int, ...], ...]
    ) -> npt.NDArray[Any]:
        values = self.get(name, dtypes, shapes)
        if values is None:
            raise _fail(
                StreamErrorCode.MISSING_FIELD, name, f"required by protocol v{self._version}"
            )
        return values


def _f64(values: npt.NDArray[Any] | None) -> F64 | None:
    return None if values is None else np.array(values, dtype=np.float64)


def _unit_quats(name: str, quats: F64, tolerance: float) -> F64:
    norms: F64 = np.linalg.norm(quats, axis=-1, keepdims=True)
    if np.any(np.abs(norms - 1.0) > tolerance):
        worst = float(np.abs(norms - 1.0).max())
        raise _fail(StreamErrorCode.NOT_A_QUATERNION, name, f"norm off by {worst:.3f} from 1")
    unit: F64 = quats / norms
    return unit


def _frame_count(fields: _Fields, version: int, config: StreamDecodeConfig) -> int:
    joint_pos = fields.require("joint_pos", _FLOATS, ((-1, NUM_ISAAC_JOINTS),))
    n = int(joint_pos.shape[0])
    if n > config.max_frames:
        raise _fail(StreamErrorCode.TOO_MANY_FRAMES, "joint_pos", f"{n} > {config.max_frames}")
    per_frame: list[tuple[str, tuple[int, ...]]] = [("joint_vel", (NUM_ISAAC_JOINTS,))]
    if version == 3:
        per_frame += [
            ("smpl_joints", (NUM_SMPL_JOINTS, 3)),
            ("smpl_pose", (NUM_SMPL_POSE_JOINTS, 3)),
        ]
    for name, tail in per_frame:
        values = fields.require(name, _FLOATS, ((-1, *tail),))
        if values.shape[0] != n:
            raise _fail(
                StreamErrorCode.BAD_SHAPE,
                name,
                f"{values.shape[0]} frames, joint_pos has {n} (frame counts must match)",
            )
    return n


def _hand(fields: _Fields, name: str) -> F64 | None:
    values = fields.get(name, _FLOATS, ((NUM_HAND_JOINTS,), (1, NUM_HAND_JOINTS)))
    return None if values is None else np.array(values, dtype=np.float64).reshape(NUM_HAND_JOINTS)


def _scalar(fields: _Fields, name: str, dtypes: frozenset[str]) -> npt.NDArray[Any] | None:
    return fields.get(name, dtypes, ((), (1,)))


def decode_pose_message(
    message: bytes | bytearray | memoryview, config: StreamDecodeConfig | None = None
) -> PoseMessage:
    """Decode and check one message (stateless; see ``SonicStreamDecoder`` for a stream).

    Raises:
        StreamDecodeError: for every way the message can be wrong, and nothing else.
    """
    cfg = config or StreamDecodeConfig()
    view = memoryview(message).cast("B")
    topic_len = len(cfg.topic)
    if len(view) < topic_len + HEADER_SIZE:
        if bytes(view[:topic_len]) != cfg.topic[: len(view)]:
            raise _fail(StreamErrorCode.WRONG_TOPIC, "topic", "does not start with the topic")
        raise _fail(
            StreamErrorCode.TRUNCATED,
            "header",
            f"{len(view)} bytes; topic + header alone are {topic_len + HEADER_SIZE}",
        )
    if bytes(view[:topic_len]) != cfg.topic:
        raise _fail(StreamErrorCode.WRONG_TOPIC, "topic", f"expected {cfg.topic!r}")
    header = _parse_header(view[topic_len : topic_len + HEADER_SIZE])
    version = _parse_version(header)
    fields = _Fields(_read_arrays(header, view[topic_len + HEADER_SIZE :], cfg), version)
    count = header.get("count")
    common: dict[str, Any] = {
        "version": version,
        "left_hand_q": _hand(fields, "left_hand_joints"),
        "right_hand_q": _hand(fields, "right_hand_joints"),
        "header_count": count if _is_int(count) else None,
    }
    vr_pos = fields.get("vr_position", _FLOATS, ((9,), (3, 3)))
    vr_orn = fields.get("vr_orientation", _FLOATS, ((12,), (3, 4)))
    common["vr_position"] = None if vr_pos is None else _f64(vr_pos.reshape(3, 3))
    common["vr_orientation"] = None if vr_orn is None else _f64(vr_orn.reshape(3, 4))
    catch_up = _scalar(fields, "catch_up", _FLAGS)
    common["catch_up"] = None if catch_up is None else bool(catch_up.reshape(()).item())
    heading = _scalar(fields, "heading_increment", _FLOATS)
    common["heading_increment_rad"] = None if heading is None else float(heading.reshape(()))
    if version == 4:
        return _decode_tokens(fields, cfg, common)
    n = _frame_count(fields, version, cfg)
    index_name = fields.first_present("frame_index", "last_smpl_global_frames") or "frame_index"
    frame_index = fields.require(index_name, _INTS, ((n,),))
    quat_name = fields.first_present("body_quat", "body_quat_w") or "body_quat"
    quats = fields.require(quat_name, _FLOATS, ((n, 4), (n, -1, 4)))
    root = np.array(quats if quats.ndim == 2 else quats[:, 0, :], dtype=np.float64)
    return PoseMessage(
        n_frames=n,
        frame_index=np.array(frame_index, dtype=np.int64),
        body_quat_wxyz=_unit_quats(quat_name, root, cfg.quat_norm_tolerance),
        joint_pos_isaac=_f64(fields.get("joint_pos", _FLOATS, ((n, NUM_ISAAC_JOINTS),))),
        joint_vel_isaac=_f64(fields.get("joint_vel", _FLOATS, ((n, NUM_ISAAC_JOINTS),))),
        smpl_joints=_f64(fields.get("smpl_joints", _FLOATS, ((n, NUM_SMPL_JOINTS, 3),))),
        smpl_pose=_f64(fields.get("smpl_pose", _FLOATS, ((n, NUM_SMPL_POSE_JOINTS, 3),))),
        **common,
    )


def _decode_tokens(fields: _Fields, cfg: StreamDecodeConfig, common: dict[str, Any]) -> PoseMessage:
    tokens = fields.require("token_state", _FLOATS, ((cfg.token_dim,), (1, cfg.token_dim)))
    frame_index = fields.get("frame_index", _INTS, ((1,), ()))
    quat = fields.get("body_quat_w", _FLOATS, ((4,), (1, 4)))
    return PoseMessage(
        n_frames=0,
        frame_index=np.array(frame_index if frame_index is not None else (), np.int64).reshape(-1),
        body_quat_wxyz=None
        if quat is None
        else _unit_quats(
            "body_quat_w", np.array(quat, np.float64).reshape(1, 4), cfg.quat_norm_tolerance
        ),
        token_state=np.array(tokens, dtype=np.float64).reshape(cfg.token_dim),
        **common,
    )


class SonicStreamDecoder:
    """Decodes a stream's messages and holds it to one protocol version.

    The first accepted message fixes the version. A message with another version raises
    ``VERSION_CHANGED`` and stops the stream: every later message raises ``STREAM_STOPPED``
    until ``reset()`` (an operator's decision, as SONIC requires one to re-enable streaming).
    """

    def __init__(self, config: StreamDecodeConfig | None = None) -> None:
        self._config = config or StreamDecodeConfig()
        self._version: int | None = None
        self._is_stopped = False

    @property
    def version(self) -> int | None:
        return self._version

    @property
    def is_stopped(self) -> bool:
        return self._is_stopped

    def reset(self) -> None:
        """Forget the version and resume (the next message fixes the version again)."""
        self._version = None
        self._is_stopped = False

    def decode(self, message: bytes | bytearray | memoryview) -> PoseMessage:
        """Raises ``StreamDecodeError``."""
        if self._is_stopped:
            raise _fail(
                StreamErrorCode.STREAM_STOPPED, "message", "stream stopped; reset to resume"
            )
        decoded = decode_pose_message(message, self._config)
        if self._version is None:
            self._version = decoded.version
        elif decoded.version != self._version:
            self._is_stopped = True
            raise _fail(
                StreamErrorCode.VERSION_CHANGED,
                "header.v",
                f"protocol version changed from {self._version} to {decoded.version} during an "
                "active stream; streaming stopped",
            )
        return decoded


# ---------------------------------------------------------------------- producer (tests, tools)


def pack_pose_message(
    version: int,
    fields: Mapping[str, npt.ArrayLike],
    *,
    topic: bytes = POSE_TOPIC,
    count: int = 1,
) -> bytes:
    """Build a message the way SONIC's ``pack_pose_message()`` does (``count`` 1 by default).

    Args:
        version: protocol version for the header (not checked: tests send bad ones).
        fields: name -> array, in wire order; dtypes must be one of the wire dtypes.
        topic: the topic prefix.
        count: the header's ``count`` (SONIC writes 1 whatever the frame count).

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
        wire = np.ascontiguousarray(array, dtype=_WIRE_DTYPES[wire_name])
        specs.append({"name": name, "dtype": wire_name, "shape": list(wire.shape)})
        chunks.append(wire.tobytes())
    header = json.dumps(
        {"v": version, "endian": "le", "count": count, "fields": specs}, separators=(",", ":")
    ).encode()
    if len(header) > HEADER_SIZE:
        raise ValueError(f"header too large: {len(header)} > {HEADER_SIZE} bytes")
    return topic + header.ljust(HEADER_SIZE, b"\0") + b"".join(chunks)


# ---------------------------------------------------------------------- frames -> track rows


def _hand_state(hand_q: F64) -> npt.NDArray[np.int8]:
    from estimators.hands.dex3_targets import DEX3_PRESETS

    distance = np.linalg.norm(DEX3_PRESETS - hand_q[None], axis=-1)  # (3, 2)
    return np.asarray(np.argmin(distance, axis=0), dtype=np.int8)


def pose_message_to_track(
    message: PoseMessage,
    *,
    last_hand_q: F64 | None = None,
    package_id: str = "sonic-stream",
) -> ReferenceTrack:
    """Turn a v1/v3 message's frames into rows of a 50 Hz ``ReferenceTrack``.

    ``q_hw`` is ``joint_pos`` reordered IsaacLab -> hardware and clamped to the G1 limits (for
    v3 only the wrists are meaningful: feed such rows to the SONIC policy in SMPL mode, not to
    the PD tracker); ``dq_hw`` from ``joint_vel``; the root quaternion as sent; SMPL joints from
    v3 (zeros for v1, whose G1 mode does not use them); Dex3 targets from the hand joints,
    clamped to each hand's limits, the same for every row of the message.

    Args:
        message: a decoded v1 or v3 message.
        last_hand_q: (2, 7) targets to keep for a hand the message does not mention; open
            hands when None.
        package_id: the track's name in logs and telemetry.

    Raises:
        ValueError: a v4 message (tokens, not motion frames).
    """
    if message.joint_pos_isaac is None or message.body_quat_wxyz is None:
        raise ValueError(f"protocol v{message.version} carries no motion frames")
    n = message.n_frames
    q_hw = np.clip(message.joint_pos_isaac[:, HW_TO_ISAAC], Q_MIN, Q_MAX)
    dq_hw = None if message.joint_vel_isaac is None else message.joint_vel_isaac[:, HW_TO_ISAAC]
    hands = np.zeros((2, NUM_HAND_JOINTS)) if last_hand_q is None else np.array(last_hand_q)
    for row, sent in enumerate((message.left_hand_q, message.right_hand_q)):
        if sent is not None:
            hands[row] = sent
    hands = np.clip(hands, HAND_Q_MIN, HAND_Q_MAX)
    smpl = (
        message.smpl_joints
        if message.smpl_joints is not None
        else np.zeros((n, NUM_SMPL_JOINTS, 3))
    )
    return ReferenceTrack(
        q_hw=q_hw,
        hand_q=np.broadcast_to(hands, (n, 2, NUM_HAND_JOINTS)).copy(),
        hand_state=np.broadcast_to(_hand_state(hands), (n, 2)).copy(),
        smpl_joints_local=np.array(smpl, dtype=np.float64),
        root_quat_wxyz=np.array(message.body_quat_wxyz, dtype=np.float64),
        package_id=package_id,
        dq_hw=dq_hw,
    )


# ---------------------------------------------------------------------- SUB adapter


@dataclass(frozen=True)
class SonicStreamConfig:
    """Where the producer is and how the subscriber behaves."""

    endpoint: str = "tcp://127.0.0.1:5556"
    """The producer's PUB endpoint (producers bind; SONIC's default port is 5556)."""
    receive_hwm: int = 8
    """Small: a backlog of old frames is worse than a gap (the supervisor holds on a gap)."""
    max_message_bytes: int = 4 * 1024 * 1024
    """``ZMQ_MAXMSGSIZE``: a larger message drops the connection (it reconnects)."""
    decode: StreamDecodeConfig = field(default_factory=StreamDecodeConfig)
    curve: CurveConfig | None = None
    """CURVE with a producer allow-list: the SUB is the CURVE server (it holds the robot's
    secret key) although it connects, so only producers whose public key is listed, and who
    know the robot's public key, get a frame through. SONIC's own producers speak plaintext;
    they need CURVE client keys set on their PUB before this can be used with them."""

    def __post_init__(self) -> None:
        if not self.endpoint.startswith(("tcp://", "ipc://", "inproc://")):
            raise ValueError(f"streaming endpoint {self.endpoint!r}: use tcp://, ipc://, inproc://")
        if self.receive_hwm < 1 or self.max_message_bytes < HEADER_SIZE:
            raise ValueError("receive_hwm must be >= 1 and max_message_bytes >= 1280")


class SonicStreamSubscriber:
    """SUB socket connected to a SONIC producer; decoded messages go to ``on_message``.

    Async context manager; it owns one task (``sonic-stream-recv``). CONFLATE stays off: a
    message carries a batch of frames, and conflating would drop whole batches. A refused
    message goes to ``on_error`` (and the log) and the stream continues, except a protocol
    version change, which stops it until ``resume()``. An exception raised by ``on_message``
    ends the task (the stream then goes stale, which the supervisor treats as a fault) and is
    re-raised on exit.
    """

    def __init__(
        self,
        *,
        config: SonicStreamConfig,
        on_message: Callable[[PoseMessage], None],
        on_error: Callable[[StreamDecodeError], None] | None = None,
        context: zmq.asyncio.Context | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """Args:
        config: endpoint, limits, decoder settings, CURVE.
        on_message: called on the event loop for each accepted message; must not block.
        on_error: called for each refused message (not for those dropped after a stop).
        context: ZeroMQ context (default: the process-wide instance; with CURVE, one of the
            subscriber's own, so its ZAP handler applies to this socket alone).
        environ: where ``CREDENTIALS_DIRECTORY`` is looked up (default ``os.environ``).
        """
        self._config = config
        self._on_message = on_message
        self._on_error = on_error
        self._owns_context = context is None and config.curve is not None
        if context is not None:
            self._context = context
        elif self._owns_context:
            self._context = zmq.asyncio.Context()
        else:
            self._context = zmq.asyncio.Context.instance()
        self._environ = os.environ if environ is None else environ
        self._auth: AsyncioAuthenticator | None = None
        self._decoder = SonicStreamDecoder(config.decode)
        self._socket: zmq.asyncio.Socket | None = None
        self._task: asyncio.Task[None] | None = None
        self.messages = 0
        self.refused = 0
        self.dropped_while_stopped = 0
        self.last_message_monotonic_s: float | None = None

    @property
    def version(self) -> int | None:
        return self._decoder.version

    @property
    def is_stopped(self) -> bool:
        """True after a protocol version change, until ``resume()``."""
        return self._decoder.is_stopped

    def resume(self) -> None:
        """Accept the stream again; the next message fixes the protocol version."""
        self._decoder.reset()

    def last_message_age_s(self) -> float:
        """Seconds since the last accepted message (infinity before the first)."""
        if self.last_message_monotonic_s is None:
            return math.inf
        return time.monotonic() - self.last_message_monotonic_s

    async def __aenter__(self) -> SonicStreamSubscriber:
        """Connect. Raises ``CurveKeyError`` when a configured key cannot be read."""
        curve = self._config.curve
        keys = load_server_keys(curve, self._environ) if curve is not None else None
        sock = self._context.socket(zmq.SUB)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.CONFLATE, 0)
        sock.setsockopt(zmq.RCVHWM, self._config.receive_hwm)
        sock.setsockopt(zmq.MAXMSGSIZE, self._config.max_message_bytes)
        sock.setsockopt(zmq.SUBSCRIBE, self._config.decode.topic)
        try:
            if keys is not None:
                self._auth = start_curve_server(self._context, sock, keys)
            sock.connect(self._config.endpoint)
        except zmq.ZMQError:
            sock.close(linger=0)
            self._close_auth()
            raise
        self._socket = sock
        self._task = asyncio.create_task(self._receive(sock), name="sonic-stream-recv")
        _LOG.info("SONIC stream input connected to %s", self._config.endpoint)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        task, self._task = self._task, None
        failure: BaseException | None = None
        if task is not None:
            task.cancel()
            await asyncio.wait([task])
            failure = None if task.cancelled() else task.exception()
        if self._socket is not None:
            self._socket.close(linger=0)
            self._socket = None
        self._close_auth()
        if failure is not None and exc is None:
            raise failure

    def _close_auth(self) -> None:
        if self._auth is not None:
            self._auth.stop()
            self._auth = None
        if self._owns_context:
            self._context.term()

    async def _receive(self, sock: zmq.asyncio.Socket) -> None:
        while True:
            frame = await sock.recv(copy=False)
            try:
                message = self._decoder.decode(frame.buffer)
            except StreamDecodeError as error:
                self._refuse(error)
                continue
            self.messages += 1
            self.last_message_monotonic_s = time.monotonic()
            self._on_message(message)

    def _refuse(self, error: StreamDecodeError) -> None:
        if error.code is StreamErrorCode.STREAM_STOPPED:
            self.dropped_while_stopped += 1
            return
        self.refused += 1
        level = logging.ERROR if error.code is StreamErrorCode.VERSION_CHANGED else logging.WARNING
        # One bad producer at 50 Hz must not flood the journal: the first refusals, then 1/100.
        if self.refused <= 10 or self.refused % 100 == 0 or level == logging.ERROR:
            _LOG.log(
                level,
                "SONIC stream message refused (%d so far): %s",
                self.refused,
                error,
                extra={"CAUSE": error.code.value},
            )
        if self._on_error is not None:
            self._on_error(error)
