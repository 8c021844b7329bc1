"""Preallocated builders for SONIC's two model inputs. Nothing here allocates after ``__init__``
and ``bind_track``: every write is ``out=``, ``np.copyto`` or an in-place shift of a view.

Decoder input (994 float32, ``DECODER_LAYOUT``): token, then five histories of 10 ticks, each
oldest first and term-major (all 10 frames of one term, then the next term). A new tick shifts
every history one frame toward the front and writes the newest frame last, so before the tenth
tick the oldest frames are still the zeros ``reset`` left (SONIC pads missing history with zeros
on the oldest side). Joint terms are in IsaacLab order; the robot state arrives in hardware
order and is permuted with ``ISAAC_TO_HW``.

Encoder input (``ENCODER_CONFIGS[variant]``), in one of two modes (``set_mode``):

- SMPL mode: mode slot ``[2, 0, 0, 0]``; SMPL joints, anchor orientation and wrist angles for
  ``frames`` future frames (``step`` ticks apart, starting at the current frame, clamped to the
  last frame of the track) written every tick;
- G1 mode: mode slot zero; absolute joint positions and velocities (IsaacLab order) and the
  anchor orientation over the G1 window, the anchor at the current frame, and the root height
  (held at ``G1_MODE_ROOT_Z_M``: streamed G1 references carry no root position).

Every term of the other mode stays zero. A track is bound once (``bind_track`` copies a package's
references; ``bind_views`` keeps references to a stream's window arrays, which the stream
rewrites every tick).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from controller.embodiment.g1 import ISAAC_TO_HW, NUM_BODY_JOINTS, Q_DEFAULT
from controller.sonic.obs_config import (
    DECODER_HISTORY_TICKS,
    DECODER_LAYOUT,
    G1_MODE_ID,
    NUM_SMPL_JOINTS,
    NUM_WRIST_JOINTS,
    SMPL_MODE_ID,
    EncoderObsConfig,
)
from controller.sonic.rotations import write_matrix, write_yaw_matrix

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

G1_MODE_ROOT_Z_M = 0.76
"""Root height written in G1 mode where the checkpoint reads one (release): the G1's standing
pelvis height in SONIC's training (``init height 0.76 m``). An assumption: streamed G1
references (protocol v1) carry no root position, and what SONIC's deploy writes then is not
documented."""


class _History:
    """One decoder history term: a flat view of its 10 frames inside the decoder buffer."""

    def __init__(self, flat: F32, frame_width: int) -> None:
        self.flat = flat
        self.width = frame_width
        self.older = flat[:-frame_width]  # destination of the shift
        self.newer = flat[frame_width:]  # source of the shift
        self.newest = flat[-frame_width:]

    def shift(self) -> None:
        # 1-D, same-direction strides, destination before source: numpy copies forward
        # without a temporary.
        self.older[...] = self.newer


class PelvisFrame:
    """The pelvis orientation of this tick and the reference's heading alignment.

    SONIC's anchor orientation is ``conj(q_robot) * (q_heading * q_ref[k])``: the reference
    root, turned so that its heading at the alignment frame matches the robot's heading then,
    seen from the robot's pelvis (only its yaw for heading-only variants). As matrices that is
    ``anchor_transform @ R_ref[k]`` with ``anchor_transform = R_robot^T @ R_heading``, one 3x3
    per tick.
    """

    def __init__(self, *, heading_only: bool) -> None:
        self.rotation: F64 = np.eye(3)
        """Pelvis body-to-world rotation of this tick."""
        self.gravity_b: F64 = np.array([0.0, 0.0, -1.0])
        """Gravity direction in the pelvis frame: ``R^T [0, 0, -1]``."""
        self.anchor_transform: F64 = np.eye(3)
        self.heading_offset_rad = 0.0
        """Yaw added to the reference at the alignment frame."""
        self._heading_only = heading_only
        self._rotation_inv: F64 = self.rotation.T  # views: no copies per tick
        self._row_z: F64 = self.rotation[2]
        self._yaw: F64 = np.eye(3)
        self._yaw_inv: F64 = self._yaw.T
        self._heading: F64 = np.eye(3)

    def update(self, quat_wxyz: F64) -> None:
        """New pelvis orientation (wxyz, world); refreshes rotation and gravity."""
        write_matrix(quat_wxyz, self.rotation)
        np.negative(self._row_z, out=self.gravity_b)

    def align_heading(self, reference_yaw: float) -> None:
        """Turn the reference so its heading ``reference_yaw`` matches the robot's now."""
        robot_yaw = math.atan2(self.rotation.item(1, 0), self.rotation.item(0, 0))
        offset = math.remainder(robot_yaw - reference_yaw, math.tau)
        c, s = math.cos(offset), math.sin(offset)
        heading = self._heading
        heading[0, 0], heading[0, 1], heading[1, 0], heading[1, 1] = c, -s, s, c
        self.heading_offset_rad = offset

    def add_heading(self, delta_rad: float) -> None:
        """Turn the reference further by ``delta_rad`` (SONIC's delta heading)."""
        offset = math.remainder(self.heading_offset_rad + delta_rad, math.tau)
        c, s = math.cos(offset), math.sin(offset)
        heading = self._heading
        heading[0, 0], heading[0, 1], heading[1, 0], heading[1, 1] = c, -s, s, c
        self.heading_offset_rad = offset

    def update_anchor_transform(self) -> None:
        inverse = self._rotation_inv
        if self._heading_only:
            write_yaw_matrix(self.rotation, self._yaw)
            inverse = self._yaw_inv
        np.dot(inverse, self._heading, out=self.anchor_transform)


class DecoderObservation:
    """The decoder's ``obs_dict`` buffer, shape (1, 994) float32, and how to advance it."""

    def __init__(self) -> None:
        self.buffer: F32 = np.zeros((1, DECODER_LAYOUT.width), dtype=np.float32)
        flat = self.buffer[0]
        self.token: F32 = flat[DECODER_LAYOUT.slice("token_state")]
        self.proprio: F32 = flat[DECODER_LAYOUT.slice("token_state").stop :]
        """Everything but the token (the part ``push`` writes)."""

        def history(name: str, frame_width: int) -> _History:
            return _History(flat[DECODER_LAYOUT.slice(name)], frame_width)

        self._ang_vel = history("his_base_angular_velocity_10frame_step1", 3)
        self._q = history("his_body_joint_positions_10frame_step1", NUM_BODY_JOINTS)
        self._dq = history("his_body_joint_velocities_10frame_step1", NUM_BODY_JOINTS)
        self._action = history("his_last_actions_10frame_step1", NUM_BODY_JOINTS)
        self._gravity = history("his_gravity_dir_10frame_step1", 3)
        self._histories = (self._ang_vel, self._q, self._dq, self._action, self._gravity)
        for term in self._histories:
            if term.flat.size != DECODER_HISTORY_TICKS * term.width:
                raise ValueError("decoder history width does not match its frame width")
        self._q_default_isaac: F64 = np.ascontiguousarray(Q_DEFAULT[ISAAC_TO_HW])
        # take() needs out= of the source dtype (else it casts via a temporary), hence
        # float64 scratch before the float32 history.
        self._q_isaac: F64 = np.zeros(NUM_BODY_JOINTS)
        self._dq_isaac: F64 = np.zeros(NUM_BODY_JOINTS)

    def reset(self) -> None:
        """Forget all history (zero padding) and the token."""
        self.buffer.fill(0.0)

    def push(
        self, gyro_b: F64, q_hw: F64, dq_hw: F64, last_action_isaac: F32, gravity_b: F64
    ) -> None:
        """Append one tick of proprioception as the newest frame of every history.

        Args:
            gyro_b: (3,) pelvis angular velocity, pelvis frame (rad/s).
            q_hw, dq_hw: (29,) joint positions (rad) and velocities (rad/s), hardware order.
            last_action_isaac: (29,) the previous raw network output, IsaacLab order.
            gravity_b: (3,) gravity direction in the pelvis frame (unit).
        """
        for term in self._histories:
            term.shift()
        np.copyto(self._ang_vel.newest, gyro_b)
        q_hw.take(ISAAC_TO_HW, 0, self._q_isaac, "clip")
        np.subtract(self._q_isaac, self._q_default_isaac, out=self._q_isaac)
        np.copyto(self._q.newest, self._q_isaac)
        dq_hw.take(ISAAC_TO_HW, 0, self._dq_isaac, "clip")
        np.copyto(self._dq.newest, self._dq_isaac)
        np.copyto(self._action.newest, last_action_isaac)
        np.copyto(self._gravity.newest, gravity_b)


class EncoderObservation:
    """The encoder's ``obs_dict`` buffer for one checkpoint variant, in SMPL or G1 mode."""

    def __init__(self, config: EncoderObsConfig) -> None:
        layout, smpl, g1_terms = config.layout, config.smpl, config.g1
        self.config = config
        self.frames, self.step = smpl.frames, smpl.step
        self.buffer: F32 = np.zeros((1, layout.width), dtype=np.float32)
        flat = self.buffer[0]
        self._mode_slot: F32 = flat[layout.slice(smpl.mode)]
        self.mode_id = SMPL_MODE_ID
        n = self.frames
        self._joints: F32 = flat[layout.slice(smpl.joints)].reshape(n, 3 * NUM_SMPL_JOINTS)
        self._anchor_6d: F32 = flat[layout.slice(smpl.anchor)].reshape(n, 3, 2)
        self._wrists: F32 = flat[layout.slice(smpl.wrists)].reshape(n, NUM_WRIST_JOINTS)
        self._offsets = np.arange(n, dtype=np.intp) * self.step
        self._index = np.zeros(n, dtype=np.intp)
        # The anchor needs only the first two columns of R_inv @ R_ref[k]. With the reference's
        # columns stored as (3, T, 2), the window is one (3, 2n) matrix and the whole anchor one
        # 3x3 @ 3x2n product (np.dot with out=: no temporaries, unlike batched matmul).
        self._smpl_anchor = _AnchorWindow(n)
        # G1 mode: its own window (frames, step) and terms.
        m = g1_terms.frames
        self._g1_joints: F32 = flat[layout.slice(g1_terms.joints)].reshape(m, NUM_BODY_JOINTS)
        self._g1_velocities: F32 = flat[layout.slice(g1_terms.velocities)].reshape(
            m, NUM_BODY_JOINTS
        )
        self._g1_anchor_6d: F32 = flat[layout.slice(g1_terms.anchor)].reshape(m, 3, 2)
        self._g1_anchor_now: F32 = flat[layout.slice(g1_terms.anchor_now)].reshape(3, 2)
        self._g1_root_z: list[F32] = [
            flat[layout.slice(term)] for term in (g1_terms.root_z, g1_terms.root_z_now) if term
        ]
        self._g1_offsets = np.arange(m, dtype=np.intp) * g1_terms.step
        self._g1_index = np.zeros(m, dtype=np.intp)
        self._g1_anchor = _AnchorWindow(m)
        # Track data (bound by ``bind_track`` / ``bind_views``); one frame of zeros until then.
        self._track_joints: F32 = np.zeros((1, 3 * NUM_SMPL_JOINTS), dtype=np.float32)
        self._track_wrists: F32 = np.zeros((1, NUM_WRIST_JOINTS), dtype=np.float32)
        self._track_columns: F64 = np.zeros((3, 1, 2))
        self._track_yaw: F64 = np.zeros(1)
        self._track_q_isaac: F32 = np.zeros((1, NUM_BODY_JOINTS), dtype=np.float32)
        self._track_dq_isaac: F32 = np.zeros((1, NUM_BODY_JOINTS), dtype=np.float32)
        self.set_mode(SMPL_MODE_ID)

    def set_mode(self, mode_id: int) -> None:
        """Switch the encoder mode (SMPL or G1): zero every term, write the mode slot."""
        if mode_id not in (SMPL_MODE_ID, G1_MODE_ID):
            raise ValueError(f"encoder mode {mode_id} is not written by this runtime")
        self.buffer.fill(0.0)
        self._mode_slot[0] = mode_id
        self.mode_id = mode_id
        if mode_id == G1_MODE_ID:
            for term in self._g1_root_z:
                term.fill(G1_MODE_ROOT_Z_M)

    def bind_track(self, joints_local: F32, wrists_isaac: F32, root_rotation: F64) -> None:
        """Attach a track's per-frame references (prepared once, off the tick).

        Args:
            joints_local: (T, 72) SMPL joints in each frame's root frame, Z-up (m).
            wrists_isaac: (T, 6) G1 wrist angles, IsaacLab 23..28 (rad).
            root_rotation: (T, 3, 3) reference root orientation, body-to-world of the motion.
        """
        self._track_joints = np.ascontiguousarray(joints_local, dtype=np.float32)
        self._track_wrists = np.ascontiguousarray(wrists_isaac, dtype=np.float32)
        rotation = np.asarray(root_rotation, dtype=np.float64)
        self._track_columns = np.ascontiguousarray(rotation[:, :, :2].transpose(1, 0, 2))
        self._track_yaw = np.arctan2(rotation[:, 1, 0], rotation[:, 0, 0])

    def bind_views(
        self,
        *,
        joints_local: F32,
        wrists_isaac: F32,
        root_columns: F64,
        root_yaw: F64,
        q_isaac: F32,
        dq_isaac: F32,
    ) -> None:
        """Attach arrays that another owner rewrites in place (a stream's window), uncopied.

        Args:
            joints_local: (W, 72) float32; wrists_isaac: (W, 6) float32.
            root_columns: (3, W, 2) first two columns of each frame's root rotation.
            root_yaw: (W,) heading of each frame's root.
            q_isaac, dq_isaac: (W, 29) float32 joint positions (rad) and velocities (rad/s).
        """
        self._track_joints, self._track_wrists = joints_local, wrists_isaac
        self._track_columns, self._track_yaw = root_columns, root_yaw
        self._track_q_isaac, self._track_dq_isaac = q_isaac, dq_isaac

    def reference_yaw(self, frame: int) -> float:
        """Heading (rad) of the reference root at ``frame`` (clamped into the track)."""
        last = self._track_yaw.shape[0] - 1
        return float(self._track_yaw.item(0 if frame < 0 else min(frame, last)))

    def fill(self, frame: int, anchor_transform: F64) -> None:
        """Write the reference window starting at ``frame`` for the current mode.

        Args:
            frame: current track frame; window frames past the end repeat the last one.
            anchor_transform: (3, 3) ``R_robot^-1 @ R_heading``, see ``PelvisFrame``. The anchor
                of window frame k is ``anchor_transform @ R_ref[k]``.
        """
        if self.mode_id == G1_MODE_ID:
            self._fill_g1(frame, anchor_transform)
            return
        index = self._index
        np.add(self._offsets, frame, out=index)
        # "clip" clamps the window into the track (and avoids take's buffered out=); the
        # ndarray method skips np.take's Python wrapper.
        self._track_joints.take(index, 0, self._joints, "clip")
        self._track_wrists.take(index, 0, self._wrists, "clip")
        self._smpl_anchor.write(self._track_columns, index, anchor_transform, self._anchor_6d)

    def _fill_g1(self, frame: int, anchor_transform: F64) -> None:
        index = self._g1_index
        np.add(self._g1_offsets, frame, out=index)
        self._track_q_isaac.take(index, 0, self._g1_joints, "clip")
        self._track_dq_isaac.take(index, 0, self._g1_velocities, "clip")
        self._g1_anchor.write(self._track_columns, index, anchor_transform, self._g1_anchor_6d)
        np.copyto(self._g1_anchor_now, self._g1_anchor_6d[0])


class _AnchorWindow:
    """The anchor orientation over a window: 6D of ``anchor_transform @ R_ref[k]`` per frame."""

    def __init__(self, n: int) -> None:
        self._columns_window: F64 = np.zeros((3, n, 2))
        self._columns_2d: F64 = self._columns_window.reshape(3, 2 * n)
        self._anchor: F64 = np.zeros((3, n, 2))
        self._anchor_2d: F64 = self._anchor.reshape(3, 2 * n)
        self._anchor_by_frame: F64 = self._anchor.transpose(1, 0, 2)  # (n, 3, 2) view

    def write(self, columns: F64, index: npt.NDArray[np.intp], transform: F64, out: F32) -> None:
        columns.take(index, 1, self._columns_window, "clip")
        np.dot(transform, self._columns_2d, out=self._anchor_2d)
        np.copyto(out, self._anchor_by_frame)
