"""A stand-in SONIC producer for tests: the fields v1/v3/v4 producers send, and a PUB helper.

Faked on purpose: no SONIC teleop, webcam or VLA producer runs here. The messages are built
with ``daemon.inputs.stream_messages.pack_pose_message`` (which mirrors SONIC's own
``pack_pose_message()``); the SMPL joints come from real forward kinematics of a pose, so they
describe a body (``realistic_v3_fields``), unlike random numbers.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import zmq.asyncio

from daemon.inputs.stream_wire import HEADER_SIZE
from estimators.fk import root_local_joints
from estimators.rotations import axis_angle_to_matrix
from estimators.skeleton import CanonicalAdultSkeleton
from estimators.smpl import joint

RNG = np.random.default_rng(7)
SKELETON = CanonicalAdultSkeleton().load()
LEFT_ELBOW_POSE = joint("left_elbow") - 1
"""Row of the left elbow in ``smpl_pose`` (21 joints, body joints 1..21)."""


def unit_quats(n: int) -> npt.NDArray[np.float32]:
    q = RNG.normal(size=(n, 4))
    unit: npt.NDArray[np.float32] = (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(
        np.float32
    )
    return unit


def v1_fields(n: int = 5, first: int = 100) -> dict[str, npt.NDArray[Any]]:
    return {
        "joint_pos": RNG.uniform(-0.5, 0.5, (n, 29)).astype(np.float32),
        "joint_vel": RNG.uniform(-1, 1, (n, 29)).astype(np.float32),
        "body_quat": unit_quats(n),
        "frame_index": np.arange(first, first + n, dtype=np.int64),
    }


def v3_fields(n: int = 5, first: int = 100) -> dict[str, npt.NDArray[Any]]:
    fields = v1_fields(n, first)
    fields["smpl_joints"] = RNG.normal(0, 0.3, (n, 24, 3)).astype(np.float32)
    fields["smpl_pose"] = RNG.normal(0, 0.2, (n, 21, 3)).astype(np.float32)
    return fields


def v4_fields(index: int = 7) -> dict[str, npt.NDArray[Any]]:
    return {
        "token_state": RNG.normal(size=64).astype(np.float32),
        "frame_index": np.array([index], dtype=np.int64),
        "left_hand_joints": np.full(7, 0.1, dtype=np.float32),
    }


def body_joints(pose: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
    """(N, 24, 3) root-local SMPL joints of (N, 21, 3) axis-angle poses (SONIC's convention)."""
    n = pose.shape[0]
    local = np.tile(np.eye(3), (n, 24, 1, 1))
    local[:, 1:22] = axis_angle_to_matrix(np.asarray(pose, dtype=np.float64))
    return root_local_joints(local, SKELETON).astype(np.float32)


def arms_down_pose(n: int, elbow_rad: float = 0.0) -> npt.NDArray[np.float32]:
    """(n, 21, 3) poses with the arms hanging (not SMPL's T-pose) and the left elbow bent."""
    pose = np.zeros((n, 21, 3), dtype=np.float32)
    pose[:, joint("left_shoulder") - 1, 2] = -1.3  # SMPL: about +Z (forward) lowers the left arm
    pose[:, joint("right_shoulder") - 1, 2] = 1.3
    pose[:, LEFT_ELBOW_POSE, 1] = -elbow_rad
    return pose


def realistic_v3_fields(
    indices: npt.NDArray[np.int64],
    elbow_rad: npt.NDArray[np.floating] | float = 0.3,
    *,
    send_pose: bool = True,
) -> dict[str, npt.NDArray[Any]]:
    """v3 fields with a body: arms down, left elbow at ``elbow_rad`` per frame.

    ``send_pose=False`` streams ``smpl_pose`` as zeros, as SONIC's webcam example does.
    """
    n = indices.shape[0]
    elbow = np.broadcast_to(np.asarray(elbow_rad, dtype=np.float64), (n,))
    pose = np.stack([arms_down_pose(1, float(e))[0] for e in elbow])
    return {
        "body_quat": np.tile(np.array([1.0, 0.0, 0.0, 0.0], np.float32), (n, 1)),
        "frame_index": indices.astype(np.int64),
        "smpl_joints": body_joints(pose),
        "smpl_pose": pose if send_pose else np.zeros_like(pose),
        "joint_pos": np.zeros((n, 29), dtype=np.float32),
        "joint_vel": np.zeros((n, 29), dtype=np.float32),
    }


def raw_message(header: object, body: bytes = b"", *, topic: bytes = b"pose") -> bytes:
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return topic + text.ljust(HEADER_SIZE, b"\0") + body


async def publish_until(
    pub: zmq.asyncio.Socket, message: bytes, done: Callable[[], bool], *, limit_s: float = 10
) -> None:
    """Publish every 10 ms until ``done()``: PUB/SUB loses messages until the SUB has joined."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not done():
        if loop.time() > deadline:
            raise TimeoutError("subscriber never received")
        await pub.send(message)
        await asyncio.sleep(0.01)
