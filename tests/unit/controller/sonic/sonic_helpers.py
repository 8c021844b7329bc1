"""Helpers shared by the SONIC tests: tracks whose values identify their frame, robot states."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from controller.robot.base import RobotState
from estimators.track import ReferenceTrack


def yaw_pitch_quat(yaw: float = 0.0, pitch: float = 0.0) -> np.ndarray:
    """wxyz of R_z(yaw) R_y(pitch)."""
    qz = np.array([math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)])
    qy = np.array([math.cos(pitch / 2), 0.0, math.sin(pitch / 2), 0.0])
    w1, x1, y1, z1 = qz
    w2, x2, y2, z2 = qy
    return np.array(
        [
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        ]
    )


def make_track(
    frames: int = 30,
    *,
    seed: int = 0,
    root_yaws: Sequence[float] | None = None,
    root_pitch: float = 0.05,
) -> ReferenceTrack:
    """A track whose every value identifies its frame: joints = frame + small offsets."""
    rng = np.random.default_rng(seed)
    q_hw = rng.uniform(-0.5, 0.5, size=(frames, 29))
    joints = np.arange(frames, dtype=np.float64)[:, None, None] + rng.uniform(
        -0.3, 0.3, size=(frames, 24, 3)
    )
    yaws = root_yaws if root_yaws is not None else np.linspace(0.0, 0.4, frames)
    root = np.stack([yaw_pitch_quat(float(yaw), root_pitch) for yaw in yaws])
    return ReferenceTrack(
        q_hw=q_hw,
        hand_q=np.zeros((frames, 2, 7)),
        hand_state=np.zeros((frames, 2), dtype=np.int8),
        smpl_joints_local=joints,
        root_quat_wxyz=root,
    )


def make_state(seed: int = 0, *, yaw: float = 0.0, pitch: float = 0.0) -> RobotState:
    rng = np.random.default_rng(seed)
    state = RobotState(has_imu=True)
    state.q[:] = rng.uniform(-0.5, 0.5, 29)
    state.dq[:] = rng.uniform(-2.0, 2.0, 29)
    state.imu_gyro_b[:] = rng.uniform(-1.0, 1.0, 3)
    state.imu_quat_wxyz[:] = yaw_pitch_quat(yaw, pitch)
    return state
