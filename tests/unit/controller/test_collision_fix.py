"""Arm self-collision of G1 tracks in MuJoCo: detection, the smallest correction, refusal.

Real: MuJoCo with Unitree's official MJCF when ../shared has it (else the built-in model), the
reduced collision model, the checker and the corrector; the result is measured independently
on the *full* compiled model (original meshes) with ``mj_geomDistance``. Faked: the motions are
G1 joint tracks written here (arms hanging straight is the case the SMPL mapping produces).
"""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest

from controller.collision_fix import CollisionConfig, correct_self_collisions
from controller.embodiment import dex3, g1
from controller.robot.model_source import resolve_model
from controller.robot.mujoco_backend import load_spec
from controller.self_collision import SelfCollisionChecker, build_collision_model
from estimators.errors import PackageErrorCode, PackageRejectedError

FPS = 50.0
SOURCE = resolve_model(None)


@pytest.fixture(scope="module")
def checker() -> SelfCollisionChecker:
    return SelfCollisionChecker(build_collision_model(SOURCE))


def hanging_track(n: int = 100, roll: float = 0.0) -> np.ndarray:
    """Both arms straight down (roll 0, elbow π/2), swaying a little forward and back."""
    t = np.arange(n) / FPS
    q = np.tile(g1.Q_DEFAULT, (n, 1))
    for side, sign in (("left", 1.0), ("right", -1.0)):
        q[:, g1.joint_index(f"{side}_shoulder_roll")] = sign * roll
        q[:, g1.joint_index(f"{side}_elbow")] = math.pi / 2
        q[:, g1.joint_index(f"{side}_shoulder_pitch")] = 0.1 * np.sin(2 * math.pi * 0.5 * t)
    return q


def _qpos_adr(model: mujoco.MjModel, names: tuple[str, ...]) -> list[int]:
    return [
        model.jnt_qposadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, n)] for n in names
    ]


def hand_hip_clearance(q: np.ndarray, hand_q: np.ndarray) -> float:
    """Smallest distance between any hand or wrist geom and any hip/pelvis geom, measured on
    the full model (meshes with faces), pair by pair: independent of the corrector's path."""
    model = load_spec(SOURCE).compile()
    data = mujoco.MjData(model)
    names = [mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, b) or "" for b in model.geom_bodyid]
    collides = (model.geom_contype != 0) | (model.geom_conaffinity != 0)

    def geoms(*keys: str) -> list[int]:
        return [g for g in range(model.ngeom) if collides[g] and any(k in names[g] for k in keys)]

    hands, hips = geoms("hand", "wrist"), geoms("hip", "pelvis")
    body, fingers = _qpos_adr(model, g1.BODY_JOINT_NAMES), _qpos_adr(model, dex3.HAND_JOINT_NAMES)
    fromto = np.zeros(6)
    worst = math.inf
    for k in range(q.shape[0]):
        data.qpos[:] = model.qpos0
        data.qpos[body] = q[k]
        data.qpos[fingers] = hand_q[k].reshape(-1)
        mujoco.mj_kinematics(model, data)
        for a in hands:
            for b in hips:
                worst = min(worst, mujoco.mj_geomDistance(model, data, a, b, 0.1, fromto))
    return worst


def test_hanging_arms_are_corrected_and_clear_the_hips_by_1_cm(
    checker: SelfCollisionChecker,
) -> None:
    q = hanging_track()
    hands = np.zeros((q.shape[0], 2, 7))
    assert hand_hip_clearance(q, hands) < -0.01, "the uncorrected hands are inside the hips"
    fixed, report = correct_self_collisions(checker, q, hands, CollisionConfig(), FPS)
    assert hand_hip_clearance(fixed, hands) >= 0.01
    assert report.is_corrected
    assert {c.arm for c in report.corrections} == {"left", "right"}
    left = next(c for c in report.corrections if c.arm == "left")
    assert 5.0 < left.max_roll_deg < 30.0
    assert left.worst_before_m < -0.01
    assert "hip" in left.worst_pair[1] or "pelvis" in left.worst_pair[1]
    assert report.min_clearance_m >= 0.01
    # Only shoulder roll and elbow change, outward for the left arm, and never in steps.
    changed = np.flatnonzero(np.any(fixed != q, axis=0))
    joints = [f"{s}_{j}" for s in ("left", "right") for j in ("shoulder_roll", "elbow")]
    assert set(changed.tolist()) <= {g1.joint_index(j) for j in joints}
    roll = g1.joint_index("left_shoulder_roll")
    assert np.all(fixed[:, roll] >= q[:, roll])
    assert np.abs(np.diff(fixed - q, axis=0)).max() < 0.02


def test_the_correction_is_the_smallest_that_clears(checker: SelfCollisionChecker) -> None:
    """10 % less than the reported peak roll leaves the arm closer than the target."""
    q = hanging_track(30)
    hands = np.zeros((30, 2, 7))
    fixed, _ = correct_self_collisions(checker, q, hands, CollisionConfig(), FPS)
    roll = g1.joint_index("left_shoulder_roll")
    less = fixed.copy()
    less[:, roll] = q[:, roll] + 0.85 * (fixed[:, roll] - q[:, roll])
    closest = []
    for k in range(30):
        checker.set_pose(less[k], hands[k])
        closest.append(checker.measure(0.05)[0])
    assert min(closest) < CollisionConfig().target_clearance_m


def test_a_clear_motion_is_left_alone(checker: SelfCollisionChecker) -> None:
    q = hanging_track(50, roll=0.6)
    hands = np.zeros((50, 2, 7))
    fixed, report = correct_self_collisions(checker, q, hands, CollisionConfig(), FPS)
    assert fixed is q or np.array_equal(fixed, q)
    assert not report.is_corrected
    assert report.as_dict()["corrections"] == []


def test_a_collision_no_small_change_clears_is_refused(checker: SelfCollisionChecker) -> None:
    config = CollisionConfig(max_correction_deg=3.0)
    with pytest.raises(PackageRejectedError) as caught:
        correct_self_collisions(checker, hanging_track(40), np.zeros((40, 2, 7)), config, FPS)
    error = caught.value
    assert error.code is PackageErrorCode.SELF_COLLISION
    assert error.field.startswith("track[")
    assert "cm deep" in error.detail
    assert "up to 3°" in error.detail


def test_hands_meeting_in_front_are_parted(checker: SelfCollisionChecker) -> None:
    """Arms forward and inward: the hands overlap each other, not the body; both arms' checks
    see it, and rolling outward parts them."""
    q = g1.Q_DEFAULT.copy()
    for side, sign in (("left", 1.0), ("right", -1.0)):
        q[g1.joint_index(f"{side}_shoulder_pitch")] = -0.6
        q[g1.joint_index(f"{side}_shoulder_roll")] = -sign * 0.3
        q[g1.joint_index(f"{side}_elbow")] = 0.2
    checker.set_pose(q, np.zeros((2, 7)))
    assert checker.measure(0.05).max() < 0.0
    left, right = checker.closest
    assert left is not None
    assert right is not None
    assert left.other_body.startswith("right_hand")
    assert right.other_body.startswith("left_hand")
    track = np.tile(q, (20, 1))
    fixed, report = correct_self_collisions(
        checker, track, np.zeros((20, 2, 7)), CollisionConfig(), FPS
    )
    assert report.is_corrected
    checker.set_pose(fixed[10], np.zeros((2, 7)))
    assert checker.measure(0.05).min() >= 0.01


@pytest.mark.parametrize(
    "kwargs",
    [{"clearance_m": 0.0}, {"target_clearance_m": 0.005}, {"max_correction_deg": 120.0},
     {"ramp_s": float("nan")}],
)  # fmt: skip
def test_bad_config_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="collision"):
        CollisionConfig(**kwargs)  # type: ignore[arg-type]
