"""The built-in G1 model (``controller/robot/g1_builtin.py``) against Unitree's official MJCF.

Real: MuJoCo (compiling, kinematics, stepping physics), the built-in model as shipped, and, for
the comparison tests, Unitree's official ``g1_29dof_with_hand_rev_1_0.xml`` with its meshes, read
from ``../shared/robots/unitree_g1`` beside the repository. Those tests skip when that folder is
absent; the tests of the built-in model alone (no file reads, stepping, feet on the floor) run
everywhere. Nothing is faked.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import mujoco
import numpy as np
import numpy.typing as npt
import pytest

from controller.robot.g1_builtin import FLOOR_NAME, build_g1_spec

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
OFFICIAL_DIR = REPO_ROOT.parent / "shared" / "robots" / "unitree_g1"
OFFICIAL_MJCF = OFFICIAL_DIR / "g1_29dof_with_hand_rev_1_0.xml"
requires_official = pytest.mark.skipif(
    not OFFICIAL_MJCF.is_file(),
    reason=f"Unitree's official G1 MJCF not found at {OFFICIAL_MJCF}",
)

FK_TOLERANCE_M = 0.02
MASS_TOLERANCE = 0.05
NUM_RANDOM_POSES = 64
STANDING_HEIGHT_M = 0.793
TRACKED_BODIES = (
    "left_ankle_roll_link",
    "right_ankle_roll_link",
    "left_wrist_yaw_link",
    "right_wrist_yaw_link",
    "left_hand_index_1_link",
    "right_hand_index_1_link",
    "left_hand_thumb_2_link",
    "right_hand_thumb_2_link",
)

F64 = npt.NDArray[np.float64]


@pytest.fixture(scope="module")
def official() -> mujoco.MjModel:
    if not OFFICIAL_MJCF.is_file():
        pytest.skip(f"Unitree's official G1 MJCF not found at {OFFICIAL_MJCF}")
    return mujoco.MjModel.from_xml_path(str(OFFICIAL_MJCF))


@pytest.fixture(scope="module")
def builtin() -> mujoco.MjModel:
    return build_g1_spec().compile()


def _names(model: mujoco.MjModel, obj: mujoco.mjtObj, count: int) -> list[str]:
    return [mujoco.mj_id2name(model, obj, i) for i in range(count)]


def _head_geom(model: mujoco.MjModel) -> int:
    mesh_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_MESH, "head_link")
    return int(np.flatnonzero(model.geom_dataid == mesh_id)[0])


def _tracked_points(model: mujoco.MjModel, data: mujoco.MjData, *, is_official: bool) -> F64:
    """World positions (n, 3) of the feet, wrists, finger tips links and the head."""
    points = [data.body(name).xpos for name in TRACKED_BODIES]
    head = data.geom_xpos[_head_geom(model)] if is_official else data.site("head").xpos
    return np.array([*points, head])


def _fk_errors(official: mujoco.MjModel, builtin: mujoco.MjModel) -> F64:
    """Distances (poses, points) between the two models over random in-limit joint angles."""
    rng = np.random.default_rng(seed=20240611)
    data_off, data_bi = mujoco.MjData(official), mujoco.MjData(builtin)
    hinges = [
        j for j in range(official.njnt) if official.jnt_type[j] == mujoco.mjtJoint.mjJNT_HINGE
    ]
    errors = []
    for _ in range(NUM_RANDOM_POSES):
        for j in hinges:
            lo, hi = official.jnt_range[j]
            q = rng.uniform(lo, hi)
            name = mujoco.mj_id2name(official, mujoco.mjtObj.mjOBJ_JOINT, j)
            data_off.qpos[official.jnt_qposadr[j]] = q
            data_bi.qpos[builtin.joint(name).qposadr[0]] = q
        mujoco.mj_kinematics(official, data_off)
        mujoco.mj_kinematics(builtin, data_bi)
        diff = _tracked_points(official, data_off, is_official=True) - _tracked_points(
            builtin, data_bi, is_official=False
        )
        errors.append(np.linalg.norm(diff, axis=1))
    return np.array(errors)


@requires_official
def test_joint_and_actuator_tables_match_official(
    official: mujoco.MjModel, builtin: mujoco.MjModel
) -> None:
    """Policies and the DDS bridge index joints and motors by the official order and limits."""
    joint = mujoco.mjtObj.mjOBJ_JOINT
    assert _names(builtin, joint, builtin.njnt) == _names(official, joint, official.njnt)
    np.testing.assert_array_equal(builtin.jnt_type, official.jnt_type)
    np.testing.assert_array_equal(builtin.jnt_bodyid, official.jnt_bodyid)
    np.testing.assert_array_equal(builtin.jnt_axis, official.jnt_axis)
    np.testing.assert_array_equal(builtin.jnt_limited, official.jnt_limited)
    np.testing.assert_array_equal(builtin.jnt_range, official.jnt_range)
    np.testing.assert_array_equal(builtin.jnt_actfrclimited, official.jnt_actfrclimited)
    np.testing.assert_array_equal(builtin.jnt_actfrcrange, official.jnt_actfrcrange)
    assert builtin.joint(0).name == "floating_base_joint"
    assert builtin.body(builtin.jnt_bodyid[0]).name == "pelvis"

    actuator = mujoco.mjtObj.mjOBJ_ACTUATOR
    assert builtin.nu == official.nu == 43
    assert _names(builtin, actuator, builtin.nu) == _names(official, actuator, official.nu)
    np.testing.assert_array_equal(builtin.actuator_trntype, official.actuator_trntype)
    np.testing.assert_array_equal(builtin.actuator_trnid, official.actuator_trnid)
    np.testing.assert_array_equal(builtin.actuator_gaintype, official.actuator_gaintype)
    np.testing.assert_array_equal(builtin.actuator_gainprm, official.actuator_gainprm)
    np.testing.assert_array_equal(builtin.actuator_biastype, official.actuator_biastype)
    np.testing.assert_array_equal(builtin.actuator_ctrllimited, official.actuator_ctrllimited)


@requires_official
def test_bodies_sites_and_timestep_match_official(
    official: mujoco.MjModel, builtin: mujoco.MjModel
) -> None:
    """Code that looks bodies and IMU sites up by name works on either model."""
    body = mujoco.mjtObj.mjOBJ_BODY
    assert _names(builtin, body, builtin.nbody) == _names(official, body, official.nbody)
    np.testing.assert_array_equal(builtin.body_parentid, official.body_parentid)
    assert builtin.opt.timestep == official.opt.timestep == 0.002
    for site in ("imu_in_pelvis", "imu_in_torso"):
        assert builtin.site(site).bodyid == official.site(site).bodyid
        np.testing.assert_allclose(builtin.site(site).pos, official.site(site).pos, atol=1e-9)
    head = _head_geom(official)
    assert builtin.site("head").bodyid == official.geom_bodyid[head]
    np.testing.assert_allclose(builtin.site("head").pos, official.geom_pos[head], atol=1e-4)


@requires_official
def test_forward_kinematics_matches_official_within_2cm(
    official: mujoco.MjModel, builtin: mujoco.MjModel
) -> None:
    """Feet, wrists, finger links and head land where the official model puts them."""
    errors = _fk_errors(official, builtin)
    assert errors.shape == (NUM_RANDOM_POSES, len(TRACKED_BODIES) + 1)
    assert errors.max() < FK_TOLERANCE_M, f"max FK error {errors.max() * 100:.3f} cm"


@requires_official
def test_total_mass_within_5_percent(official: mujoco.MjModel, builtin: mujoco.MjModel) -> None:
    """Balance and gravity compensation depend on the total mass (official: about 34.4 kg)."""
    mass_official = mujoco.mj_getTotalmass(official)
    mass_builtin = mujoco.mj_getTotalmass(builtin)
    assert abs(mass_builtin - mass_official) <= MASS_TOLERANCE * mass_official


def test_builtin_model_reads_no_file(tmp_path: Path) -> None:
    """The demo must run on a fresh machine: no mesh/texture files, no Python-level file opens.

    MuJoCo's C code reads files only for assets that name one, so the spec must name none; the
    Python side is watched with an audit hook in a fresh interpreter started in an empty folder.
    """
    spec = build_g1_spec()
    assert len(spec.meshes) == 0
    assert len(spec.hfields) == 0
    assert len(spec.skins) == 0
    assert all(texture.file == "" for texture in spec.textures)

    script = textwrap.dedent(
        """
        import sys
        from controller.robot import g1_builtin

        opened = []
        sys.addaudithook(lambda event, args: opened.append(args[0]) if event == "open" else None)
        model = g1_builtin.build_g1_spec().compile()
        xml = g1_builtin.builtin_model_xml()
        assert model.nu == 43 and "<mujoco" in xml
        print(repr(opened))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"files opened: {result.stdout}"


def test_welded_pelvis_steps_one_second_without_nan() -> None:
    """With the pelvis on a gantry weld and no actuation, 1 s of physics stays finite."""
    spec = build_g1_spec()
    spec.add_equality(type=mujoco.mjtEq.mjEQ_WELD, objtype=mujoco.mjtObj.mjOBJ_BODY, name1="pelvis")
    model = spec.compile()
    data = mujoco.MjData(model)
    steps = round(1.0 / model.opt.timestep)
    for _ in range(steps):
        mujoco.mj_step(model, data)
    assert data.time == pytest.approx(1.0)
    assert np.all(np.isfinite(data.qpos))
    assert np.all(np.isfinite(data.qvel))
    # The weld holds the pelvis near where it started.
    np.testing.assert_allclose(data.qpos[:3], [0.0, 0.0, STANDING_HEIGHT_M], atol=0.02)


def test_feet_soles_sit_on_the_floor_at_standing_height() -> None:
    """At zero pose with the pelvis at 0.793 m (the official standing height), soles touch z=0."""
    model = build_g1_spec().compile()
    data = mujoco.MjData(model)
    assert data.qpos[2] == pytest.approx(STANDING_HEIGHT_M)
    mujoco.mj_kinematics(model, data)
    signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=float)
    floor = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, FLOOR_NAME)
    for foot in ("left_ankle_roll_link", "right_ankle_roll_link"):
        geoms = np.flatnonzero(model.geom_bodyid == model.body(foot).id)
        assert len(geoms) > 0
        lowest = np.inf
        for g in geoms:
            assert model.geom_type[g] == mujoco.mjtGeom.mjGEOM_BOX
            corners = (signs * model.geom_size[g]) @ data.geom_xmat[g].reshape(3, 3).T
            lowest = min(lowest, float((corners[:, 2] + data.geom_xpos[g][2]).min()))
            # The sole must be able to touch the floor: the contact bits must match.
            is_colliding = model.geom_contype[g] & model.geom_conaffinity[floor] or (
                model.geom_contype[floor] & model.geom_conaffinity[g]
            )
            assert is_colliding
        assert abs(lowest) < 0.02, f"{foot} sole at z={lowest:.4f} m"
