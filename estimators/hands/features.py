"""Per-frame hand-closure features from WiLoR output (MANO hand pose and 21 keypoints).

Inputs follow WiLoR (../shared/reference/estimation-and-cloud.md §2.2): ``hand_pose`` is MANO's
15 finger joints (order index 1-3, middle 1-3, pinky 1-3, ring 1-3, thumb 1-3) as axis-angle
``(..., 15, 3)`` or matrices ``(..., 15, 3, 3)``, relative to the flat hand; keypoints are
``(..., 21, 3)`` in OpenPose order (0 wrist, 1-4 thumb, 5-8 index, 9-12 middle, 13-16 ring,
17-20 pinky; tips 4, 8, 12, 16, 20), metres, any frame. Every feature is invariant to rotation,
translation and mirroring, so WiLoR's x-negated left hands need no special case.

Features and the closure score in [0, 1] (0 open, 1 fist):

- ``curl``: mean over the four fingers of the summed bend angles between consecutive bones
  (wrist->MCP, MCP->PIP, PIP->DIP, DIP->tip), rad. 0 for a flat hand; about 4 rad in a fist.
- ``pose_flex``: mean rotation angle of MANO's 12 non-thumb joints, rad.
- ``pinch``: the smaller of the thumb-tip to index-tip and thumb-tip to middle-tip distances,
  divided by the hand size (wrist to middle MCP). About 1.2 open, below 0.4 in a grasp; the
  idea follows Isaac Lab's gripper retargeter (0.03 m close / 0.05 m open).

The constants below are this project's choices, checked on synthetic hands only (real WiLoR
output was not available): tune ``HandStateConfig`` thresholds on recorded data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]

CURL_CLOSED_RAD = 3.6
"""Keypoint curl that counts as fully closed."""
POSE_FLEX_CLOSED_RAD = 1.1
"""Mean MANO finger-joint angle that counts as fully closed."""
PINCH_OPEN = 1.0
PINCH_CLOSED = 0.35
"""Normalised thumb-tip distance at which the pinch feature reads 0 (open) and 1 (closed)."""

_FINGER_CHAINS = np.array([[0, 5, 6, 7, 8], [0, 9, 10, 11, 12], [0, 13, 14, 15, 16],
                           [0, 17, 18, 19, 20]], dtype=np.intp)  # fmt: skip
_THUMB_TIP, _INDEX_TIP, _MIDDLE_TIP, _WRIST, _MIDDLE_MCP = 4, 8, 12, 0, 9
_MANO_FINGER_JOINTS = slice(0, 12)


@dataclass(frozen=True)
class HandFeatures:
    """Features per frame and hand; every array has the input's leading shape (e.g. (T, 2))."""

    curl: F64
    pose_flex: F64
    pinch: F64
    hand_size: F64
    """Wrist to middle-finger MCP distance (m); near zero means unusable keypoints."""


def _angle_between(a: F64, b: F64) -> F64:
    dot = np.sum(a * b, axis=-1)
    cross = np.linalg.norm(np.cross(a, b), axis=-1)
    return np.asarray(np.arctan2(cross, dot), dtype=np.float64)


def _joint_angles(hand_pose: F64) -> F64:
    """Rotation angle per MANO joint, ``(..., 15)``, from axis-angle or matrices."""
    if hand_pose.ndim >= 3 and hand_pose.shape[-3:] == (15, 3, 3):
        trace = np.trace(hand_pose, axis1=-2, axis2=-1)
        return np.asarray(np.arccos(np.clip((trace - 1.0) / 2.0, -1.0, 1.0)), dtype=np.float64)
    return np.asarray(np.linalg.norm(hand_pose, axis=-1), dtype=np.float64)


def hand_features(hand_pose: npt.ArrayLike, keypoints: npt.ArrayLike) -> HandFeatures:
    """Compute closure features.

    Args:
        hand_pose: ``(..., 15, 3)`` axis-angle or ``(..., 15, 3, 3)`` MANO finger rotations.
        keypoints: ``(..., 21, 3)`` OpenPose-order hand keypoints (m).

    Returns:
        ``HandFeatures`` with arrays of the leading shape ``...``.
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    pose = np.asarray(hand_pose, dtype=np.float64)
    chains = kp[..., _FINGER_CHAINS, :]  # (..., 4, 5, 3)
    bones = np.diff(chains, axis=-2)  # (..., 4, 4, 3)
    bends = _angle_between(bones[..., :-1, :], bones[..., 1:, :])  # (..., 4, 3)
    curl = np.mean(np.sum(bends, axis=-1), axis=-1)
    size = np.linalg.norm(kp[..., _MIDDLE_MCP, :] - kp[..., _WRIST, :], axis=-1)
    thumb = kp[..., _THUMB_TIP, :]
    d_index = np.linalg.norm(thumb - kp[..., _INDEX_TIP, :], axis=-1)
    d_middle = np.linalg.norm(thumb - kp[..., _MIDDLE_TIP, :], axis=-1)
    pinch = np.minimum(d_index, d_middle) / np.maximum(size, 1e-6)
    angles = _joint_angles(pose)[..., _MANO_FINGER_JOINTS]
    return HandFeatures(curl=curl, pose_flex=np.mean(angles, axis=-1), pinch=pinch, hand_size=size)


def closure_score(features: HandFeatures) -> F64:
    """Mean of the three normalised features, in [0, 1] (0 open, 1 closed)."""
    s_curl = np.clip(features.curl / CURL_CLOSED_RAD, 0.0, 1.0)
    s_pose = np.clip(features.pose_flex / POSE_FLEX_CLOSED_RAD, 0.0, 1.0)
    s_pinch = np.clip((PINCH_OPEN - features.pinch) / (PINCH_OPEN - PINCH_CLOSED), 0.0, 1.0)
    return (s_curl + s_pose + s_pinch) / 3.0
