"""Dex3-1 hands: 7 joints per hand, per-hand slot order and limits (one source of truth).

Slot order follows Unitree's "human perception" convention (thumb 0-2, then two finger pairs),
but the URDF/MJCF joint names in slots 3-6 are mirrored between the hands: the left hand's
slots 3/4 are its *middle* finger, the right hand's are its *index* finger
(../shared/reference/unitree-g1.md §2.3; the official with-hand MJCF's actuator order agrees).
Limits are mirrored too and come from that table; code never derives one hand by negating the
other.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from controller.embodiment.g1 import Axis

NUM_HAND_JOINTS = 7


class Hand(enum.Enum):
    LEFT = "left"
    RIGHT = "right"


@dataclass(frozen=True)
class HandJointSpec:
    """One Dex3 slot: the MJCF joint in that slot, its axis and limits (rad, N·m)."""

    slot: int
    name: str
    axis: Axis
    q_min: float
    q_max: float
    tau_max: float


def _hand(
    side: str, fingers: tuple[str, str], limits: list[tuple[float, float]]
) -> tuple[HandJointSpec, ...]:
    names = [
        "thumb_0", "thumb_1", "thumb_2",
        f"{fingers[0]}_0", f"{fingers[0]}_1", f"{fingers[1]}_0", f"{fingers[1]}_1",
    ]  # fmt: skip
    axes = [Axis.Y, Axis.Z, Axis.Z, Axis.Z, Axis.Z, Axis.Z, Axis.Z]
    return tuple(
        HandJointSpec(slot, f"{side}_hand_{n}_joint", axis, lo, hi, 2.45 if slot == 0 else 1.4)
        for slot, (n, axis, (lo, hi)) in enumerate(zip(names, axes, limits, strict=True))
    )


HAND_JOINTS: dict[Hand, tuple[HandJointSpec, ...]] = {
    Hand.LEFT: _hand(
        "left",
        ("middle", "index"),
        [(-1.0472, 1.0472), (-0.724312, 1.0472), (0.0, 1.74533),
         (-1.5708, 0.0), (-1.74533, 0.0), (-1.5708, 0.0), (-1.74533, 0.0)],
    ),
    Hand.RIGHT: _hand(
        "right",
        ("index", "middle"),
        [(-1.0472, 1.0472), (-1.0472, 0.724312), (-1.74533, 0.0),
         (0.0, 1.5708), (0.0, 1.74533), (0.0, 1.5708), (0.0, 1.74533)],
    ),
}  # fmt: skip
"""Per hand, the 7 slots in command order (``HandCmd.motor_cmd[slot]``)."""


def _stack(attr: str) -> npt.NDArray[np.float64]:
    values = np.array([[getattr(j, attr) for j in HAND_JOINTS[h]] for h in Hand], dtype=np.float64)
    values.flags.writeable = False
    return values


HAND_Q_MIN = _stack("q_min")
"""Shape (2, 7): row 0 left, row 1 right, slot order."""
HAND_Q_MAX = _stack("q_max")
HAND_TAU_MAX = _stack("tau_max")
HAND_JOINT_NAMES: tuple[str, ...] = tuple(j.name for h in Hand for j in HAND_JOINTS[h])
"""The 14 hand joints: left slots 0-6 then right slots 0-6 (the 14 hand motors' order)."""

# Gains used by Unitree's examples and SONIC for holding a grip (kp 1.5, kd 0.1).
HAND_KP = 1.5
HAND_KD = 0.1
