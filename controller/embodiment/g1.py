"""Unitree G1 29-DoF body: joint table, joint orders and SONIC's gains (one source of truth).

Conventions:
- *Hardware order* is the DDS ``LowCmd.motor_cmd[i]`` index (0..28), which is also the MuJoCo
  actuator and joint order of Unitree's official MJCF. Arrays named ``*_hw`` use it.
- *IsaacLab order* is the policy order SONIC was trained with. Arrays named ``*_isaac`` use it.
- Angles in rad, velocities in rad/s, torques in N·m. Joint names are the MJCF names.

Figures come from ../shared/reference/unitree-g1.md §3 (limits, Unitree's MJCF) and
sonic-deploy.md §2 (armature-derived gains, action scale, default pose). Gains are *derived* here
from the motor armatures with SONIC's formula rather than typed in, so they cannot drift apart.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

NUM_BODY_JOINTS = 29


class MotorType(enum.Enum):
    """Motor families of the G1 with their rotor armature (kg·m²), effort (N·m) and speed limit."""

    M5020 = ("5020", 0.003609725, 25.0, 37.0)
    M7520_14 = ("7520_14", 0.010177520, 88.0, 32.0)
    M7520_22 = ("7520_22", 0.025101925, 139.0, 20.0)
    M4010 = ("4010", 0.00425, 5.0, 22.0)
    # Ankle and waist roll/pitch are driven by two 5020 motors through a linkage.
    DUAL_5020 = ("2x5020", 2 * 0.003609725, 50.0, 37.0)

    def __init__(self, label: str, armature: float, effort: float, max_speed: float) -> None:
        self.label = label
        self.armature = armature
        self.effort = effort
        self.max_speed = max_speed


class Axis(enum.Enum):
    """Joint rotation axis in the child link frame, as in Unitree's MJCF."""

    X = (1.0, 0.0, 0.0)
    Y = (0.0, 1.0, 0.0)
    Z = (0.0, 0.0, 1.0)


@dataclass(frozen=True)
class JointSpec:
    """One body joint: identity, axis, limits and the default standing angle."""

    name: str
    """MJCF joint name, e.g. ``left_hip_pitch_joint``."""
    axis: Axis
    q_min: float
    q_max: float
    tau_max: float
    """Torque limit from Unitree's MJCF ``actuatorfrcrange`` (what the drivers clip at)."""
    motor: MotorType
    q_default: float
    """SONIC's default pose (the RAMP target and the action offset)."""


_W = 2.0 * math.pi * 10.0  # SONIC: 10 Hz natural frequency ...
_ZETA = 2.0  # ... and damping ratio 2, applied to the reflected rotor inertia.


def _leg(side: str, sign: float) -> list[JointSpec]:
    hip_roll = (-0.5236, 2.9671) if sign > 0 else (-2.9671, 0.5236)
    return [
        JointSpec(
            f"{side}_hip_pitch_joint", Axis.Y, -2.5307, 2.8798, 88.0, MotorType.M7520_22, -0.312
        ),
        JointSpec(f"{side}_hip_roll_joint", Axis.X, *hip_roll, 139.0, MotorType.M7520_22, 0.0),
        JointSpec(f"{side}_hip_yaw_joint", Axis.Z, -2.7576, 2.7576, 88.0, MotorType.M7520_14, 0.0),
        JointSpec(
            f"{side}_knee_joint", Axis.Y, -0.087267, 2.8798, 139.0, MotorType.M7520_22, 0.669
        ),
        JointSpec(
            f"{side}_ankle_pitch_joint", Axis.Y, -0.87267, 0.5236, 50.0, MotorType.DUAL_5020, -0.363
        ),
        JointSpec(
            f"{side}_ankle_roll_joint", Axis.X, -0.2618, 0.2618, 50.0, MotorType.DUAL_5020, 0.0
        ),
    ]


def _arm(side: str, sign: float) -> list[JointSpec]:
    roll = (-1.5882, 2.2515) if sign > 0 else (-2.2515, 1.5882)
    return [
        JointSpec(
            f"{side}_shoulder_pitch_joint", Axis.Y, -3.0892, 2.6704, 25.0, MotorType.M5020, 0.2
        ),
        JointSpec(f"{side}_shoulder_roll_joint", Axis.X, *roll, 25.0, MotorType.M5020, 0.2 * sign),
        JointSpec(f"{side}_shoulder_yaw_joint", Axis.Z, -2.618, 2.618, 25.0, MotorType.M5020, 0.0),
        JointSpec(f"{side}_elbow_joint", Axis.Y, -1.0472, 2.0944, 25.0, MotorType.M5020, 0.6),
        JointSpec(
            f"{side}_wrist_roll_joint", Axis.X, -1.97222, 1.97222, 25.0, MotorType.M5020, 0.0
        ),
        JointSpec(
            f"{side}_wrist_pitch_joint", Axis.Y, -1.61443, 1.61443, 5.0, MotorType.M4010, 0.0
        ),
        JointSpec(f"{side}_wrist_yaw_joint", Axis.Z, -1.61443, 1.61443, 5.0, MotorType.M4010, 0.0),
    ]


_WAIST = [
    JointSpec("waist_yaw_joint", Axis.Z, -2.618, 2.618, 88.0, MotorType.M7520_14, 0.0),
    JointSpec("waist_roll_joint", Axis.X, -0.52, 0.52, 50.0, MotorType.DUAL_5020, 0.0),
    JointSpec("waist_pitch_joint", Axis.Y, -0.52, 0.52, 50.0, MotorType.DUAL_5020, 0.0),
]

BODY_JOINTS: tuple[JointSpec, ...] = tuple(
    _leg("left", 1.0) + _leg("right", -1.0) + _WAIST + _arm("left", 1.0) + _arm("right", -1.0)
)
"""The 29 body joints in hardware (DDS) order."""

BODY_JOINT_NAMES: tuple[str, ...] = tuple(j.name for j in BODY_JOINTS)

ISAAC_TO_HW: npt.NDArray[np.intp] = np.array(
    [0, 6, 12, 1, 7, 13, 2, 8, 14, 3, 9, 15, 22, 4, 10, 16, 23, 5, 11, 17, 24, 18, 25, 19, 26, 20,
     27, 21, 28],
    dtype=np.intp,
)  # fmt: skip
"""``q_hw[ISAAC_TO_HW[k]] = q_isaac[k]``: IsaacLab index -> hardware index (SONIC's
``mujoco_to_isaaclab`` table); so ``q_isaac = q_hw[ISAAC_TO_HW]``."""

HW_TO_ISAAC: npt.NDArray[np.intp] = np.argsort(ISAAC_TO_HW).astype(np.intp)
"""Inverse permutation, computed: ``q_hw = q_isaac[HW_TO_ISAAC]``."""

# Wrist joints in IsaacLab order (SONIC's encoder wrist inputs use IsaacLab 23..28).
WRIST_ISAAC_SLICE = slice(23, 29)
WRIST_HW: npt.NDArray[np.intp] = ISAAC_TO_HW[WRIST_ISAAC_SLICE]
"""Hardware indices of those six wrist joints, in SONIC's IsaacLab order."""
WRIST_HW.flags.writeable = False


def _column(attr: str) -> npt.NDArray[np.float64]:
    values = np.array([getattr(j, attr) for j in BODY_JOINTS], dtype=np.float64)
    values.flags.writeable = False
    return values


def _frozen(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    values.flags.writeable = False
    return values


Q_MIN = _column("q_min")
Q_MAX = _column("q_max")
TAU_MAX = _column("tau_max")
Q_DEFAULT = _column("q_default")
DQ_MAX = _frozen(np.array([j.motor.max_speed for j in BODY_JOINTS]))
_ARMATURE = np.array([j.motor.armature for j in BODY_JOINTS])
KP = _frozen(_ARMATURE * _W**2)
"""SONIC stiffness (N·m/rad), hardware order: kp = armature · ω²."""
KD = _frozen(2.0 * _ZETA * _ARMATURE * _W)
"""SONIC damping (N·m·s/rad), hardware order: kd = 2 ζ armature ω."""
# SONIC's action scale uses the single-motor stiffness for dual-5020 joints and the motor-family
# effort (139 N·m for hip pitch, although its MJCF clip is 88): 0.25 · effort / kp.
_SCALE_KP = np.array(
    [MotorType.M5020.armature * _W**2 if j.motor is MotorType.DUAL_5020 else k
     for j, k in zip(BODY_JOINTS, KP, strict=True)]
)  # fmt: skip
_SCALE_EFFORT = np.array(
    [MotorType.M5020.effort if j.motor is MotorType.DUAL_5020 else j.motor.effort
     for j in BODY_JOINTS]
)  # fmt: skip
ACTION_SCALE = _frozen(0.25 * _SCALE_EFFORT / _SCALE_KP)
"""SONIC action scale, hardware order: ``q = Q_DEFAULT + ACTION_SCALE * action_hw``."""


def joint_index(name: str) -> int:
    """Hardware index of a body joint by MJCF name (with or without the ``_joint`` suffix)."""
    full = name if name.endswith("_joint") else f"{name}_joint"
    try:
        return BODY_JOINT_NAMES.index(full)
    except ValueError:
        raise KeyError(f"unknown G1 body joint {name!r}") from None
