"""Decoded stream messages -> the frames the control process plays (one session at a time).

What each protocol becomes, per the controller that will follow it:

- v1 (G1 joint references): ``joint_pos`` reordered IsaacLab -> hardware, clamped to the G1
  limits. The PD tracker follows it; SONIC tracks it in its G1 encoder mode.
- v3 (SMPL): for SONIC, ``smpl_joints`` as sent (what its SMPL encoder consumes) and the six
  wrist angles of ``joint_pos``. For the PD tracker, body angles mapped from ``smpl_pose``
  (``estimators.g1_mapping``) where it is not all zero, else from ``smpl_joints`` positions
  (``estimators.g1_from_joints``), wrists from ``joint_pos``. A frame with neither (an all-zero
  or absent pose and no body in ``smpl_joints``) is refused, never mapped: SMPL's zero pose is a
  T-pose.
- v4 (tokens): the token, for SONIC's decoder.

Producers resend their last few frames in every message (SONIC's PICO streamer sends 5); only
frames newer than the newest already sent are built and sent, so a message costs the mapping of
one frame, not five. A frame number far below the newest (a producer restart) starts over.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from controller.embodiment import g1
from controller.embodiment.dex3 import HAND_Q_MAX, HAND_Q_MIN
from daemon.inputs.stream_messages import NUM_HAND_JOINTS, PoseMessage
from estimators.g1_from_joints import joints_to_g1, valid_frames
from estimators.g1_mapping import smpl_to_g1
from estimators.hands.dex3_targets import DEX3_PRESETS
from estimators.rotations import axis_angle_to_matrix

F64 = npt.NDArray[np.float64]
Arrays = dict[str, npt.NDArray[np.floating] | npt.NDArray[np.integer]]

_ZERO_POSE_RAD = 1e-6
"""A frame's ``smpl_pose`` whose every entry is below this is "all zero": no pose sent."""
RESTART_GAP_FRAMES = 200
"""A frame number this far below the newest sent is a producer restart (SONIC's merger gap)."""


@dataclass(frozen=True)
class StreamFrames:
    """New frames of one message, ready for the control process."""

    frame_index: npt.NDArray[np.int64]
    arrays: Arrays
    """``q_hw``, ``hand_q``, ``hand_state``; ``smpl_joints``, ``root_quat_wxyz`` and ``token``
    where the protocol has them."""


@dataclass(frozen=True)
class BuiltFrames:
    """What a message gave: frames to send (None: nothing new) and frames refused."""

    frames: StreamFrames | None
    refused: int = 0
    refusal: str = ""


class FrameBuilder:
    """Builds the frames of one stream; ``reset`` between streams.

    Args:
        maps_body: True when the PD tracker follows v3 streams (body angles are mapped here);
            False when SONIC does (its encoder reads ``smpl_joints`` itself).
    """

    def __init__(self, *, maps_body: bool) -> None:
        self._maps_body = maps_body
        self._hands: F64 = np.zeros((2, NUM_HAND_JOINTS))
        self._newest = -1
        self._has_frames = False

    def reset(self) -> None:
        self._hands = np.zeros((2, NUM_HAND_JOINTS))
        self._newest = -1
        self._has_frames = False

    def build(self, message: PoseMessage) -> BuiltFrames:
        index = self._frame_numbers(message)
        new = index > self._newest if self._has_frames else np.ones(index.shape, bool)
        if self._has_frames and int(index[-1]) < self._newest - RESTART_GAP_FRAMES:
            new[:] = True  # the producer restarted its frame numbers
        if not new.any():
            return BuiltFrames(None)
        keep = np.flatnonzero(new)
        arrays: Arrays = {}
        refusal = ""
        if message.token_state is not None:  # v4
            arrays["token"] = message.token_state.astype(np.float32)[None]
            arrays["q_hw"] = g1.Q_DEFAULT[None].copy()
        else:
            keep, refusal = self._body(message, keep, arrays)
        if message.body_quat_wxyz is not None:
            arrays["root_quat_wxyz"] = message.body_quat_wxyz[keep]
        refused = int(new.sum()) - keep.shape[0]
        if keep.shape[0] == 0:
            return BuiltFrames(None, refused, refusal)
        self._hand_targets(message, keep.shape[0], arrays)
        self._newest = int(index[keep[-1]])
        self._has_frames = True
        return BuiltFrames(StreamFrames(index[keep].astype(np.int64), arrays), refused, refusal)

    def _frame_numbers(self, message: PoseMessage) -> npt.NDArray[np.int64]:
        if message.frame_index.shape[0] == message.n_frames:
            return message.frame_index
        # v4 without frame_index: one token per message, numbered in arrival order.
        return np.array([self._newest + 1], dtype=np.int64)

    def _body(
        self, message: PoseMessage, keep: npt.NDArray[np.intp], arrays: Arrays
    ) -> tuple[npt.NDArray[np.intp], str]:
        """Body references of the kept frames; drops the frames that have none."""
        if message.joint_pos_isaac is None:  # (decoded v1/v3 messages always carry it)
            return keep[:0], "no joint_pos"
        joint_pos_hw = message.joint_pos_isaac[keep][:, g1.HW_TO_ISAAC]
        if message.version == 1:
            arrays["q_hw"] = np.clip(joint_pos_hw, g1.Q_MIN, g1.Q_MAX)
            return keep, ""
        joints = message.smpl_joints[keep] if message.smpl_joints is not None else None
        if not self._maps_body:
            has_body = valid_frames(joints) if joints is not None else np.zeros(keep.shape, bool)
            # SONIC's SMPL encoder reads the joints: frames without a body cannot be tracked.
            refusal = (
                "smpl_joints carry no body (all zero or collapsed); SONIC's SMPL encoder "
                "has nothing to track"
            )
            ok = has_body
            q = np.tile(g1.Q_DEFAULT, (keep.shape[0], 1))
        else:
            pose = message.smpl_pose[keep] if message.smpl_pose is not None else None
            has_pose = (
                np.abs(pose).reshape(keep.shape[0], -1).max(axis=1) > _ZERO_POSE_RAD
                if pose is not None
                else np.zeros(keep.shape, bool)
            )
            has_body = np.zeros(keep.shape, bool)  # looked at only where the pose is missing
            if joints is not None and not has_pose.all():
                has_body[~has_pose] = valid_frames(joints[~has_pose])
            ok = has_pose | has_body
            q = np.tile(g1.Q_DEFAULT, (keep.shape[0], 1))
            if pose is not None and has_pose.any():
                local = np.tile(np.eye(3), (int(has_pose.sum()), 24, 1, 1))
                local[:, 1:22] = axis_angle_to_matrix(pose[has_pose])
                q[has_pose] = smpl_to_g1(local)
            from_joints = has_body & ~has_pose
            if joints is not None and from_joints.any():
                q[from_joints] = joints_to_g1(joints[from_joints])
            refusal = (
                "smpl_pose is all zero or absent and smpl_joints carry no body: refused "
                "rather than mapped to SMPL's rest pose (a T-pose)"
            )
        q[:, g1.WRIST_HW] = joint_pos_hw[:, g1.WRIST_HW]  # the producer's wrists, as SONIC uses
        np.clip(q, g1.Q_MIN, g1.Q_MAX, out=q)
        arrays["q_hw"] = q[ok]
        if joints is not None:
            arrays["smpl_joints"] = joints[ok]
        return keep[ok], refusal if not ok.all() else ""

    def _hand_targets(self, message: PoseMessage, n: int, arrays: Arrays) -> None:
        for row, sent in enumerate((message.left_hand_q, message.right_hand_q)):
            if sent is not None:
                self._hands[row] = np.clip(sent, HAND_Q_MIN[row], HAND_Q_MAX[row])
        distance = np.linalg.norm(DEX3_PRESETS - self._hands[None], axis=-1)  # (3, 2)
        state = np.asarray(np.argmin(distance, axis=0), dtype=np.int8)
        arrays["hand_q"] = np.broadcast_to(self._hands, (n, 2, NUM_HAND_JOINTS)).copy()
        arrays["hand_state"] = np.broadcast_to(state, (n, 2)).copy()
