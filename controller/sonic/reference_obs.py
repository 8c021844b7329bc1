"""A deliberately naive SONIC observation builder: rebuilds both inputs from scratch each tick.

Written straight from the specification (../shared/reference/sonic-deploy.md §2) with
quaternion algebra, Python lists and ``np.concatenate``, sharing no code path with
``observations.py`` beyond the layout table and the joint-order permutation. It serves two
purposes: a test oracle for the preallocated builders (same inputs -> same floats), and the
baseline ``scripts/bench_policy.py`` compares them against. Not for the tick.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import numpy.typing as npt

from controller.embodiment.g1 import ISAAC_TO_HW, Q_DEFAULT
from controller.robot.base import RobotState
from controller.sonic.obs_config import (
    DECODER_HISTORY_TICKS,
    DECODER_LAYOUT,
    SMPL_MODE_ID,
    EncoderObsConfig,
)
from controller.sonic.rotations import (
    matrix_to_6d,
    quat_conj,
    quat_mul,
    quat_rotate,
    quat_to_matrix,
    yaw_of,
    yaw_quat,
)
from estimators.track import ReferenceTrack

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]


class NaiveObservationBuilder:
    """Both SONIC inputs, recomputed every tick. ``start`` mirrors ``SonicPolicy.start``."""

    def __init__(self, config: EncoderObsConfig) -> None:
        self.config = config
        self._frames: deque[list[F64]] = deque(maxlen=DECODER_HISTORY_TICKS)
        self._track: ReferenceTrack | None = None
        self._offset_quat: F64 | None = None

    def start(self, track: ReferenceTrack, state: RobotState) -> None:
        """Clear history; the heading is aligned at the first ``encoder_obs`` call."""
        self._track = track
        self._offset_quat = None
        self._frames.clear()

    def encoder_obs(self, state: RobotState, frame: int) -> F32:
        """(1, E) encoder input in SMPL mode for ``frame``."""
        track = self._track
        if track is None:
            raise RuntimeError("start() first")
        smpl, layout = self.config.smpl, self.config.layout
        last = track.n_frames - 1
        if self._offset_quat is None:  # heading(robot) * inv(heading(reference at this frame))
            reference_yaw = yaw_of(track.root_quat_wxyz[min(frame, last)])
            self._offset_quat = yaw_quat(float(yaw_of(state.imu_quat_wxyz) - reference_yaw))
        robot = state.imu_quat_wxyz
        if smpl.anchor_heading_only:
            robot = yaw_quat(float(yaw_of(robot)))
        joints, anchors, wrists = [], [], []
        for k in range(smpl.frames):
            index = min(frame + k * smpl.step, last)
            joints.append(track.smpl_joints_local[index].reshape(-1))
            reference = quat_mul(self._offset_quat, track.root_quat_wxyz[index])
            anchor = quat_mul(quat_conj(robot), reference)
            anchors.append(matrix_to_6d(quat_to_matrix(anchor)))
            wrists.append(track.wrist_isaac[index])
        values = {
            smpl.mode: np.array([SMPL_MODE_ID, 0.0, 0.0, 0.0]),
            smpl.joints: np.concatenate(joints),
            smpl.anchor: np.concatenate(anchors),
            smpl.wrists: np.concatenate(wrists),
        }
        parts = [values.get(name, np.zeros(width)) for name, width in layout.terms]
        return np.concatenate(parts).astype(np.float32)[None, :]

    def decoder_obs(self, state: RobotState, token: F32, last_action_isaac: F32) -> F32:
        """(1, 994) decoder input; records this tick into the history first."""
        gravity = quat_rotate(quat_conj(state.imu_quat_wxyz), np.array([0.0, 0.0, -1.0]))
        self._frames.append(
            [
                np.array(state.imu_gyro_b, dtype=np.float64),
                state.q[ISAAC_TO_HW] - Q_DEFAULT[ISAAC_TO_HW],
                np.array(state.dq[ISAAC_TO_HW]),
                np.array(last_action_isaac, dtype=np.float64),
                gravity,
            ]
        )
        parts = [np.asarray(token, dtype=np.float64).reshape(-1)]
        for term_index, (_, width) in enumerate(DECODER_LAYOUT.terms[1:]):
            frame_width = width // DECODER_HISTORY_TICKS
            missing = DECODER_HISTORY_TICKS - len(self._frames)
            parts += [np.zeros(frame_width)] * missing  # zero padding on the oldest side
            parts += [frame[term_index] for frame in self._frames]
        return np.concatenate(parts).astype(np.float32)[None, :]
