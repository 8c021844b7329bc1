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

import numpy as np
import numpy.typing as npt

from controller.embodiment.g1 import NUM_BODY_JOINTS, Q_MAX, Q_MIN, joint_index
from estimators.joint_decomposition import decompose_tilted, hinge_angle
from estimators.rotations import axis_rotation, rot_x, rot_y
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


def _tables(
    names: list[tuple[str, ...]], pre: list[F64], post: list[F64], offsets: list[F64]
) -> tuple[list[list[int]], F64, F64, F64, F64, F64]:
    """Joint indices, fixed rotations, angle offsets and limits of a batch of groups (a group of
    two joints, an ankle, gets a free third angle: no G1 joint, so it must not bias the choice).
    """
    indices, lows, highs = [], [], []
    for group in names:
        idx, lo, hi = _limits(group)
        if len(idx) == 2:
            lo, hi = np.append(lo, -np.pi), np.append(hi, np.pi)
        indices.append(idx)
        lows.append(lo)
        highs.append(hi)
    return (indices, np.array(pre), np.array(post), np.array(offsets), np.array(lows),
            np.array(highs))  # fmt: skip


_I3 = np.eye(3)
_HIP_TILT = rot_y(HIP_ROLL_LINK_TILT_RAD)
_NO_OFFSET = np.zeros(3)
# Hips, ankles and shoulders are Ry Rx Rz chains up to fixed rotations (module docstring):
# hip: Ry(p) Rot(tilt X, r) Rot(tilt Z, y) = Ry(p + tilt) Rx(r) Rz(y) tilt^T;
# shoulder: Rot(Rx(s t) Y, p) Rx(r) Rz(y) = Rx(s t) Ry(p) Rx(r - s t) Rz(y).
YXZ_GROUPS = _tables(
    [
        *(tuple(f"{side}_hip_{n}" for n in ("pitch", "roll", "yaw")) for side in _SIDES),
        *((f"{side}_ankle_pitch", f"{side}_ankle_roll") for side in _SIDES),
        *(tuple(f"{side}_shoulder_{n}" for n in ("pitch", "roll", "yaw")) for side in _SIDES),
    ],
    pre=[_I3, _I3, _I3, _I3] + [rot_x(-s * SHOULDER_PITCH_LINK_TILT_RAD) for s in (1.0, -1.0)],
    post=[_HIP_TILT, _HIP_TILT, _I3, _I3, _I3, _I3],
    offsets=[np.array([-HIP_ROLL_LINK_TILT_RAD, 0.0, 0.0])] * 2
    + [_NO_OFFSET] * 2
    + [np.array([0.0, s * SHOULDER_PITCH_LINK_TILT_RAD, 0.0]) for s in (1.0, -1.0)],
)
"""Left/right hip, left/right ankle, left/right shoulder."""
WRIST_GROUPS = _tables(
    [tuple(f"{side}_wrist_{n}" for n in ("roll", "pitch", "yaw")) for side in _SIDES],
    pre=[_I3, _I3], post=[_I3, _I3], offsets=[_NO_OFFSET] * 2,
)  # fmt: skip
WAIST_GROUP = _tables([("waist_yaw", "waist_roll", "waist_pitch")], pre=[_I3], post=[_I3],
                      offsets=[_NO_OFFSET])  # fmt: skip


def split_groups(
    rotations: F64, tables: tuple[list[list[int]], F64, F64, F64, F64, F64], sequence: str,
    q: F64,
) -> None:  # fmt: skip
    """Split ``(K, T, 3, 3)`` group rotations into joint angles, written into ``q`` (T, 29)."""
    indices, pre, post, offsets, lows, highs = tables
    angles = decompose_tilted(rotations, sequence, pre, post, offsets, lows, highs)
    for idx, group_angles in zip(indices, angles, strict=True):
        q[:, idx] = group_angles[:, : len(idx)]


def _leg_rotations(rob: F64, side: str, q: F64) -> tuple[F64, F64]:
    """The hip's rotation and the ankle's (after the knee hinge); writes the knee angle."""
    hip, knee, ankle = (joint(f"{side}_{n}") for n in ("hip", "knee", "ankle"))
    knee_rot = rob[:, knee]
    q_knee = hinge_angle(knee_rot, _Y, -_Z)
    q[:, joint_index(f"{side}_knee")] = q_knee
    rest = _transpose(axis_rotation(_Y, q_knee)) @ knee_rot @ rob[:, ankle]
    return rob[:, hip], rest


def _arm_rotations(rob: F64, side: str, q: F64) -> tuple[F64, F64]:
    """The upper arm's rotation and the hand's (after the elbow hinge); writes the elbow."""
    s = 1.0 if side == "left" else -1.0
    collar, shoulder, elbow, wrist = (
        joint(f"{side}_{n}") for n in ("collar", "shoulder", "elbow", "wrist")
    )
    arm_off, fore_off = ARM_REST_OFFSET[s], FOREARM_REST_OFFSET[s]
    upper = rob[:, collar] @ rob[:, shoulder] @ arm_off
    elbow_rot = arm_off.T @ rob[:, elbow] @ fore_off
    q_elbow = hinge_angle(elbow_rot, _Y, _X)
    q[:, joint_index(f"{side}_elbow")] = q_elbow
    hand = _transpose(axis_rotation(_Y, q_elbow)) @ arm_off.T @ rob[:, elbow] @ rob[:, wrist]
    return upper, hand @ fore_off


def smpl_to_g1(local_rotmats: npt.ArrayLike, *, clamp: bool = True) -> F64:
    """Map SMPL local joint rotations to G1 joint angles.

    The two hinges (knees, elbows) are solved first; the nine three-axis groups (waist, hips,
    ankles, shoulders, wrists) are then split in closed form, batched by axis sequence
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
    split_groups(spine[None], WAIST_GROUP, "ZXY", q)
    legs = [_leg_rotations(rob, side, q) for side in _SIDES]
    arms = [_arm_rotations(rob, side, q) for side in _SIDES]
    hips, ankles = [leg[0] for leg in legs], [leg[1] for leg in legs]
    shoulders, hands = [arm[0] for arm in arms], [arm[1] for arm in arms]
    split_groups(np.stack([*hips, *ankles, *shoulders]), YXZ_GROUPS, "YXZ", q)
    split_groups(np.stack(hands), WRIST_GROUPS, "XYZ", q)
    if clamp:
        np.clip(q, Q_MIN, Q_MAX, out=q)
    return q
