"""SMPL skeleton constants and the axis conventions between SMPL, SONIC and the G1.

Frames used across ``estimators``:

- **SMPL body frame** (rest pose, T-pose): +X is the body's *left*, +Y up, +Z forward. Every SMPL
  local joint rotation is expressed in this orientation (all rest joint frames are aligned).
- **SMPL world, Y-up** (GENMO ``body_params_global``): gravity along -Y. The
  ``global_orient`` rotates the body frame into this world.
- **Z-up world** (MuJoCo, Isaac Lab, SONIC): ``Y_UP_TO_Z_UP`` = +90° about X (SONIC's
  ``smpl_root_ytoz_up``) maps SMPL world vectors into it.
- **Robot body convention** (G1 pelvis and link frames): +X forward, +Y left, +Z up.
  ``SMPL_TO_ROBOT`` maps SMPL body-frame vectors into it (x->y, y->z, z->x); it is the rotation
  of SONIC's base quaternion ``[0.5, 0.5, 0.5, 0.5]`` (wxyz), so SONIC's
  ``remove_smpl_base_rot`` (right-multiplying the root by its conjugate) makes the root
  quaternion describe the pelvis in robot convention.

The 24-joint tree is SMPL's (../shared/reference/estimation-and-cloud.md §4.1).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

NUM_JOINTS = 24
NUM_BODY_POSE_SMPLX = 21
"""SMPL-X / GENMO ``body_pose`` joints (1..21)."""
NUM_BODY_POSE_SMPL = 23
"""SMPL ``body_pose`` joints (1..23)."""

JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hand", "right_hand",
)  # fmt: skip

PARENTS: npt.NDArray[np.intp] = np.array(
    [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21],
    dtype=np.intp,
)
"""Parent of each joint; the order is topological (a parent always precedes its children)."""
PARENTS.flags.writeable = False


def joint(name: str) -> int:
    """Index of an SMPL joint by name (``"left_elbow"`` -> 18)."""
    try:
        return JOINT_NAMES.index(name)
    except ValueError:
        raise KeyError(f"unknown SMPL joint {name!r}") from None


def _frozen(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    values.flags.writeable = False
    return values


Y_UP_TO_Z_UP = _frozen(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]]))
"""(3, 3) +90° about X: SMPL Y-up world -> Z-up world (``v_z = Y_UP_TO_Z_UP @ v_y``)."""

SMPL_TO_ROBOT = _frozen(np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
"""(3, 3) SMPL body frame -> robot body convention: ``v_robot = SMPL_TO_ROBOT @ v_smpl``."""

SONIC_BASE_QUAT_WXYZ = _frozen(np.array([0.5, 0.5, 0.5, 0.5]))
"""SONIC's base rotation; its matrix equals ``SMPL_TO_ROBOT``."""
