"""SMPL joint *positions* -> the G1's body joint angles, for producers that send no usable pose.

Some SONIC producers fill ``smpl_joints`` (24 positions, what SONIC's encoder consumes) and leave
``smpl_pose`` zero: the webcam example does. Mapping that zero pose would command SMPL's rest
pose, a T-pose. This module maps the positions instead, from limb directions only, so it works
for any producer's skeleton proportions.

Input convention (SONIC's encoder joints, ``estimators.fk.root_local_joints``): ``(T, 24, 3)``
metres in the pelvis frame, +X forward, +Y left, +Z up, pelvis at the origin. Joint order and
the G1 axis conventions are those of ``estimators.g1_mapping``:

- waist: the torso frame (up = neck - spine1, left = left collar - right collar) relative to the
  pelvis, split into yaw (Z), roll (X), pitch (Y);
- arms, in the G1 torso frame that those (clamped) waist angles give: the G1's zero pose hangs
  the upper arm down (-Z) with the forearm forward (+X). The upper arm's frame has its Z axis
  along minus the upper arm and its X axis along the forearm's component across it (the elbow
  bends about Y); split like ``g1_mapping`` (pitch about the MJCF's tilted Y, roll X, yaw Z).
  Elbow ``q = pi/2 - flexion``;
- legs, in the pelvis frame: the thigh's frame has Z along minus the thigh and X against the
  shank's component across it (the knee bends backward about Y); hip pitch (Y), roll and yaw
  (about the MJCF's tilted X and Z); knee = flexion; ankle pitch from the foot direction
  (ankle -> ball of the foot) against its rest direction; ankle roll 0 (one foot vector cannot
  show it).

What positions cannot show is not invented: wrist angles are left at 0 (the caller takes them
from the producer's ``joint_pos``, as SONIC does) and so is ankle roll. An arm or leg held
straight has no forearm/shank plane to fix its twist; the twist then comes from the minimal
swing out of the zero pose, blended in smoothly below 15° of flexion so the angles never jump.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt

from controller.embodiment.g1 import NUM_BODY_JOINTS, Q_MAX, Q_MIN, joint_index
from estimators.g1_mapping import LIMB_GROUPS
from estimators.joint_decomposition import cross3
from estimators.smpl import joint

F64 = npt.NDArray[np.float64]

MIN_BODY_EXTENT_M = 0.05
"""A frame whose joints all lie within this distance of the pelvis carries no body (all-zero
``smpl_joints``): ``valid_frames`` refuses it."""
MIN_SEGMENT_M = 0.01
"""Shorter limb or torso segments are degenerate (coincident joints)."""
_TWIST_BLEND_SIN = 0.26
"""sin(15°): below this flexion the swing-derived twist is blended in (see module docstring)."""
_TWIST_BLEND_WEIGHT = 0.05

_X = np.array([1.0, 0.0, 0.0])
_Y = np.array([0.0, 1.0, 0.0])
_Z = np.array([0.0, 0.0, 1.0])


def _limits(names: tuple[str, ...]) -> tuple[list[int], F64, F64]:
    idx = [joint_index(n) for n in names]
    return idx, np.asarray(Q_MIN[idx]), np.asarray(Q_MAX[idx])


_WAIST = _limits(("waist_yaw", "waist_roll", "waist_pitch"))
_REST_FOOT = np.array([0.08, 0.0, -0.029]) / np.hypot(0.08, 0.029)
"""Rest direction ankle -> ball of the foot (``CanonicalAdultSkeleton``: 0.08H forward, from
0.039H down to 0.01H high), pelvis frame."""


def _norm(v: F64) -> F64:
    out: F64 = np.sqrt(np.einsum("...i,...i->...", v, v))
    return out


def _unit(v: F64) -> F64:
    out: F64 = v / np.maximum(_norm(v), 1e-12)[..., None]
    return out


def _dot(a: F64, b: F64) -> F64:
    out: F64 = np.einsum("...i,...i->...", a, b)
    return out


def _segment_pairs() -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    pairs = [("spine1", "neck"), ("left_collar", "right_collar")]
    for side in ("left", "right"):
        chain = [f"{side}_{n}" for n in ("hip", "knee", "ankle", "foot")]
        arm = [f"{side}_{n}" for n in ("shoulder", "elbow", "wrist")]
        pairs += list(itertools.pairwise(chain)) + list(itertools.pairwise(arm))
    start = np.array([joint(a) for a, _ in pairs], dtype=np.intp)
    end = np.array([joint(b) for _, b in pairs], dtype=np.intp)
    return start, end


_SEGMENT_START, _SEGMENT_END = _segment_pairs()


def valid_frames(joints: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """``(T,)`` True where a frame holds a body: finite, not all at the pelvis, no limb or torso
    segment collapsed to a point."""
    j = np.asarray(joints, dtype=np.float64)
    finite = np.all(np.isfinite(j), axis=(1, 2))
    safe = np.where(finite[:, None, None], j, 0.0)
    extent = _norm(safe).max(axis=1) > MIN_BODY_EXTENT_M
    segments = _norm(safe[:, _SEGMENT_END] - safe[:, _SEGMENT_START])
    ok: npt.NDArray[np.bool_] = finite & extent & np.all(segments > MIN_SEGMENT_M, axis=1)
    return ok


def _frame(z_axis: F64, x_hint: F64) -> F64:
    """(N, 3, 3) rotation with columns x, y, z: z given, x = ``x_hint`` made perpendicular."""
    x = _unit(x_hint - _dot(x_hint, z_axis)[:, None] * z_axis)
    y = cross3(z_axis, x)
    return np.stack([x, y, z_axis], axis=-1)


def _swing_x(d: F64) -> F64:
    """Where +X goes under the minimal rotation taking -Z to ``d`` (the twist-free swing).

    With ``k = (-Z × d) / |.|``, Rodrigues on X reduces to components, since ``-Z × d =
    (d_y, -d_x, 0)``; a swing of 180 degrees (limb straight up) keeps X.
    """
    dx, dy, dz = d[:, 0], d[:, 1], d[:, 2]
    cos = -dz
    sin = np.hypot(dx, dy)
    safe = np.maximum(sin, 1e-12)
    kx, ky = dy / safe, -dx / safe
    out = np.empty_like(d)
    out[:, 0] = cos + kx * kx * (1.0 - cos)
    out[:, 1] = kx * ky * (1.0 - cos)
    out[:, 2] = -ky * sin  # (k × X)_z = -k_y
    return out


def _limb_frame(d: F64, child: F64, child_sign: float) -> tuple[F64, F64]:
    """Frame of a limb along ``d`` (unit) and its flexion toward ``child`` (unit).

    The frame's X axis points along ``child_sign`` times the child's component across ``d``
    (+1: forearm forward of a flexed elbow; -1: shank behind a flexed knee)."""
    cos = np.clip(_dot(d, child), -1.0, 1.0)
    flexion = np.arccos(cos)
    across = child_sign * (child - cos[:, None] * d)
    sin = np.sin(flexion)
    weight = _TWIST_BLEND_WEIGHT * np.clip(1.0 - sin / _TWIST_BLEND_SIN, 0.0, 1.0) ** 2
    hint = across + weight[:, None] * _swing_x(d)
    return _frame(-d, hint), flexion


_SIDES = {name: np.array([[joint(f"{side}_{name}")] for side in ("left", "right")])
          for name in ("hip", "knee", "ankle", "foot", "shoulder", "elbow", "wrist")}  # fmt: skip
_ELBOWS = [joint_index(f"{side}_elbow") for side in ("left", "right")]
_KNEES = [joint_index(f"{side}_knee") for side in ("left", "right")]
_ANKLES = [joint_index(f"{side}_ankle_pitch") for side in ("left", "right")]


def joints_to_g1(joints: npt.ArrayLike, *, clamp: bool = True) -> F64:
    """Map SMPL joint positions to G1 joint angles (see the module docstring).

    Both sides are mapped together and the limb groups split in closed form in one batched
    pass, so a message of a few frames costs a fixed, small number of array operations.

    Args:
        joints: ``(T, 24, 3)`` root-local SMPL joints, robot convention (m). Frames that
            ``valid_frames`` refuses give meaningless angles: check first.
        clamp: clamp to the G1 joint limits (default).

    Returns:
        ``(T, 29)`` joint angles, hardware order (rad); wrists and ankle rolls are 0.
    """
    j = np.asarray(joints, dtype=np.float64)
    if j.ndim != 3 or j.shape[1:] != (24, 3):
        raise ValueError(f"joints shape {j.shape}, want (T, 24, 3)")
    t = j.shape[0]
    q = np.zeros((t, NUM_BODY_JOINTS))
    up = _unit(j[:, joint("neck")] - j[:, joint("spine1")])
    left = j[:, joint("left_collar")] - j[:, joint("right_collar")]
    torso = _frame(up, cross3(left, up))  # x = left × up = forward
    idx, lo, hi = _WAIST
    # R = Rz(yaw) Rx(roll) Ry(pitch): R21 = sin(roll). The principal solution (|roll| <= 90°)
    # is the one inside the waist's roll range (±30°), so no branch search is needed.
    yaw = np.arctan2(-torso[:, 0, 1], torso[:, 1, 1])
    roll = np.arcsin(np.clip(torso[:, 2, 1], -1.0, 1.0))
    pitch = np.arctan2(-torso[:, 2, 0], torso[:, 2, 2])
    waist = np.clip(np.stack([yaw, roll, pitch], axis=-1), lo, hi)
    q[:, idx] = waist
    to_torso = np.swapaxes(_waist_rotation(waist), 1, 2)  # (T, 3, 3)

    def side_points(name: str) -> F64:  # (2, T, 3): left, right
        points: F64 = np.swapaxes(j[:, _SIDES[name][:, 0]], 0, 1)
        return points

    def flat(v: F64) -> F64:
        out: F64 = v.reshape(2 * t, 3)
        return out

    # Arms, in the G1 torso frame (what the clamped waist gives).
    shoulder, elbow, wrist = side_points("shoulder"), side_points("elbow"), side_points("wrist")
    upper = _unit(np.einsum("tij,stj->sti", to_torso, elbow - shoulder))
    fore = _unit(np.einsum("tij,stj->sti", to_torso, wrist - elbow))
    arm_frames, arm_flexion = _limb_frame(flat(upper), flat(fore), 1.0)
    q[:, _ELBOWS] = (np.pi / 2.0 - arm_flexion).reshape(2, t).T
    # Legs, in the pelvis frame.
    hip, knee, ankle, foot = (side_points(n) for n in ("hip", "knee", "ankle", "foot"))
    leg_frames, knee_flexion = _limb_frame(flat(_unit(knee - hip)), flat(_unit(ankle - knee)), -1.0)
    q[:, _KNEES] = knee_flexion.reshape(2, t).T
    shank_frames = leg_frames @ _rot_y_batch(knee_flexion)
    foot_local = np.einsum("nji,nj->ni", shank_frames, flat(_unit(foot - ankle)))
    # Hips, (no ankle rotation: the foot vector gives only its pitch), shoulders.
    no_ankles = np.broadcast_to(np.eye(3), (2, t, 3, 3))
    rotations = np.concatenate([leg_frames.reshape(2, t, 3, 3), no_ankles,
                                arm_frames.reshape(2, t, 3, 3)])  # fmt: skip
    LIMB_GROUPS.split(rotations, q)
    q[:, _ANKLES] = _angle_about_y(_REST_FOOT, foot_local).reshape(2, t).T
    if clamp:
        np.clip(q, Q_MIN, Q_MAX, out=q)
    return q


def _waist_rotation(waist: F64) -> F64:
    """(T, 3, 3) ``Rz(yaw) Rx(roll) Ry(pitch)`` of (T, 3) waist angles."""
    yaw, roll, pitch = waist[:, 0], waist[:, 1], waist[:, 2]
    return _rot_z_batch(yaw) @ _rot_x_batch(roll) @ _rot_y_batch(pitch)


def _rot_x_batch(a: F64) -> F64:
    c, s = np.cos(a), np.sin(a)
    out = np.zeros((a.shape[0], 3, 3))
    out[:, 0, 0] = 1.0
    out[:, 1, 1], out[:, 1, 2], out[:, 2, 1], out[:, 2, 2] = c, -s, s, c
    return out


def _rot_y_batch(a: F64) -> F64:
    c, s = np.cos(a), np.sin(a)
    out = np.zeros((a.shape[0], 3, 3))
    out[:, 1, 1] = 1.0
    out[:, 0, 0], out[:, 0, 2], out[:, 2, 0], out[:, 2, 2] = c, s, -s, c
    return out


def _rot_z_batch(a: F64) -> F64:
    c, s = np.cos(a), np.sin(a)
    out = np.zeros((a.shape[0], 3, 3))
    out[:, 2, 2] = 1.0
    out[:, 0, 0], out[:, 0, 1], out[:, 1, 0], out[:, 1, 1] = c, -s, s, c
    return out


def _angle_about_y(start: F64, end: F64) -> F64:
    """Angle about +Y turning ``start`` (3,) toward ``end`` (T, 3), both projected on XZ."""
    # Rot(Y, a) maps (x, z) to (x cos a + z sin a, -x sin a + z cos a).
    sin_term = start[2] * end[:, 0] - start[0] * end[:, 2]
    cos_term = start[0] * end[:, 0] + start[2] * end[:, 2]
    out: F64 = np.arctan2(sin_term, cos_term)
    return out
