"""MuJoCo simulator backend: the G1 (with Dex3 hands) driven the way its motor drivers drive it.

Motors: every actuator is turned into an affine PD actuator, so MuJoCo itself evaluates
``tau = kp (q* - q) + kd (dq* - dq) + tau_ff`` at every 2 ms physics step and clips it to the
torque limits, exactly what the G1's drivers do with a ``LowCmd``. A command sets gain and bias
parameters; nothing in Python runs per physics step.

Modes: *lock-step* (``advance`` steps exactly one control period of physics; deterministic and
faster than real time, for tests and the demo) and *real-time* (a physics thread steps at wall
clock pace, like the real robot whose state moves on whether the controller is ready or not).

Gantry: an optional soft weld holds the pelvis (unitree_mujoco offers an elastic band for the
same purpose), so controllers that cannot balance, such as the joint-space PD tracker, can run.
"""

from __future__ import annotations

import enum
import logging
import os
import threading
import time
from dataclasses import dataclass

import mujoco
import numpy as np
import numpy.typing as npt

from controller.clock import Clock
from controller.dynamics import apply_motor_armature, joint_ids, require_joints
from controller.embodiment import dex3, g1
from controller.robot.base import RobotCommand, RobotState
from controller.robot.model_source import ModelKind, ModelSource

log = logging.getLogger(__name__)

_IMU_SITE = "imu_in_pelvis"
_SIM_MOTOR_TEMP_C = 40.0


class SimMode(enum.Enum):
    LOCKSTEP = "lockstep"
    REALTIME = "realtime"


@dataclass(frozen=True)
class SimConfig:
    """How the simulated robot is built and paced."""

    mode: SimMode = SimMode.LOCKSTEP
    physics_dt_s: float = 0.002
    use_gantry: bool = True
    gantry_lift_m: float = 0.05
    """How far above the model's standing height the gantry holds the pelvis (feet clear)."""
    gantry_timeconst_s: float = 0.02
    """Softness of the gantry weld (MuJoCo solref time constant): smaller is stiffer."""
    use_motor_armature: bool = True
    """Give each joint its motor's reflected rotor inertia (Unitree's MJCF has none). SONIC's
    gains are derived from these armatures; without them the light distal links ring at 2 ms."""
    hand_armature: float = 0.001
    """Armature for the Dex3 finger joints (kg·m²), for the same reason."""
    joint_damping: float = 0.05
    """Viscous joint damping (N·m·s/rad), as unitree_mujoco's G1 model sets."""
    physics_fifo_priority: int | None = 70
    """Real-time mode: SCHED_FIFO priority for the physics thread, below the control loop's,
    when permitted. It shares the GIL with the control thread: left at normal priority under
    CPU load it can be preempted while holding the GIL and delay the control thread."""

    def __post_init__(self) -> None:
        if not 0.0002 <= self.physics_dt_s <= 0.01:
            raise ValueError(
                f"sim.physics_dt_s must be within 0.0002..0.01, got {self.physics_dt_s}"
            )
        if self.gantry_timeconst_s <= 0:
            raise ValueError("sim.gantry_timeconst_s must be positive")


def load_spec(source: ModelSource) -> mujoco.MjSpec:
    """The uncompiled model for ``source`` (the official MJCF or the built-in one)."""
    if source.kind is ModelKind.FILE and source.path is not None:
        return mujoco.MjSpec.from_file(str(source.path))
    from controller.robot.g1_builtin import build_g1_spec

    return build_g1_spec()


class MujocoBackend:
    """``RobotBackend`` over a MuJoCo simulation of the G1."""

    def __init__(self, source: ModelSource, config: SimConfig, clock: Clock) -> None:
        self.config = config
        self.source = source
        self._clock = clock
        spec = load_spec(source)
        _configure_spec(spec, config)
        self.model = spec.compile()
        self.model.opt.timestep = config.physics_dt_s
        # Implicit in velocity: the drivers' kd and the joint damping stay stable at 2 ms.
        self.model.opt.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
        self._map_indices()
        if config.use_motor_armature:
            apply_motor_armature(
                self.model, hand_armature=config.hand_armature, joint_damping=config.joint_damping
            )
        self.data = mujoco.MjData(self.model)
        self._lock = threading.Lock()
        self._snapshot = RobotState()
        self._pending = RobotCommand()
        self._has_pending = False
        self._remote_keys = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.physics_steps = 0
        self.physics_overruns = 0
        mujoco.mj_forward(self.model, self.data)
        self._take_snapshot()
        if config.mode is SimMode.REALTIME:
            self._thread = threading.Thread(
                target=self._physics_thread, name="sim-physics", daemon=True
            )
            self._thread.start()

    # ------------------------------------------------------------------ RobotBackend
    def read_state(self, out: RobotState) -> None:
        with self._lock:
            out.copy_from(self._snapshot)

    def write_command(self, command: RobotCommand) -> None:
        with self._lock:
            self._pending.copy_from(command)
            self._has_pending = True
        if self.config.mode is SimMode.LOCKSTEP:
            self._apply_pending()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
            self._thread = None

    # ------------------------------------------------------------------ simulation
    def advance(self, dt_ns: int) -> None:
        """Lock-step: run ``dt_ns`` of physics (whole physics steps) and publish the state."""
        steps = max(1, round(dt_ns * 1e-9 / self.model.opt.timestep))
        for _ in range(steps):
            mujoco.mj_step(self.model, self.data)
        self.physics_steps += steps
        self._take_snapshot()

    def press_keys(self, keys: int) -> None:
        """Simulate the wireless remote: these keys are reported held until changed."""
        with self._lock:
            self._remote_keys = keys
            self._snapshot.remote_keys = keys

    def set_gantry(self, is_holding: bool) -> None:
        """Engage or release the gantry weld (a model built without one ignores this)."""
        if self._gantry_id < 0:
            return
        with self._lock:
            self.data.eq_active[self._gantry_id] = int(is_holding)

    # ------------------------------------------------------------------ internals
    def _map_indices(self) -> None:
        m = self.model

        body = require_joints(m, g1.BODY_JOINT_NAMES, f"model {self.source.describe()}")
        self._body_qpos = m.jnt_qposadr[body].astype(np.intp)
        self._body_dof = m.jnt_dofadr[body].astype(np.intp)
        self._body_act = _actuators_for(m, body)
        hands = joint_ids(m, dex3.HAND_JOINT_NAMES)
        if np.all(hands >= 0):
            self._hand_qpos = m.jnt_qposadr[hands].astype(np.intp)
            self._hand_dof = m.jnt_dofadr[hands].astype(np.intp)
            self._hand_act = _actuators_for(m, hands)
        else:
            log.info(
                "model %s has no Dex3 hands; hand commands are ignored", self.source.describe()
            )
            self._hand_qpos = self._hand_dof = self._hand_act = np.zeros(0, dtype=np.intp)
        self._gantry_id = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_EQUALITY, "exo_gantry")
        self._imu_quat = _sensor_slice(m, "exo_imu_quat")
        self._imu_gyro = _sensor_slice(m, "exo_imu_gyro")
        self._imu_acc = _sensor_slice(m, "exo_imu_acc")

    def _apply_pending(self) -> None:
        """Turn the latest command into actuator gain/bias parameters (PD in the actuators)."""
        m, d = self.model, self.data
        with self._lock:
            if not self._has_pending:
                return
            cmd = self._pending
            _set_pd(m, d, self._body_act, cmd.q, cmd.dq, cmd.kp, cmd.kd, cmd.tau)
            if self._hand_act.size:
                flat = (cmd.hand_q, cmd.hand_dq, cmd.hand_kp, cmd.hand_kd, cmd.hand_tau)
                _set_pd(m, d, self._hand_act, *(a.reshape(-1) for a in flat))
            self._has_pending = False

    def _take_snapshot(self) -> None:
        d = self.data
        s = self._snapshot
        with self._lock:
            np.take(d.qpos, self._body_qpos, out=s.q)
            np.take(d.qvel, self._body_dof, out=s.dq)
            np.take(d.actuator_force, self._body_act, out=s.tau_est)
            np.copyto(s.imu_quat_wxyz, d.sensordata[self._imu_quat])
            np.copyto(s.imu_gyro_b, d.sensordata[self._imu_gyro])
            np.copyto(s.imu_acc_b, d.sensordata[self._imu_acc])
            if self._hand_qpos.size:
                np.take(d.qpos, self._hand_qpos, out=s.hand_q.reshape(-1))
                np.take(d.qvel, self._hand_dof, out=s.hand_dq.reshape(-1))
            s.motor_temp_c.fill(_SIM_MOTOR_TEMP_C)
            s.remote_keys = self._remote_keys
            s.has_imu = True
            s.has_hands = bool(self._hand_qpos.size)
            s.stamp_ns = self._clock.now_ns()

    def _physics_thread(self) -> None:
        """Real-time pacing: one physics step per ``physics_dt`` on absolute deadlines."""
        dt_ns = int(self.model.opt.timestep * 1e9)
        priority = self.config.physics_fifo_priority
        if priority is not None:
            try:
                os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
            except OSError as exc:
                log.info("physics thread stays SCHED_OTHER (%s)", exc.strerror)
        next_ns = time.monotonic_ns()
        while not self._stop.is_set():
            self._apply_pending()
            mujoco.mj_step(self.model, self.data)  # releases the GIL
            self.physics_steps += 1
            self._take_snapshot()
            next_ns += dt_ns
            delay_ns = next_ns - time.monotonic_ns()
            if delay_ns > 0:
                time.sleep(delay_ns * 1e-9)
            elif delay_ns < -10 * dt_ns:  # far behind: drop the backlog rather than burst
                self.physics_overruns += 1
                next_ns = time.monotonic_ns()


def _configure_spec(spec: mujoco.MjSpec, config: SimConfig) -> None:
    """PD-capable actuators, IMU sensors at the pelvis IMU site, and the optional gantry."""
    limits = dict(zip(g1.BODY_JOINT_NAMES, g1.TAU_MAX, strict=True))
    limits.update(zip(dex3.HAND_JOINT_NAMES, dex3.HAND_TAU_MAX.reshape(-1), strict=True))
    for actuator in spec.actuators:
        actuator.gaintype = mujoco.mjtGain.mjGAIN_FIXED
        actuator.biastype = mujoco.mjtBias.mjBIAS_AFFINE
        actuator.gainprm[:3] = 0.0
        actuator.biasprm[:3] = 0.0
        actuator.ctrllimited = mujoco.mjtLimited.mjLIMITED_FALSE
        tau_max = limits.get(actuator.target)
        if tau_max is not None:
            actuator.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
            actuator.forcerange[:] = (-tau_max, tau_max)
    site = _IMU_SITE if _has_site(spec, _IMU_SITE) else None
    objtype = mujoco.mjtObj.mjOBJ_SITE if site else mujoco.mjtObj.mjOBJ_XBODY
    objname = site or "pelvis"
    for name, kind in (
        ("exo_imu_quat", mujoco.mjtSensor.mjSENS_FRAMEQUAT),
        ("exo_imu_gyro", mujoco.mjtSensor.mjSENS_GYRO),
        ("exo_imu_acc", mujoco.mjtSensor.mjSENS_ACCELEROMETER),
    ):
        if (
            kind is not mujoco.mjtSensor.mjSENS_FRAMEQUAT
            and objtype is not mujoco.mjtObj.mjOBJ_SITE
        ):
            raise ValueError("the model needs an 'imu_in_pelvis' site for gyro/accelerometer")
        spec.add_sensor(name=name, type=kind, objtype=objtype, objname=objname)
    if config.use_gantry:
        pelvis = spec.body("pelvis")
        pelvis.pos[2] = pelvis.pos[2] + config.gantry_lift_m
        weld = spec.add_equality(
            name="exo_gantry",
            type=mujoco.mjtEq.mjEQ_WELD,
            objtype=mujoco.mjtObj.mjOBJ_BODY,
            name1="pelvis",
            solref=[config.gantry_timeconst_s, 1.0],
        )
        # anchor 0, relative pose all zeros ("take it from qpos0"), torque scale 1. MjSpec's
        # default data is not MJCF's default and would weld an offset point.
        weld.data[:11] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]


def _has_site(spec: mujoco.MjSpec, name: str) -> bool:
    return any(site.name == name for site in spec.sites)


def _actuators_for(model: mujoco.MjModel, joint_ids: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    by_joint = {int(model.actuator_trnid[a, 0]): a for a in range(model.nu)}
    missing = [int(j) for j in joint_ids if int(j) not in by_joint]
    if missing:
        names = [mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, j) for j in missing]
        raise ValueError(f"model has no actuator for joints {names}")
    return np.array([by_joint[int(j)] for j in joint_ids], dtype=np.intp)


def _sensor_slice(model: mujoco.MjModel, name: str) -> slice:
    sid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SENSOR, name)
    start = int(model.sensor_adr[sid])
    return slice(start, start + int(model.sensor_dim[sid]))


def _set_pd(
    m: mujoco.MjModel,
    d: mujoco.MjData,
    act: npt.NDArray[np.intp],
    q: npt.NDArray[np.float64],
    dq: npt.NDArray[np.float64],
    kp: npt.NDArray[np.float64],
    kd: npt.NDArray[np.float64],
    tau: npt.NDArray[np.float64],
) -> None:
    """force = kp·ctrl + (kd·dq* + tau) − kp·q − kd·q̇, with ctrl = q*."""
    m.actuator_gainprm[act, 0] = kp
    m.actuator_biasprm[act, 0] = kd * dq + tau
    m.actuator_biasprm[act, 1] = -kp
    m.actuator_biasprm[act, 2] = -kd
    d.ctrl[act] = q
