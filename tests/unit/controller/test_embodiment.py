"""The G1 and Dex3 tables against Unitree's official MJCF and SONIC's published figures.

Real: the tables and Unitree's MJCF, compiled by MuJoCo from ../shared/robots/unitree_g1 (the
tests that need it skip when that folder is absent). Nothing is faked.
"""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np
import pytest

from controller.embodiment import dex3, g1

OFFICIAL = (
    Path(__file__).resolve().parents[3].parent
    / "shared" / "robots" / "unitree_g1" / "g1_29dof_with_hand_rev_1_0.xml"
)  # fmt: skip
needs_official = pytest.mark.skipif(
    not OFFICIAL.is_file(), reason=f"Unitree's official MJCF not found at {OFFICIAL}"
)


@pytest.fixture(scope="module")
def official() -> mujoco.MjModel:
    return mujoco.MjModel.from_xml_path(str(OFFICIAL))


def _joint(model: mujoco.MjModel, name: str) -> int:
    jid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, name)
    assert jid >= 0, f"{name} missing from the official model"
    return jid


@needs_official
def test_body_joint_order_axes_and_limits_match_official(official: mujoco.MjModel) -> None:
    actuated = [
        mujoco.mj_id2name(official, mujoco.mjtObj.mjOBJ_JOINT, official.actuator_trnid[a, 0])
        for a in range(official.nu)
    ]
    body_in_actuator_order = [n for n in actuated if "hand" not in n]
    assert tuple(body_in_actuator_order) == g1.BODY_JOINT_NAMES
    for spec in g1.BODY_JOINTS:
        jid = _joint(official, spec.name)
        np.testing.assert_allclose(official.jnt_axis[jid], spec.axis.value, err_msg=spec.name)
        np.testing.assert_allclose(official.jnt_range[jid], (spec.q_min, spec.q_max), atol=1e-6)
        np.testing.assert_allclose(
            official.jnt_actfrcrange[jid], (-spec.tau_max, spec.tau_max), err_msg=spec.name
        )


@needs_official
def test_dex3_slots_axes_and_limits_match_official(official: mujoco.MjModel) -> None:
    actuated = [
        mujoco.mj_id2name(official, mujoco.mjtObj.mjOBJ_JOINT, official.actuator_trnid[a, 0])
        for a in range(official.nu)
    ]
    for hand in dex3.Hand:
        in_actuator_order = [n for n in actuated if n.startswith(f"{hand.value}_hand_")]
        assert tuple(in_actuator_order) == tuple(j.name for j in dex3.HAND_JOINTS[hand])
        for spec in dex3.HAND_JOINTS[hand]:
            jid = _joint(official, spec.name)
            np.testing.assert_allclose(official.jnt_axis[jid], spec.axis.value)
            np.testing.assert_allclose(official.jnt_range[jid], (spec.q_min, spec.q_max), atol=1e-6)
            np.testing.assert_allclose(official.jnt_actfrcrange[jid], (-spec.tau_max, spec.tau_max))


def test_hand_slot_names_are_mirrored_between_hands() -> None:
    left = [j.name for j in dex3.HAND_JOINTS[dex3.Hand.LEFT]]
    right = [j.name for j in dex3.HAND_JOINTS[dex3.Hand.RIGHT]]
    assert left[3:5] == ["left_hand_middle_0_joint", "left_hand_middle_1_joint"]
    assert right[3:5] == ["right_hand_index_0_joint", "right_hand_index_1_joint"]


def test_isaac_order_is_a_permutation_with_its_computed_inverse() -> None:
    assert sorted(g1.ISAAC_TO_HW.tolist()) == list(range(29))
    q_hw = np.arange(29.0)
    np.testing.assert_array_equal(q_hw[g1.ISAAC_TO_HW][g1.HW_TO_ISAAC], q_hw)
    # SONIC's IsaacLab order starts L/R hip pitch, waist yaw; ends with the wrist yaws.
    names = [g1.BODY_JOINT_NAMES[i] for i in g1.ISAAC_TO_HW]
    assert names[:3] == ["left_hip_pitch_joint", "right_hip_pitch_joint", "waist_yaw_joint"]
    assert names[23:] == [f"{s}_wrist_{a}_joint" for a in ("roll", "pitch", "yaw")
                          for s in ("left", "right")]  # fmt: skip
    # The published inverse table (isaaclab_to_mujoco) from sonic-deploy.md §2.
    published = [0, 3, 6, 9, 13, 17, 1, 4, 7, 10, 14, 18, 2, 5, 8, 11, 15, 19, 21, 23, 25, 27,
                 12, 16, 20, 22, 24, 26, 28]  # fmt: skip
    assert g1.HW_TO_ISAAC.tolist() == published


@pytest.mark.parametrize(
    ("joint", "kp", "kd", "scale", "default"),
    [
        ("left_hip_pitch", 99.098, 6.309, 0.35066, -0.312),
        ("left_hip_yaw", 40.179, 2.558, 0.54755, 0.0),
        ("left_knee", 99.098, 6.309, 0.35066, 0.669),
        ("right_ankle_pitch", 28.501, 1.814, 0.43858, -0.363),
        ("waist_roll", 28.501, 1.814, 0.43858, 0.0),
        ("right_shoulder_roll", 14.251, 0.907, 0.43858, -0.2),
        ("left_elbow", 14.251, 0.907, 0.43858, 0.6),
        ("left_wrist_yaw", 16.778, 1.068, 0.07450, 0.0),
    ],
)
def test_derived_gains_match_sonics_table(
    joint: str, kp: float, kd: float, scale: float, default: float
) -> None:
    i = g1.joint_index(joint)
    assert g1.KP[i] == pytest.approx(kp, abs=1e-3)
    assert g1.KD[i] == pytest.approx(kd, abs=1e-3)
    assert g1.ACTION_SCALE[i] == pytest.approx(scale, abs=1e-5)
    assert g1.Q_DEFAULT[i] == pytest.approx(default)


def test_default_pose_is_inside_limits_and_tables_are_read_only() -> None:
    assert np.all(g1.Q_DEFAULT > g1.Q_MIN)
    assert np.all(g1.Q_DEFAULT < g1.Q_MAX)
    with pytest.raises(ValueError, match="read-only"):
        g1.KP[0] = 1.0


def test_unknown_joint_name_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="left_elbo"):
        g1.joint_index("left_elbo")
