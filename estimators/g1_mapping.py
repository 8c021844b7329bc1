"""SMPL body pose -> the G1's 29 joint angles, analytically, per joint group.

Method. Every SMPL local rotation is first written in robot convention
(``SMPL_TO_ROBOT @ R @ SMPL_TO_ROBOT.T``: +X forward, +Y left, +Z up). For each G1 link we fix a
rest offset ``O`` with ``R_g1_link = R_human_link @ O``: the identity for pelvis, torso, thighs,
shanks and feet (both rest poses stand straight), while the arms differ because SMPL rests in a
T-pose and the G1's zero pose hangs its upper arms down with the forearms pointing forward.
Each group's relative rotation is then split along the G1 joint axes in the G1's order:

- waist: spine1·spine2·spine3 -> yaw (Z), roll (X), pitch (Y);
- hip: SMPL hip -> pitch (Y), roll, yaw, whose axes are tilted by the MJCF's fixed -10° rotation
  about Y of ``*_hip_roll_link`` (undone by ``*_knee_link``);
- knee: the shank's direction about Y; its remaining rotation plus the ankle -> ankle pitch (Y),
  roll (X) (a G1 ankle has no yaw; that part is dropped);
- shoulder: collar·shoulder -> pitch, roll (X), yaw (Z), the pitch axis tilted by the MJCF's
  fixed ±16° rotation about X of ``*_shoulder_pitch_link`` (undone by ``*_shoulder_roll_link``);
- elbow: the forearm's direction about Y; the remainder (forearm twist) plus the SMPL wrist ->
  wrist roll (X), pitch (Y), yaw (Z).

Angles are clamped to ``controller.embodiment.g1`` limits. Signs, checked against Unitree's MJCF
with MuJoCo forward kinematics in ``tests/unit/estimators/test_g1_mapping.py`` (not assumed):
positive hip pitch, shoulder pitch and knee move the limb *backward* (so hip flexion and raising
an arm forward are negative, knee flexion positive); positive left hip/shoulder roll moves the
left limb outward (the right side mirrors: negative); positive waist yaw turns the torso left;
positive waist pitch bends forward. Elbow: ``q = pi/2 - flexion`` (0 = forearm at a right angle,
as in the G1's zero pose; pi/2 = straight arm).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from controller.embodiment.g1 import NUM_BODY_JOINTS, Q_MAX, Q_MIN, joint_index
from estimators.joint_decomposition import decompose_tilted
from estimators.rotations import rot_x, rot_y, rot_z
from estimators.smpl import NUM_JOINTS, SMPL_TO_ROBOT, joint

F64 = npt.NDArray[np.float64]

_X = np.array([1.0, 0.0, 0.0])
_Y = np.array([0.0, 1.0, 0.0])
_Z = np.array([0.0, 0.0, 1.0])

# Fixed link rotations in Unitree's MJCF (g1_29dof_rev_1_0.xml), as angles:
# *_hip_roll_link quat (0.996179, 0, -0.0873386, 0) = -10.0° about Y (both legs);
# left/right_shoulder_pitch_link quat (0.990264, ±0.139201, ~0, ~0) = ±16.0° about X.
HIP_ROLL_LINK_TILT_RAD = -2.0 * math.asin(0.0873386)
SHOULDER_PITCH_LINK_TILT_RAD = 2.0 * math.asin(0.139201)

ARM_REST_OFFSET = {1.0: rot_x(math.pi / 2.0), -1.0: rot_x(-math.pi / 2.0)}
"""Upper-arm rest offset ``O`` per side (+1 left, -1 right): T-pose arm -> hanging G1 arm."""
FOREARM_REST_OFFSET = {s: o @ rot_y(math.pi / 2.0) for s, o in ARM_REST_OFFSET.items()}
"""Forearm and hand rest offset: the G1 forearm points forward at zero elbow angle."""


_SIDES = ("left", "right")


def _limits(names: tuple[str, ...]) -> tuple[list[int], F64, F64]:
    idx = [joint_index(n) for n in names]
    return idx, np.asarray(Q_MIN[idx]), np.asarray(Q_MAX[idx])


# SMPL_TO_ROBOT is a permutation (robot axis i = SMPL axis _PERM[i]), so the change of frame
# ``C R C^T`` is a re-indexing: much cheaper than two batched products.
_PERM = np.argmax(SMPL_TO_ROBOT, axis=1)


def to_robot_frame(local_rotmats: npt.ArrayLike) -> F64:
    """``(T, 24, 3, 3)`` SMPL local rotations -> the same rotations in robot convention."""
    r = np.asarray(local_rotmats, dtype=np.float64)
    return r[..., _PERM, :][..., :, _PERM]


def _transpose(r: F64) -> F64:
    return np.swapaxes(r, -1, -2)


@dataclass(frozen=True)
class GroupTable:
    """K three-angle joint groups split in one pass (``decompose_tilted`` in YXZ form)."""

    indices: list[list[int]]
    pre: F64
    post: F64
    offset: F64
    sign: F64
    lower: F64
    upper: F64

    def split(self, rotations: F64, q: F64) -> None:
        """Split ``(K, T, 3, 3)`` group rotations into joint angles, written into ``q``."""
        angles = decompose_tilted(rotations, "YXZ", self.pre, self.post, self.offset,
                                  self.lower, self.upper, self.sign)  # fmt: skip
        for idx, group_angles in zip(self.indices, angles, strict=True):
            q[:, idx] = group_angles[:, : len(idx)]

    def subset(self, rows: list[int]) -> GroupTable:
        return GroupTable([self.indices[r] for r in rows], self.pre[rows], self.post[rows],
                          self.offset[rows], self.sign[rows], self.lower[rows],
                          self.upper[rows])  # fmt: skip


def _group_table(groups: list[tuple[tuple[str, ...], F64, F64, F64, F64]]) -> GroupTable:
    """From ``(joint names, pre, post, offset, sign)``; a group of two joints (an ankle) gets a
    free third angle: it has no G1 joint, so it must not bias the choice of solution."""
    indices, lows, highs = [], [], []
    for names, *_ in groups:
        idx, lo, hi = _limits(names)
        if len(idx) == 2:
            lo, hi = np.append(lo, -np.pi), np.append(hi, np.pi)
        indices.append(idx)
        lows.append(lo)
        highs.append(hi)
    pre, post, offset, sign = (np.array([g[k] for g in groups]) for k in (1, 2, 3, 4))
    return GroupTable(indices, pre, post, offset, sign, np.array(lows), np.array(highs))


_I3 = np.eye(3)
_ZERO = np.zeros(3)
_ONES = np.ones(3)
_SHOULDER_TILT = {1.0: SHOULDER_PITCH_LINK_TILT_RAD, -1.0: -SHOULDER_PITCH_LINK_TILT_RAD}
# Every group is an Ry Rx Rz chain up to fixed rotations (see the module docstring):
# waist Rz Rx Ry = Rx(90°) [Ry Rx Rz(-c)] Rx(-90°);
# wrist Rx Ry Rz = Rz(-90°) [Ry Rx(-b) Rz] Rz(90°);
# hip Ry(p) Rot(tilt X, r) Rot(tilt Z, y) = Ry(p + tilt) Rx(r) Rz(y) tilt^T;
# shoulder Rot(Rx(s t) Y, p) Rx(r) Rz(y) = Rx(s t) Ry(p) Rx(r - s t) Rz(y).
ALL_GROUPS = _group_table(
    [(("waist_yaw", "waist_roll", "waist_pitch"), rot_x(-math.pi / 2), rot_x(math.pi / 2),
      _ZERO, np.array([1.0, 1.0, -1.0]))]
    + [(tuple(f"{side}_hip_{n}" for n in ("pitch", "roll", "yaw")), _I3,
        rot_y(HIP_ROLL_LINK_TILT_RAD), np.array([-HIP_ROLL_LINK_TILT_RAD, 0.0, 0.0]), _ONES)
       for side in _SIDES]
    + [((f"{side}_ankle_pitch", f"{side}_ankle_roll"), _I3, _I3, _ZERO, _ONES)
       for side in _SIDES]
    + [(tuple(f"{side}_shoulder_{n}" for n in ("pitch", "roll", "yaw")),
        rot_x(-_SHOULDER_TILT[s]), _I3, np.array([0.0, _SHOULDER_TILT[s], 0.0]), _ONES)
       for side, s in zip(_SIDES, (1.0, -1.0), strict=True)]
    + [(tuple(f"{side}_wrist_{n}" for n in ("roll", "pitch", "yaw")), rot_z(math.pi / 2),
        rot_z(-math.pi / 2), _ZERO, np.array([1.0, -1.0, 1.0])) for side in _SIDES]
)  # fmt: skip
"""Waist, left/right hip, left/right ankle, left/right shoulder, left/right wrist."""
LIMB_GROUPS = ALL_GROUPS.subset([1, 2, 3, 4, 5, 6])
"""Hips, ankles, shoulders (``estimators.g1_from_joints``)."""

_SIDE_JOINTS = {
    name: [joint(f"{side}_{name}") for side in _SIDES]
    for name in ("hip", "knee", "ankle", "collar", "shoulder", "elbow", "wrist")
}
_ARM_OFFSETS = np.stack([ARM_REST_OFFSET[1.0], ARM_REST_OFFSET[-1.0]])[:, None]  # (2, 1, 3, 3)
_FOREARM_OFFSETS = np.stack([FOREARM_REST_OFFSET[1.0], FOREARM_REST_OFFSET[-1.0]])[:, None]
_KNEES = [joint_index(f"{side}_knee") for side in _SIDES]
_ELBOWS = [joint_index(f"{side}_elbow") for side in _SIDES]


def _unbend(angle: F64) -> F64:
    """``Ry(angle)^T`` for (..., ) angles, as (..., 3, 3)."""
    c, s = np.cos(angle), np.sin(angle)
    out = np.zeros((*angle.shape, 3, 3))
    out[..., 1, 1] = 1.0
    out[..., 0, 0], out[..., 0, 2], out[..., 2, 0], out[..., 2, 2] = c, -s, s, c
    return out


def smpl_to_g1(local_rotmats: npt.ArrayLike, *, clamp: bool = True) -> F64:
    """Map SMPL local joint rotations to G1 joint angles.

    Both sides at once: the two hinges (knees, elbows) first, then the nine three-axis groups
    (waist, hips, ankles, shoulders, wrists) split in closed form in one batch
    (``decompose_tilted``: the same solutions as ``decompose_many``, a fraction of the work).

    Args:
        local_rotmats: ``(T, 24, 3, 3)`` SMPL local rotations (SMPL body frame; joint 0, the
            global orientation, is ignored: the G1 pelvis follows the root on its own).
        clamp: clamp to the G1 joint limits (default); False returns raw angles for analysis.

    Returns:
        ``(T, 29)`` joint angles in hardware order (rad).
    """
    local = np.asarray(local_rotmats, dtype=np.float64)
    if local.ndim != 4 or local.shape[1:] != (NUM_JOINTS, 3, 3):
        raise ValueError(f"local_rotmats shape {local.shape}, want (T, 24, 3, 3)")
    rob = to_robot_frame(local)
    q = np.zeros((local.shape[0], NUM_BODY_JOINTS), dtype=np.float64)
    spine = rob[:, joint("spine1")] @ rob[:, joint("spine2")] @ rob[:, joint("spine3")]

    def sides(name: str) -> F64:  # (2, T, 3, 3): left, right
        pair: F64 = np.swapaxes(rob[:, _SIDE_JOINTS[name]], 0, 1)
        return pair

    knee, elbow = sides("knee"), sides("elbow")
    # Knee: hinge about Y of the shank (-Z); elbow: about Y of the forearm (+X) once the rest
    # offsets are taken out (``hinge_angle`` written out for these axes).
    q_knee = np.arctan2(knee[..., 0, 2], knee[..., 2, 2])
    elbow_rot = _transpose(_ARM_OFFSETS) @ elbow @ _FOREARM_OFFSETS
    q_elbow = np.arctan2(-elbow_rot[..., 2, 0], elbow_rot[..., 0, 0])
    q[:, _KNEES] = q_knee.T
    q[:, _ELBOWS] = q_elbow.T
    ankle = _unbend(q_knee) @ knee @ sides("ankle")
    upper = sides("collar") @ sides("shoulder") @ _ARM_OFFSETS
    hand = _unbend(q_elbow) @ elbow_rot @ _transpose(_FOREARM_OFFSETS) @ sides("wrist")
    hand = hand @ _FOREARM_OFFSETS
    ALL_GROUPS.split(np.concatenate([spine[None], sides("hip"), ankle, upper, hand]), q)
    if clamp:
        np.clip(q, Q_MIN, Q_MAX, out=q)
    return q
