"""Synthetic WiLoR-like hands for demos and tests: a simple right hand posed by one closure value.

Not MANO: a kinematic hand with adult proportions in its own frame (wrist at the origin, fingers
along +X, thumb side +Y, palm facing -Z). A closure ``c`` in [0, 1] bends every finger joint by
``c`` times a fist pose and swings the thumb across the palm. The output has WiLoR's layout:
``hand_pose`` ``(..., 15, 3)`` axis-angle in MANO joint order and keypoints ``(..., 21, 3)`` in
OpenPose order, so it exercises the same code as real WiLoR output.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from estimators.rotations import axis_angle_to_matrix

F64 = npt.NDArray[np.float64]

# Finger MCP positions (m) and phalanx lengths (proximal, middle, distal), index..pinky.
_MCP = np.array([[0.095, 0.025, 0.0], [0.097, 0.002, 0.0], [0.090, -0.020, 0.0],
                 [0.080, -0.040, 0.0]])  # fmt: skip
_PHALANX = np.array([[0.040, 0.025, 0.022], [0.045, 0.028, 0.024], [0.042, 0.027, 0.023],
                     [0.033, 0.020, 0.020]])  # fmt: skip
_FIST = np.array([1.45, 1.6, 1.0])
"""Bend of MCP, PIP, DIP (rad) at closure 1, about +Y (fingers curl toward the palm, -Z)."""
_THUMB_BASE = np.array([0.025, 0.030, -0.010])
_THUMB_LEN = np.array([0.040, 0.032, 0.028])
_THUMB_DIR = np.array([0.6, 0.8, 0.0])
_THUMB_AXIS = np.array([-0.431, 0.335, -0.838]) / np.linalg.norm([-0.431, 0.335, -0.838])
_THUMB_FIST = np.array([0.175, 1.43, 0.945])
"""Thumb joint angles at closure 1 about ``_THUMB_AXIS``: the tip lands over the index finger."""
# Rows of the MANO finger order (index, middle, pinky, ring, thumb) for our index..pinky order.
_MANO_ROW_OF_FINGER = {0: 0, 1: 1, 2: 3, 3: 2}
_OPENPOSE_FINGER_START = {0: 5, 1: 9, 2: 13, 3: 17}


def synthetic_hand(closure: npt.ArrayLike) -> tuple[F64, F64]:
    """Hand pose and keypoints for closure values.

    Args:
        closure: ``(...)`` values in [0, 1] (0 flat open hand, 1 fist).

    Returns:
        ``(hand_pose (..., 15, 3) axis-angle, keypoints (..., 21, 3) metres)``.
    """
    c = np.clip(np.asarray(closure, dtype=np.float64), 0.0, 1.0)
    lead = c.shape
    pose = np.zeros((*lead, 15, 3))
    kp = np.zeros((*lead, 21, 3))
    y_axis = np.array([0.0, 1.0, 0.0])
    for finger in range(4):
        angles = c[..., None] * _FIST  # (..., 3)
        row = 3 * _MANO_ROW_OF_FINGER[finger]
        pose[..., row : row + 3, :] = angles[..., None] * y_axis
        start = _OPENPOSE_FINGER_START[finger]
        point = np.broadcast_to(_MCP[finger], (*lead, 3)).copy()
        kp[..., start, :] = point
        # Fingers continue the wrist->MCP direction (splay) and curl toward the palm (-Z).
        splay = _MCP[finger, :2] / np.linalg.norm(_MCP[finger, :2])
        heading = np.zeros(lead)
        for bone in range(3):
            heading = heading + angles[..., bone]
            cos_h = np.cos(heading)[..., None]
            step = np.concatenate([cos_h * splay, -np.sin(heading)[..., None]], axis=-1)
            point = point + _PHALANX[finger, bone] * step
            kp[..., start + bone + 1, :] = point
    thumb_angles = c[..., None] * _THUMB_FIST
    pose[..., 12:15, :] = thumb_angles[..., None] * _THUMB_AXIS
    point = np.broadcast_to(_THUMB_BASE, (*lead, 3)).copy()
    kp[..., 1, :] = point
    total = np.zeros(lead)
    for bone in range(3):
        total = total + thumb_angles[..., bone]
        rot = axis_angle_to_matrix(total[..., None] * _THUMB_AXIS)
        point = point + _THUMB_LEN[bone] * (rot @ _THUMB_DIR / np.linalg.norm(_THUMB_DIR))
        kp[..., 2 + bone, :] = point
    return pose, kp


def mirror_to_left(keypoints: npt.ArrayLike) -> F64:
    """WiLoR's left-hand convention: the right-hand result with x negated."""
    kp = np.array(keypoints, dtype=np.float64, copy=True)
    kp[..., 0] *= -1.0
    return kp
