"""SMPL -> G1 joint mapping: known poses, and signs/axes checked with MuJoCo on Unitree's MJCF.

Real: the mapping, the joint decomposition, and MuJoCo forward kinematics of the official G1
MJCF from ../shared/robots/unitree_g1 (tests that need it skip when the folder is absent).
Faked: the human poses (constructed SMPL rotations with known joint angles).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from controller.embodiment.g1 import BODY_JOINT_NAMES, Q_MAX, Q_MIN, joint_index
from estimators.g1_mapping import (
    ARM_REST_OFFSET,
    FOREARM_REST_OFFSET,
    HIP_ROLL_LINK_TILT_RAD,
    smpl_to_g1,
    to_robot_frame,
)
from estimators.joint_decomposition import decompose_three_axes, hinge_angle
from estimators.rotations import axis_angle_to_matrix, axis_rotation, rot_x, rot_y, rot_z
from estimators.smpl import joint

MJCF = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "robots"
    / "unitree_g1"
    / "g1_29dof_rev_1_0.xml"
)
TOL = 0.05  # rad, the bound for known poses
HALF_PI = math.pi / 2


def _pose(**joints: np.ndarray) -> np.ndarray:
    """(1, 24, 3, 3) SMPL local rotations: identity except the named joints."""
    local = np.tile(np.eye(3), (1, 24, 1, 1))
    for name, rot in joints.items():
        local[0, joint(name)] = rot
    return local


def _hanging(**extra: np.ndarray) -> np.ndarray:
    """Arms down at the sides (SMPL rests in a T-pose), plus extra joint rotations."""
    base = {"left_shoulder": rot_z(-HALF_PI), "right_shoulder": rot_z(HALF_PI)}
    base.update(extra)
    return _pose(**base)


def _q(local: np.ndarray) -> dict[str, float]:
    q = smpl_to_g1(local)[0]
    return {
        name.removesuffix("_joint"): float(v) for name, v in zip(BODY_JOINT_NAMES, q, strict=True)
    }


def _assert_angles(q: dict[str, float], expected: dict[str, float]) -> None:
    for name in q:
        want = expected.get(name, 0.0)
        assert abs(q[name] - want) < TOL, f"{name}: {q[name]:+.3f}, expected {want:+.3f}"


def test_arms_hanging_is_the_g1_zero_arm_pose_except_straight_elbows() -> None:
    _assert_angles(_q(_hanging()), {"left_elbow": HALF_PI, "right_elbow": HALF_PI})


def test_elbow_bent_90_degrees() -> None:
    local = _hanging(left_elbow=rot_y(-HALF_PI), right_elbow=rot_y(HALF_PI))
    _assert_angles(_q(local), {})  # the G1's zero pose has its forearms at a right angle


def test_arms_raised_sideways_t_pose() -> None:
    _assert_angles(
        _q(_pose()),
        {"left_shoulder_roll": HALF_PI, "right_shoulder_roll": -HALF_PI,
         "left_elbow": HALF_PI, "right_elbow": HALF_PI},
    )  # fmt: skip


def test_arm_raised_sideways_45_degrees() -> None:
    local = _hanging(left_shoulder=rot_z(-math.pi / 4))
    _assert_angles(
        _q(local),
        {"left_shoulder_roll": math.pi / 4, "left_elbow": HALF_PI, "right_elbow": HALF_PI},
    )


def test_hip_flexed_90_with_knee_bent_90() -> None:
    local = _hanging(
        left_hip=rot_x(-HALF_PI), left_knee=rot_x(HALF_PI),
        right_hip=rot_x(-0.5), left_elbow=rot_y(-HALF_PI), right_elbow=rot_y(HALF_PI),
    )  # fmt: skip
    _assert_angles(
        _q(local), {"left_hip_pitch": -HALF_PI, "left_knee": HALF_PI, "right_hip_pitch": -0.5}
    )


def test_torso_yawed_30_degrees_across_three_spine_joints() -> None:
    yaw = math.radians(10)
    local = _hanging(
        spine1=rot_y(yaw), spine2=rot_y(yaw), spine3=rot_y(yaw),
        left_elbow=rot_y(-HALF_PI), right_elbow=rot_y(HALF_PI),
    )  # fmt: skip
    _assert_angles(_q(local), {"waist_yaw": math.radians(30)})


def test_torso_bent_forward() -> None:
    local = _hanging(spine1=rot_x(0.35), left_elbow=rot_y(-HALF_PI), right_elbow=rot_y(HALF_PI))
    _assert_angles(_q(local), {"waist_pitch": 0.35})


def test_ankle_pitch_from_foot_rotation() -> None:
    """Toes down (SMPL +X rotation of the ankle) is positive G1 ankle pitch."""
    local = _hanging(left_ankle=rot_x(0.3), left_elbow=rot_y(-HALF_PI), right_elbow=rot_y(HALF_PI))
    _assert_angles(_q(local), {"left_ankle_pitch": 0.3})


def test_left_and_right_mirror() -> None:
    """A mirrored human pose gives equal pitch/elbow angles and opposite roll/yaw angles."""
    rng = np.random.default_rng(3)
    local = axis_angle_to_matrix(rng.normal(0.0, 0.3, (20, 24, 3)))
    local[:, joint("left_shoulder")] = local[:, joint("left_shoulder")] @ rot_z(-1.2)
    mirror = np.diag([-1.0, 1.0, 1.0])  # SMPL's x is the body's left
    swapped = local.copy()
    for name in ("hip", "knee", "ankle", "collar", "shoulder", "elbow", "wrist"):
        left, right = joint(f"left_{name}"), joint(f"right_{name}")
        swapped[:, left], swapped[:, right] = local[:, right], local[:, left]
    mirrored = mirror @ swapped @ mirror
    q = smpl_to_g1(local, clamp=False)
    qm = smpl_to_g1(mirrored, clamp=False)
    for name in BODY_JOINT_NAMES:
        if not name.startswith("left_"):
            continue
        other = joint_index(name.replace("left_", "right_"))
        sign = -1.0 if ("roll" in name or "yaw" in name) else 1.0
        np.testing.assert_allclose(qm[:, other], sign * q[:, joint_index(name)], atol=1e-9)


def test_output_always_inside_limits() -> None:
    rng = np.random.default_rng(7)
    local = axis_angle_to_matrix(rng.normal(0.0, 1.5, (200, 24, 3)))
    q = smpl_to_g1(local)
    assert q.shape == (200, 29)
    assert np.all(q >= Q_MIN)
    assert np.all(q <= Q_MAX)


def test_decomposition_recomposes_tilted_axes() -> None:
    rng = np.random.default_rng(0)
    axes = (np.array([0.0, 1.0, 0.0]), rot_y(HIP_ROLL_LINK_TILT_RAD) @ [1, 0, 0.0],
            rot_y(HIP_ROLL_LINK_TILT_RAD) @ [0, 0, 1.0])  # fmt: skip
    angles = rng.uniform(-1.2, 1.2, (500, 3))
    rot = (axis_rotation(axes[0], angles[:, 0]) @ axis_rotation(axes[1], angles[:, 1])
           @ axis_rotation(axes[2], angles[:, 2]))  # fmt: skip
    out = decompose_three_axes(rot, axes, [-3.0] * 3, [3.0] * 3)
    np.testing.assert_allclose(out, angles, atol=1e-9)
    assert np.allclose(hinge_angle(axis_rotation(axes[0], angles[:, 0]), axes[0], [1, 0, 0.0]),
                       angles[:, 0])  # fmt: skip


# ------------------------------------------------------------------ MuJoCo cross-checks

mujoco = pytest.importorskip("mujoco")
needs_mjcf = pytest.mark.skipif(not MJCF.exists(), reason=f"official G1 MJCF not found at {MJCF}")


@pytest.fixture(scope="module")
def g1_fk() -> Callable[[np.ndarray], Callable[[str], tuple[np.ndarray, np.ndarray]]]:
    """q_hw -> (body name -> (position, rotation) in the pelvis frame)."""
    model = mujoco.MjModel.from_xml_path(str(MJCF))
    data = mujoco.MjData(model)
    addresses = [model.jnt_qposadr[model.joint(n).id] for n in BODY_JOINT_NAMES]

    def run(q: np.ndarray) -> Callable[[str], tuple[np.ndarray, np.ndarray]]:
        data.qpos[:] = 0.0
        data.qpos[3] = 1.0
        data.qpos[addresses] = q
        mujoco.mj_kinematics(model, data)
        pelvis_r = data.xmat[model.body("pelvis").id].reshape(3, 3).copy()
        pelvis_p = data.xpos[model.body("pelvis").id].copy()

        def body(name: str) -> tuple[np.ndarray, np.ndarray]:
            bid = model.body(name).id
            pos = pelvis_r.T @ (data.xpos[bid] - pelvis_p)
            return pos, pelvis_r.T @ data.xmat[bid].reshape(3, 3)

        return body

    return run


def _single(name: str, value: float) -> np.ndarray:
    q = np.zeros(29)
    q[joint_index(name)] = value
    return q


FkFn = Callable[[np.ndarray], Callable[[str], tuple[np.ndarray, np.ndarray]]]


@needs_mjcf
def test_mapped_links_match_mujoco_orientations(g1_fk: FkFn) -> None:
    """For poses the G1 can take, every mapped link has the human's orientation (+ rest offset)."""
    rng = np.random.default_rng(1)
    n = 40
    local = np.tile(np.eye(3), (n, 24, 1, 1))
    for name in ("spine1", "spine2", "spine3", "left_hip", "right_hip", "left_collar",
                 "right_collar", "left_shoulder", "right_shoulder", "left_wrist", "right_wrist",
                 "left_ankle", "right_ankle"):  # fmt: skip
        local[:, joint(name)] = axis_angle_to_matrix(rng.normal(0.0, 0.25, (n, 3)))
    flex = rng.uniform(0.1, 2.0, n)
    local[:, joint("left_elbow")] = axis_rotation([0, -1.0, 0], flex)
    local[:, joint("right_elbow")] = axis_rotation([0, 1.0, 0], flex)
    local[:, joint("left_knee")] = axis_rotation([1.0, 0, 0], flex)
    local[:, joint("right_knee")] = axis_rotation([1.0, 0, 0], flex)
    q = smpl_to_g1(local, clamp=False)
    rob = to_robot_frame(local)
    knee_frame = rot_y(-HIP_ROLL_LINK_TILT_RAD)  # undoes the hip-roll link tilt, as the knee does
    for t in range(n):
        body = g1_fk(q[t])
        torso = rob[t, joint("spine1")] @ rob[t, joint("spine2")] @ rob[t, joint("spine3")]
        np.testing.assert_allclose(body("torso_link")[1], torso, atol=1e-3)
        for side, sign in (("left", 1.0), ("right", -1.0)):
            hip, knee = rob[t, joint(f"{side}_hip")], rob[t, joint(f"{side}_knee")]
            np.testing.assert_allclose(body(f"{side}_hip_yaw_link")[1] @ knee_frame, hip, atol=1e-3)
            np.testing.assert_allclose(body(f"{side}_knee_link")[1], hip @ knee, atol=1e-3)
            upper = torso @ rob[t, joint(f"{side}_collar")] @ rob[t, joint(f"{side}_shoulder")]
            fore = upper @ rob[t, joint(f"{side}_elbow")]
            hand = fore @ rob[t, joint(f"{side}_wrist")]
            got_upper = body(f"{side}_shoulder_yaw_link")[1]
            np.testing.assert_allclose(got_upper, upper @ ARM_REST_OFFSET[sign], atol=1e-3)
            got_fore = body(f"{side}_elbow_link")[1]
            np.testing.assert_allclose(got_fore, fore @ FOREARM_REST_OFFSET[sign], atol=1e-3)
            got_hand = body(f"{side}_wrist_yaw_link")[1]
            np.testing.assert_allclose(got_hand, hand @ FOREARM_REST_OFFSET[sign], atol=1e-3)


@needs_mjcf
@pytest.mark.parametrize(
    ("joint_name", "child", "axis", "sign"),
    [
        # positive pitch/knee moves the limb backward (-X of the pelvis)
        ("left_shoulder_pitch_joint", "left_elbow_link", 0, -1.0),
        ("right_shoulder_pitch_joint", "right_elbow_link", 0, -1.0),
        ("left_hip_pitch_joint", "left_knee_link", 0, -1.0),
        ("left_knee_joint", "left_ankle_pitch_link", 0, -1.0),
        # positive left roll moves the left limb outward (+Y), right roll the right limb inward
        ("left_shoulder_roll_joint", "left_elbow_link", 1, 1.0),
        ("right_shoulder_roll_joint", "right_elbow_link", 1, 1.0),
        ("left_hip_roll_joint", "left_knee_link", 1, 1.0),
        # positive waist pitch bends the torso forward (+X); positive yaw turns it left, so the
        # right shoulder comes forward
        ("waist_pitch_joint", "left_shoulder_pitch_link", 0, 1.0),
        ("waist_yaw_joint", "right_shoulder_pitch_link", 0, 1.0),
    ],
)
def test_documented_joint_signs_hold_in_mujoco(
    g1_fk: FkFn,
    joint_name: str, child: str, axis: int, sign: float,
) -> None:  # fmt: skip
    rest = g1_fk(np.zeros(29))(child)[0]
    moved = g1_fk(_single(joint_name, 0.3))(child)[0]
    assert sign * (moved[axis] - rest[axis]) > 0.01, (joint_name, rest, moved)


@needs_mjcf
def test_positive_ankle_pitch_puts_the_toes_down(
    g1_fk: FkFn,
) -> None:
    foot_forward = g1_fk(_single("left_ankle_pitch_joint", 0.3))("left_ankle_roll_link")[1][:, 0]
    assert foot_forward[2] < -0.25


@needs_mjcf
def test_elbow_zero_points_forearm_forward_and_pi_over_2_down(
    g1_fk: FkFn,
) -> None:
    for q_elbow, expected in ((0.0, [1.0, 0.0, 0.0]), (HALF_PI, [0.0, 0.0, -1.0])):
        body = g1_fk(_single("left_elbow_joint", q_elbow))
        forearm = body("left_wrist_roll_link")[0] - body("left_elbow_link")[0]
        direction = forearm / np.linalg.norm(forearm)
        assert np.dot(direction, expected) > math.cos(0.15)  # MJCF forearm dips ~0.1 rad


@needs_mjcf
def test_arm_raised_forward_points_the_g1_arm_forward(
    g1_fk: FkFn,
) -> None:
    local = _hanging(left_shoulder=rot_x(-HALF_PI) @ rot_z(-HALF_PI), left_elbow=rot_y(0.0))
    q = smpl_to_g1(local)[0]
    assert q[joint_index("left_shoulder_pitch_joint")] < -1.2  # forward is negative pitch
    body = g1_fk(q)
    upper = body("left_elbow_link")[0] - body("left_shoulder_roll_link")[0]
    assert upper[0] / np.linalg.norm(upper) > math.cos(0.15)
