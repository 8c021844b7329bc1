"""Generated SONIC ``pose`` stream messages: valid v1/v3/v4 messages, then hostile edits.

Seeds are built with ``pack_pose_message`` (which mirrors SONIC's own sender) for every protocol
version, with and without the optional fields. Each input is a seed after one of: edits of the
JSON header (wrong types, unknown dtypes, shapes with huge, zero or negative dimensions,
versions 0/2/5/"1"/1.0/true/10**30, big-endian, thousands of fields), spliced literals and
invalid UTF-8 or NUL inside the 1,280-byte header, body edits (NaN and infinite floats, zero
quaternions, truncation, trailing bytes), or a wrong topic / cut at a random point.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import numpy as np
import numpy.typing as npt

from daemon.inputs.stream_messages import pack_pose_message
from daemon.inputs.stream_wire import HEADER_SIZE, POSE_TOPIC
from tests.fuzz.mutate import HOSTILE_JSON_TOKENS, byte_edits, edit_tree, splice_token

_RNG = np.random.default_rng(5)


def _quats(n: int) -> npt.NDArray[np.float32]:
    q = _RNG.normal(size=(n, 4))
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


def _v1(n: int) -> dict[str, npt.NDArray[Any]]:
    return {
        "joint_pos": _RNG.uniform(-0.5, 0.5, (n, 29)).astype(np.float32),
        "joint_vel": _RNG.uniform(-1, 1, (n, 29)).astype(np.float32),
        "body_quat": _quats(n),
        "frame_index": np.arange(n, dtype=np.int64),
    }


def _seeds() -> list[bytes]:
    v3 = _v1(3)
    v3["smpl_joints"] = _RNG.normal(0, 0.3, (3, 24, 3)).astype(np.float32)
    v3["smpl_pose"] = _RNG.normal(0, 0.2, (3, 21, 3)).astype(np.float32)
    v1_extra = _v1(2)
    v1_extra["left_hand_joints"] = np.full(7, 0.1, dtype=np.float32)
    v1_extra["vr_position"] = np.zeros(9, dtype=np.float32)
    v1_extra["vr_orientation"] = np.tile(np.array([1, 0, 0, 0], np.float32), 3)
    v1_extra["catch_up"] = np.array([1], dtype=np.uint8)
    v1_extra["heading_increment"] = np.array([0.1], dtype=np.float64)
    v4 = {
        "token_state": _RNG.normal(size=64).astype(np.float32),
        "frame_index": np.array([7], dtype=np.int64),
        "body_quat_w": _quats(1)[0],
    }
    return [
        pack_pose_message(1, _v1(1)),
        pack_pose_message(1, _v1(4)),
        pack_pose_message(1, v1_extra),
        pack_pose_message(3, v3),
        pack_pose_message(4, v4),
    ]


SEEDS = _seeds()
_TOPIC_LEN = len(POSE_TOPIC)


def _split(message: bytes) -> tuple[dict[str, Any], bytes]:
    header = message[_TOPIC_LEN : _TOPIC_LEN + HEADER_SIZE].rstrip(b"\0")
    return json.loads(header), message[_TOPIC_LEN + HEADER_SIZE :]


def _header_value(rng: random.Random) -> Any:
    choice = rng.randrange(10)
    if choice == 0:
        return rng.choice((0, 2, 5, "1", 1.0, True, 10**30, -1, None))
    if choice == 1:
        return rng.choice(("f32", "f64", "i8", "u8", "bool", "f16", "i64", "c64", "", "F32"))
    if choice == 2:
        return [
            rng.choice((0, 1, 4, 29, 2**31, 2**62, 2**63, 10**30, -1))
            for _ in range(rng.randrange(0, 6))
        ]
    if choice == 3:
        return rng.choice(("le", "be", "", None))
    if choice == 4:
        return {"name": rng.choice(("joint_pos", "x" * 65, "")), "dtype": "f32", "shape": [1]}
    if choice == 5:
        return [{"name": f"f{i}", "dtype": "u8", "shape": [0]} for i in range(rng.choice((33, 40)))]
    if choice == 6:
        return [1.5, "2", True]
    if choice == 7:
        return {}
    if choice == 8:
        return rng.choice(("joint_pos", "token_state", "body_quat", "frame_index", "catch_up"))
    return []


def _header_edit(rng: random.Random) -> bytes:
    header, body = _split(rng.choice(SEEDS))
    header = copy.deepcopy(header)
    for _ in range(rng.randrange(1, 4)):
        header = edit_tree(rng, header, _header_value)
    text = json.dumps(header, allow_nan=True)
    if rng.random() < 0.3:
        text = splice_token(rng, text, HOSTILE_JSON_TOKENS)
    raw = text.encode("utf-8", "surrogatepass")[:HEADER_SIZE]
    if rng.random() < 0.2:
        raw = byte_edits(rng, raw)[:HEADER_SIZE]
    return POSE_TOPIC + raw.ljust(HEADER_SIZE, b"\0") + body


def _body_edit(rng: random.Random) -> bytes:
    seed = rng.choice(SEEDS)
    head, body = seed[: _TOPIC_LEN + HEADER_SIZE], bytearray(seed[_TOPIC_LEN + HEADER_SIZE :])
    if rng.random() < 0.6 and len(body) >= 4:
        special = rng.choice((float("nan"), float("inf"), -float("inf"), 0.0, 1e30, -7.0))
        for _ in range(rng.randrange(1, 8)):
            at = rng.randrange(0, len(body) - 3) & ~3
            body[at : at + 4] = np.float32(special).tobytes()
        return head + bytes(body)
    return head + byte_edits(rng, bytes(body))


def sonic_input(rng: random.Random) -> bytes:
    """One generated stream message."""
    choice = rng.randrange(10)
    if choice < 5:
        return _header_edit(rng)
    if choice < 8:
        return _body_edit(rng)
    seed = rng.choice(SEEDS)
    if choice == 8:
        return seed[: rng.randrange(len(seed))]
    return rng.choice((b"", b"pos", b"POSE", b"state")) + seed[_TOPIC_LEN:]
