"""What SONIC producers send, decoded: ``pose`` frames (protocols 1, 3, 4) and ``command``s.

Pose protocols (../shared/reference/sonic-deploy.md §1, SONIC's ``docs/source/tutorials/zmq.md``):

- v1: ``joint_pos``, ``joint_vel`` ``[N, 29]`` (IsaacLab joint order), ``body_quat`` ``[N, 4]``
  or ``[N, B, 4]`` (wxyz, body 0 the root), ``frame_index`` ``[N]``;
- v3: v1 plus ``smpl_joints`` ``[N, 24, 3]`` (root-local, Z-up) and ``smpl_pose`` ``[N, 21, 3]``
  (axis-angle; only the 6 wrist entries of ``joint_pos`` need to be meaningful);
- v4: ``token_state`` ``[64]`` (straight into the decoder), optional ``frame_index``,
  ``body_quat_w`` ``[4]``;
- any version, optional: ``left_hand_joints`` / ``right_hand_joints`` ``[7]`` (Dex3 rad),
  ``vr_position`` ``[9]``, ``vr_orientation`` ``[12]``, ``catch_up``, ``heading_increment``.

The frame count comes from the array shapes: SONIC's own Python sender writes ``"count": 1``
whatever it sends. A ``command`` message (SONIC's ``zmq_manager``) carries ``start``, ``stop``
and ``planner`` flags (``u8``/``bool``/``i32``, shape ``[1]``) and an optional
``delta_heading`` (f32, rad); its header version is not checked (SONIC's sender writes 1).
Decoding is stateless: which version a *stream* may use is ``daemon.inputs.stream_session``'s job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from daemon.inputs.stream_wire import (
    COMMAND_TOPIC,
    FLOATS,
    INTS,
    POSE_TOPIC,
    FieldReader,
    StreamDecodeConfig,
    StreamDecodeError,
    StreamErrorCode,
    fail,
    is_int,
    pack_wire_message,
    read_wire_message,
)

SUPPORTED_VERSIONS = (1, 3, 4)
NUM_ISAAC_JOINTS = 29
NUM_SMPL_JOINTS = 24
NUM_SMPL_POSE_JOINTS = 21
NUM_HAND_JOINTS = 7

F64 = npt.NDArray[np.float64]

__all__ = ["PoseMessage", "ProducerCommand", "StreamDecodeError", "StreamErrorCode"]


@dataclass(frozen=True)
class PoseMessage:
    """One decoded message: ``n_frames`` frames (v1/v3) or one token (v4). Arrays are float64
    copies (own memory), joints in IsaacLab order as sent."""

    version: int
    n_frames: int
    """Frames of motion in this message (v4: 1, the token)."""
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
    """(3, 3) left wrist, right wrist, head (m). Parsed, not used: this runtime drives no VR
    3-point (teleop) encoder mode."""
    vr_orientation: F64 | None = None
    """(3, 4) wxyz for the same three points (parsed, not used)."""
    catch_up: bool | None = None
    heading_increment_rad: float | None = None
    header_count: int | None = None
    """The header's ``count`` as sent; not trusted (SONIC's sender always writes 1)."""


@dataclass(frozen=True)
class ProducerCommand:
    """SONIC's ``command`` topic: start / stop control, planner on/off, a heading nudge."""

    start: bool
    stop: bool
    planner: bool
    delta_heading_rad: float | None = None


def _f64(values: npt.NDArray[Any] | None) -> F64 | None:
    return None if values is None else np.array(values, dtype=np.float64)


def _unit_quats(name: str, quats: F64, tolerance: float) -> F64:
    norms: F64 = np.linalg.norm(quats, axis=-1, keepdims=True)
    if np.any(np.abs(norms - 1.0) > tolerance):
        worst = float(np.abs(norms - 1.0).max())
        raise fail(StreamErrorCode.NOT_A_QUATERNION, name, f"norm off by {worst:.3f} from 1")
    unit: F64 = quats / norms
    return unit


def _parse_version(header: Mapping[str, Any]) -> int:
    version = header.get("v")
    if not isinstance(version, int) or isinstance(version, bool):
        raise fail(StreamErrorCode.BAD_HEADER, "header.v", f"{version!r:.20} is not an integer")
    if version not in SUPPORTED_VERSIONS:
        raise fail(
            StreamErrorCode.UNSUPPORTED_VERSION,
            "header.v",
            f"protocol v{version}; supported: {', '.join(map(str, SUPPORTED_VERSIONS))}",
        )
    return version


def _frame_count(fields: FieldReader, version: int, config: StreamDecodeConfig) -> int:
    joint_pos = fields.require("joint_pos", FLOATS, ((-1, NUM_ISAAC_JOINTS),))
    n = int(joint_pos.shape[0])
    if n > config.max_frames:
        raise fail(StreamErrorCode.TOO_MANY_FRAMES, "joint_pos", f"{n} > {config.max_frames}")
    per_frame: list[tuple[str, tuple[int, ...]]] = [("joint_vel", (NUM_ISAAC_JOINTS,))]
    if version == 3:
        per_frame += [
            ("smpl_joints", (NUM_SMPL_JOINTS, 3)),
            ("smpl_pose", (NUM_SMPL_POSE_JOINTS, 3)),
        ]
    for name, tail in per_frame:
        values = fields.require(name, FLOATS, ((-1, *tail),))
        if values.shape[0] != n:
            raise fail(
                StreamErrorCode.BAD_SHAPE,
                name,
                f"{values.shape[0]} frames, joint_pos has {n} (frame counts must match)",
            )
    return n


def _hand(fields: FieldReader, name: str) -> F64 | None:
    values = fields.get(name, FLOATS, ((NUM_HAND_JOINTS,), (1, NUM_HAND_JOINTS)))
    return None if values is None else np.array(values, dtype=np.float64).reshape(NUM_HAND_JOINTS)


def decode_pose_message(
    message: bytes | bytearray | memoryview, config: StreamDecodeConfig | None = None
) -> PoseMessage:
    """Decode and check one ``pose`` message.

    Raises:
        StreamDecodeError: for every way the message can be wrong, and nothing else.
    """
    cfg = config or StreamDecodeConfig()
    wire = read_wire_message(message, cfg.topic, cfg.max_fields)
    version = _parse_version(wire.header)
    fields = FieldReader(wire.arrays, f"protocol v{version}")
    count = wire.header.get("count")
    vr_pos = fields.get("vr_position", FLOATS, ((9,), (3, 3)))
    vr_orn = fields.get("vr_orientation", FLOATS, ((12,), (3, 4)))
    common: dict[str, Any] = {
        "version": version,
        "left_hand_q": _hand(fields, "left_hand_joints"),
        "right_hand_q": _hand(fields, "right_hand_joints"),
        "header_count": count if is_int(count) else None,
        "vr_position": None if vr_pos is None else _f64(vr_pos.reshape(3, 3)),
        "vr_orientation": None if vr_orn is None else _f64(vr_orn.reshape(3, 4)),
        "catch_up": fields.flag("catch_up"),
        "heading_increment_rad": fields.scalar("heading_increment"),
    }
    if version == 4:
        return _decode_tokens(fields, cfg, common)
    n = _frame_count(fields, version, cfg)
    index_name = fields.first_present("frame_index", "last_smpl_global_frames") or "frame_index"
    frame_index = fields.require(index_name, INTS, ((n,),))
    quat_name = fields.first_present("body_quat", "body_quat_w") or "body_quat"
    quats = fields.require(quat_name, FLOATS, ((n, 4), (n, -1, 4)))
    root = np.array(quats if quats.ndim == 2 else quats[:, 0, :], dtype=np.float64)
    return PoseMessage(
        n_frames=n,
        frame_index=np.array(frame_index, dtype=np.int64),
        body_quat_wxyz=_unit_quats(quat_name, root, cfg.quat_norm_tolerance),
        joint_pos_isaac=_f64(fields.get("joint_pos", FLOATS, ((n, NUM_ISAAC_JOINTS),))),
        joint_vel_isaac=_f64(fields.get("joint_vel", FLOATS, ((n, NUM_ISAAC_JOINTS),))),
        smpl_joints=_f64(fields.get("smpl_joints", FLOATS, ((n, NUM_SMPL_JOINTS, 3),))),
        smpl_pose=_f64(fields.get("smpl_pose", FLOATS, ((n, NUM_SMPL_POSE_JOINTS, 3),))),
        **common,
    )


def _decode_tokens(
    fields: FieldReader, cfg: StreamDecodeConfig, common: dict[str, Any]
) -> PoseMessage:
    tokens = fields.require("token_state", FLOATS, ((cfg.token_dim,), (1, cfg.token_dim)))
    frame_index = fields.get("frame_index", INTS, ((1,), ()))
    quat = fields.get("body_quat_w", FLOATS, ((4,), (1, 4)))
    return PoseMessage(
        n_frames=1,
        frame_index=np.array(frame_index if frame_index is not None else (), np.int64).reshape(-1),
        body_quat_wxyz=None
        if quat is None
        else _unit_quats(
            "body_quat_w", np.array(quat, np.float64).reshape(1, 4), cfg.quat_norm_tolerance
        ),
        token_state=np.array(tokens, dtype=np.float64).reshape(cfg.token_dim),
        **common,
    )


def decode_command_message(
    message: bytes | bytearray | memoryview, config: StreamDecodeConfig | None = None
) -> ProducerCommand:
    """Decode one ``command`` message (all of ``start``, ``stop``, ``planner`` required, as
    SONIC's manager requires them).

    Raises:
        StreamDecodeError: for every way the message can be wrong, and nothing else.
    """
    cfg = config or StreamDecodeConfig()
    wire = read_wire_message(message, cfg.command_topic, cfg.max_fields)
    fields = FieldReader(wire.arrays, "the command topic")
    flags = {}
    for name in ("start", "stop", "planner"):
        value = fields.flag(name)
        if value is None:
            raise fail(StreamErrorCode.MISSING_FIELD, name, "required by the command topic")
        flags[name] = value
    return ProducerCommand(**flags, delta_heading_rad=fields.scalar("delta_heading"))


def pack_pose_message(
    version: int,
    fields: Mapping[str, npt.ArrayLike],
    *,
    topic: bytes = POSE_TOPIC,
    count: int = 1,
) -> bytes:
    """A ``pose`` message as SONIC's ``pack_pose_message()`` builds it (tests, tools)."""
    return pack_wire_message(topic, version, fields, count=count)


def pack_command_message(
    *,
    start: bool,
    stop: bool,
    planner: bool,
    delta_heading_rad: float | None = None,
    topic: bytes = COMMAND_TOPIC,
) -> bytes:
    """A ``command`` message as SONIC's ``build_command_message()`` builds it (u8 flags)."""
    fields: dict[str, npt.ArrayLike] = {
        "start": np.array([start], np.uint8),
        "stop": np.array([stop], np.uint8),
        "planner": np.array([planner], np.uint8),
    }
    if delta_heading_rad is not None:
        fields["delta_heading"] = np.array([delta_heading_rad], np.float32)
    return pack_wire_message(topic, 1, fields)
