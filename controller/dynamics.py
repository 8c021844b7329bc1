"""Rigid-body dynamics of the G1 for feed-forward torques, computed with MuJoCo as a library.

SONIC's gains are soft (shoulder kp ≈ 14 N·m/rad): pure PD sags by tenths of a radian under
gravity. Real joint-space controllers add a model-based feed-forward torque; this module computes
it from the robot's *model* (never from simulator state), so it works unchanged on hardware:

- ``GravityModel.torque``: gravity torques at the *measured* pose, pelvis held (zero base
  acceleration). Evaluated every tick: compensating gravity where the robot is, not where it
  should be, matters for the waist, whose torso is an inverted pendulum stiffer than SONIC's
  28.5 N·m/rad once the arms are raised (m·g·l ≈ 37 N·m/rad); with gravity taken at the target
  pose the torso falls to its joint limit. For the waist and arms this is right whether the
  robot stands or hangs; for the legs only with the pelvis supported (gantry), hence the mask.
- ``inverse_dynamics_track``: the inertial part of the torques that realise a trajectory
  (M q̈ + Coriolis, gravity excluded), computed once per track, off the control path.
"""

from __future__ import annotations

import copy
import enum

import mujoco
import numpy as np
import numpy.typing as npt

from controller.embodiment import dex3, g1
from controller.robot.base import F64
from controller.robot.model_source import ModelSource

_UPPER_BODY_FIRST = g1.joint_index("waist_yaw")


class FeedforwardJoints(enum.Enum):
    """Which body joints receive model-based feed-forward torque."""

    NONE = "none"
    UPPER_BODY = "upper_body"
    """Waist and arms: correct standing or hanging."""
    ALL = "all"
    """Also the legs: correct only with the pelvis supported (gantry)."""

    def mask(self) -> npt.NDArray[np.float64]:
        mask = np.zeros(g1.NUM_BODY_JOINTS)
        if self is FeedforwardJoints.ALL:
            mask[:] = 1.0
        elif self is FeedforwardJoints.UPPER_BODY:
            mask[_UPPER_BODY_FIRST:] = 1.0
        return mask


def load_robot_model(source: ModelSource, *, hand_armature: float = 0.001) -> mujoco.MjModel:
    """The robot's dynamics model: the MJCF (or built-in model) with motor armatures applied.

    Geoms of bodies with authored inertials are dropped before compiling: they play no part in
    free-space dynamics, and Unitree's meshes alone cost ~1.7 s and ~650 MB to compile.
    """
    from controller.robot.mujoco_backend import load_spec

    spec = load_spec(source)
    strip_geometry(spec)
    model = spec.compile()
    apply_motor_armature(model, hand_armature=hand_armature, joint_damping=0.0)
    # Free-space dynamics: no contacts or equality constraints in feed-forward terms.
    model.opt.disableflags |= int(mujoco.mjtDisableBit.mjDSBL_CONSTRAINT)
    return model


def strip_geometry(spec: mujoco.MjSpec) -> None:
    """Delete the geoms of bodies whose inertia is authored, and meshes nothing uses any more.

    A body without an authored inertial takes its mass from its geoms, so those geoms stay.
    """
    for geom in list(spec.geoms):
        body = geom.parent
        if isinstance(body, mujoco.MjsBody) and body.explicitinertial:
            spec.delete(geom)
    used = {geom.meshname for geom in spec.geoms}
    for mesh in list(spec.meshes):
        if mesh.name not in used:
            spec.delete(mesh)


def joint_ids(model: mujoco.MjModel, names: tuple[str, ...]) -> npt.NDArray[np.intp]:
    """MuJoCo ids of the joints ``names``, in order; -1 for a joint the model lacks."""
    return np.array(
        [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, n) for n in names], dtype=np.intp
    )


def require_joints(
    model: mujoco.MjModel, names: tuple[str, ...], what: str
) -> npt.NDArray[np.intp]:
    """``joint_ids``, or a ``ValueError`` naming every joint ``what`` lacks."""
    ids = joint_ids(model, names)
    missing = [n for n, i in zip(names, ids, strict=True) if i < 0]
    if missing:
        raise ValueError(f"{what} lacks joints {missing}")
    return ids


def body_joint_addresses(
    model: mujoco.MjModel,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """qpos and dof addresses of the 29 body joints, hardware order."""
    ids = require_joints(model, g1.BODY_JOINT_NAMES, "robot model")
    return model.jnt_qposadr[ids].astype(np.intp), model.jnt_dofadr[ids].astype(np.intp)


def apply_motor_armature(
    model: mujoco.MjModel, *, hand_armature: float, joint_damping: float
) -> None:
    """Each body joint gets its motor's reflected rotor inertia; the finger joints a small one."""
    _, body_dof = body_joint_addresses(model)
    model.dof_armature[body_dof] = [j.motor.armature for j in g1.BODY_JOINTS]
    model.dof_damping[body_dof] = joint_damping
    hands = joint_ids(model, dex3.HAND_JOINT_NAMES)
    hand_dof = model.jnt_dofadr[hands[hands >= 0]]
    model.dof_armature[hand_dof] = hand_armature
    model.dof_damping[hand_dof] = joint_damping


class GravityModel:
    """Gravity torques at a pose, evaluated in place (no allocation) for the control tick."""

    def __init__(self, model: mujoco.MjModel, joints: FeedforwardJoints) -> None:
        self._model = model
        self._data = mujoco.MjData(model)
        self._qpos_adr, self._dof_adr = body_joint_addresses(model)
        self._mask = joints.mask()
        self._bias = np.zeros(model.nv)
        self._scratch = np.zeros(g1.NUM_BODY_JOINTS)
        self.is_enabled = joints is not FeedforwardJoints.NONE

    def torque(self, q_hw: F64, pelvis_quat_wxyz: F64, out: F64) -> None:
        """Write gravity torques (N·m, hardware order, masked) for pose ``q_hw`` into ``out``.

        ``out`` is overwritten; use ``add_torque`` to add onto an existing feed-forward.
        """
        if not self.is_enabled:
            out.fill(0.0)
            return
        m, d = self._model, self._data
        d.qpos[self._qpos_adr] = q_hw
        d.qpos[3:7] = pelvis_quat_wxyz
        mujoco.mj_kinematics(m, d)
        mujoco.mj_comPos(m, d)
        mujoco.mj_rne(m, d, 0, self._bias)
        np.take(self._bias, self._dof_adr, out=out)
        np.multiply(out, self._mask, out=out)

    def add_torque(self, q_hw: F64, pelvis_quat_wxyz: F64, out: F64) -> None:
        """Add gravity torques for pose ``q_hw`` onto ``out`` (in place)."""
        self.torque(q_hw, pelvis_quat_wxyz, self._scratch)
        np.add(out, self._scratch, out=out)


def inverse_dynamics_track(
    model: mujoco.MjModel, q_hw: F64, dt_s: float, joints: FeedforwardJoints
) -> tuple[F64, F64]:
    """Velocities and inertial feed-forward torques for a joint trajectory, pelvis upright, fixed.

    Args:
        model: the robot's dynamics model (``load_robot_model``).
        q_hw: (T, 29) joint positions at ``dt_s`` spacing, hardware order.
        dt_s: frame spacing (0.02 s for a 50 Hz track).
        joints: which joints get torque; the others get zero.

    Returns:
        ``(dq, tau)``, each (T, 29): central-difference velocities, and M q̈ + Coriolis torques
        (inverse dynamics minus gravity; the controller adds gravity at the measured pose).

    Per frame this is one recursive Newton-Euler pass on a gravity-free copy of the model
    (``mj_rne`` with accelerations) plus the motors' armature: the same numbers as
    ``mj_inverse`` minus a gravity pass, at a third of the cost (no constraint or position
    stage). Frames are written straight into the output rows: nothing is allocated per frame.
    """
    n = q_hw.shape[0]
    if n < 2:
        return np.zeros_like(q_hw), np.zeros_like(q_hw)
    qpos_adr, dof_adr = body_joint_addresses(model)
    dq = np.gradient(q_hw, dt_s, axis=0)
    ddq = np.gradient(dq, dt_s, axis=0)
    free = copy.copy(model)
    free.opt.gravity[:] = 0.0
    data = mujoco.MjData(free)
    data.qpos[:] = free.qpos0
    bias = np.zeros(free.nv)
    tau = np.empty_like(q_hw)
    qpos, qvel, qacc = data.qpos, data.qvel, data.qacc
    for t in range(n):
        qpos[qpos_adr] = q_hw[t]
        qvel[dof_adr] = dq[t]
        qacc[dof_adr] = ddq[t]
        mujoco.mj_kinematics(free, data)
        mujoco.mj_comPos(free, data)
        mujoco.mj_comVel(free, data)
        mujoco.mj_rne(free, data, 1, bias)
        np.take(bias, dof_adr, out=tau[t])
    # mj_rne leaves out the rotor inertia that M carries on its diagonal.
    tau += free.dof_armature[dof_adr] * ddq
    tau *= joints.mask()
    return dq, tau
