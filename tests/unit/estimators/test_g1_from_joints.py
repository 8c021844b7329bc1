"""SMPL joint positions -> G1 angles: agreement with the rotation mapping, validity, continuity.

Real: the positions mapping, SMPL forward kinematics with the canonical skeleton, and the
rotation-based ``smpl_to_g1`` it is checked against. Faked: the human poses (random G1-shaped
rotations written as SMPL local rotations, so the expected angles are known).
"""

from __future__ import annotations

import numpy as np

from controller.embodiment.g1 import BODY_JOINT_NAMES, Q_MAX, Q_MIN, joint_index
from estimators.fk import root_local_joints
from estimators.g1_from_joints import joints_to_g1, valid_frames
from estimators.g1_mapping import (
    ARM_REST_OFFSET,
    FOREARM_REST_OFFSET,
    HIP_ROLL_LINK_TILT_RAD,
    SHOULDER_PITCH_LINK_TILT_RAD,
    smpl_to_g1,
)
from estimators.rotations import axis_rotation, rot_x, rot_y, rot_z
from estimators.skeleton import CanonicalAdultSkeleton
from estimators.smpl import SMPL_TO_ROBOT, joint

X, Y, Z = np.eye(3)
SKELETON = CanonicalAdultSkeleton().load()


def _random_g1_shaped_pose(n: int, seed: int) -> np.ndarray:
    """(n, 24, 3, 3) SMPL local rotations built from G1 joint angles inside the limits, with
    elbows and knees bent at least ~17° so that each limb's plane is defined."""
    rng = np.random.default_rng(seed)
    local = np.tile(np.eye(3), (n, 24, 1, 1))

    def put(name: str, rob: np.ndarray) -> None:
        local[:, joint(name)] = SMPL_TO_ROBOT.T @ rob @ SMPL_TO_ROBOT

    def angles(name: str, margin: float = 0.15) -> np.ndarray:
        i = joint_index(name)
        return rng.uniform(Q_MIN[i] + margin, Q_MAX[i] - margin, n)

    def rotations(*pairs: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        out = np.tile(np.eye(3), (n, 1, 1))
        for axis, values in pairs:
            out = out @ np.stack([axis_rotation(axis, a) for a in values])
        return out

    put("spine1", rotations((Z, angles("waist_yaw")), (X, angles("waist_roll")),
                            (Y, angles("waist_pitch"))))  # fmt: skip
    tilt = rot_y(HIP_ROLL_LINK_TILT_RAD)
    for side, s in (("left", 1.0), ("right", -1.0)):
        pitch_axis = rot_x(s * SHOULDER_PITCH_LINK_TILT_RAD) @ Y
        upper = rotations(
            (pitch_axis, angles(f"{side}_shoulder_pitch")),
            (X, angles(f"{side}_shoulder_roll")),
            (Z, angles(f"{side}_shoulder_yaw")),
        )
        put(f"{side}_shoulder", upper @ ARM_REST_OFFSET[s].T)
        elbow = np.minimum(angles(f"{side}_elbow"), np.pi / 2 - 0.3)
        put(f"{side}_elbow", ARM_REST_OFFSET[s] @ rotations((Y, elbow)) @ FOREARM_REST_OFFSET[s].T)
        put(f"{side}_hip", rotations((Y, angles(f"{side}_hip_pitch")),
                                     (tilt @ X, angles(f"{side}_hip_roll")),
                                     (tilt @ Z, angles(f"{side}_hip_yaw"))))  # fmt: skip
        knee = rng.uniform(0.3, Q_MAX[joint_index(f"{side}_knee")] - 0.15, n)
        put(f"{side}_knee", rotations((Y, knee)))
        put(f"{side}_ankle", rotations((Y, angles(f"{side}_ankle_pitch"))))
    return local


def test_positions_give_the_same_angles_as_the_rotations_for_bent_limbs() -> None:
    local = _random_g1_shaped_pose(300, seed=1)
    joints = root_local_joints(local, SKELETON)
    assert valid_frames(joints).all()
    from_positions = joints_to_g1(joints)
    from_rotations = smpl_to_g1(local)
    observable = [n for n in BODY_JOINT_NAMES if "wrist" not in n and "ankle_roll" not in n]
    for name in observable:
        i = BODY_JOINT_NAMES.index(name)
        assert np.abs(from_positions[:, i] - from_rotations[:, i]).max() < 1e-6, name


def test_what_positions_cannot_show_is_zero_not_invented() -> None:
    joints = root_local_joints(_random_g1_shaped_pose(20, seed=2), SKELETON)
    q = joints_to_g1(joints)
    for name in BODY_JOINT_NAMES:
        if "wrist" in name or "ankle_roll" in name:
            assert np.all(q[:, BODY_JOINT_NAMES.index(name)] == 0.0), name


def test_all_zero_or_collapsed_joints_are_not_a_body() -> None:
    joints = root_local_joints(_random_g1_shaped_pose(4, seed=3), SKELETON)
    joints[1] = 0.0  # all-zero smpl_joints (a producer that fills nothing)
    joints[2, joint("left_elbow")] = joints[2, joint("left_shoulder")]  # a collapsed upper arm
    joints[3, 5, 0] = np.nan
    assert valid_frames(joints).tolist() == [True, False, False, False]


def test_a_straightening_arm_keeps_its_angles_continuous() -> None:
    """Through full extension the twist has no forearm plane: it must not jump."""
    n = 200
    local = np.tile(np.eye(3), (n, 24, 1, 1))
    flexion = np.linspace(0.6, 0.0, n)  # from bent to straight
    elbow_rob = ARM_REST_OFFSET[1.0] @ np.stack([rot_y(np.pi / 2 - f) for f in flexion])
    local[:, joint("left_elbow")] = (
        SMPL_TO_ROBOT.T @ (elbow_rob @ FOREARM_REST_OFFSET[1.0].T) @ (SMPL_TO_ROBOT)
    )
    shoulder_rob = rot_x(0.4) @ rot_z(0.3) @ ARM_REST_OFFSET[1.0].T
    local[:, joint("left_shoulder")] = SMPL_TO_ROBOT.T @ shoulder_rob @ SMPL_TO_ROBOT
    q = joints_to_g1(root_local_joints(local, SKELETON))
    arm = [joint_index(f"left_shoulder_{n}") for n in ("pitch", "roll", "yaw")]
    steps = np.abs(np.diff(q[:, arm], axis=0)).max()
    assert steps < 0.05, f"largest per-frame change {steps:.3f} rad"
    assert abs(q[-1, joint_index("left_elbow")] - np.pi / 2) < 1e-6


def test_the_rest_pose_is_a_t_pose_and_hanging_arms_are_the_g1_zero() -> None:
    """Positions say what the body does: a real T-pose maps to one, hanging arms do not."""
    rest = root_local_joints(np.tile(np.eye(3), (1, 24, 1, 1)), SKELETON)
    q = joints_to_g1(rest)
    assert q[0, joint_index("left_shoulder_roll")] > 1.4
    hanging = np.tile(np.eye(3), (1, 24, 1, 1))
    for side, s in (("left", 1.0), ("right", -1.0)):
        # Arms down along the body, forearms forward: the G1's zero arm pose.
        hanging[0, joint(f"{side}_shoulder")] = (
            SMPL_TO_ROBOT.T @ ARM_REST_OFFSET[s].T @ (SMPL_TO_ROBOT)
        )
        hanging[0, joint(f"{side}_elbow")] = (
            SMPL_TO_ROBOT.T @ ARM_REST_OFFSET[s] @ FOREARM_REST_OFFSET[s].T @ SMPL_TO_ROBOT
        )
    q = joints_to_g1(root_local_joints(hanging, SKELETON))
    arms = [joint_index(f"{side}_{n}") for side in ("left", "right")
            for n in ("shoulder_pitch", "shoulder_roll", "shoulder_yaw", "elbow")]  # fmt: skip
    assert np.abs(q[0, arms]).max() < 1e-6
