"""Feed-forward dynamics: the lean model and the inverse-dynamics pass over a whole track.

Real: MuJoCo on Unitree's official MJCF when ../shared has it, else the built-in model. The
reference is MuJoCo's own ``mj_inverse`` on the full model, meshes included.
"""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from controller.dynamics import (
    FeedforwardJoints,
    apply_motor_armature,
    body_joint_addresses,
    inverse_dynamics_track,
    load_robot_model,
)
from controller.embodiment import g1
from controller.robot.model_source import resolve_model
from controller.robot.mujoco_backend import load_spec


@pytest.fixture(scope="module")
def source():  # type: ignore[no-untyped-def]
    return resolve_model(None)


def _wavy_track(n: int) -> np.ndarray:
    t = np.arange(n)[:, None] / 50.0
    return g1.Q_DEFAULT + 0.3 * np.sin(t * np.linspace(1.0, 3.0, g1.NUM_BODY_JOINTS)[None, :])


def test_lean_model_keeps_every_mass_and_inertia(source) -> None:  # type: ignore[no-untyped-def]
    """Dropping geoms must not change the rigid-body parameters the torques come from."""
    full = load_spec(source).compile()
    lean = load_robot_model(source)
    np.testing.assert_array_equal(lean.body_mass, full.body_mass)
    np.testing.assert_array_equal(lean.body_inertia, full.body_inertia)
    np.testing.assert_array_equal(lean.body_ipos, full.body_ipos)
    assert lean.nmesh == 0


def test_track_torques_equal_mj_inverse_minus_gravity(source) -> None:  # type: ignore[no-untyped-def]
    """Same numbers as the textbook route: mj_inverse at (q, q̇, q̈) minus gravity at q."""
    model = load_robot_model(source)
    q = _wavy_track(120)
    dq, tau = inverse_dynamics_track(model, q, 0.02, FeedforwardJoints.ALL)

    reference = load_spec(source).compile()
    apply_motor_armature(reference, hand_armature=0.001, joint_damping=0.0)
    reference.opt.disableflags |= int(mujoco.mjtDisableBit.mjDSBL_CONSTRAINT)
    reference.opt.disableflags |= int(mujoco.mjtDisableBit.mjDSBL_CONTACT)
    qpos_adr, dof_adr = body_joint_addresses(reference)
    ddq = np.gradient(dq, 0.02, axis=0)
    data = mujoco.MjData(reference)
    gravity = np.zeros(reference.nv)
    for t in (0, 37, 119):
        data.qpos[:] = reference.qpos0
        data.qpos[qpos_adr] = q[t]
        data.qvel[:] = 0.0
        data.qvel[dof_adr] = dq[t]
        data.qacc[:] = 0.0
        data.qacc[dof_adr] = ddq[t]
        mujoco.mj_inverse(reference, data)
        data.qvel[:] = 0.0
        mujoco.mj_comVel(reference, data)
        mujoco.mj_rne(reference, data, 0, gravity)
        expected = data.qfrc_inverse[dof_adr] - gravity[dof_adr]
        np.testing.assert_allclose(tau[t], expected, atol=1e-9)
    np.testing.assert_allclose(dq, np.gradient(q, 0.02, axis=0))


def test_mask_and_short_tracks(source) -> None:  # type: ignore[no-untyped-def]
    model = load_robot_model(source)
    _, tau = inverse_dynamics_track(model, _wavy_track(30), 0.02, FeedforwardJoints.UPPER_BODY)
    assert np.all(tau[:, : g1.joint_index("waist_yaw")] == 0.0)
    assert np.any(tau[:, g1.joint_index("left_elbow")] != 0.0)
    dq, tau = inverse_dynamics_track(model, _wavy_track(1), 0.02, FeedforwardJoints.ALL)
    assert dq.shape == tau.shape == (1, 29)
    assert not np.any(tau)
