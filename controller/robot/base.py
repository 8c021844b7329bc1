"""The robot backend seam: what the control tick reads and writes, whatever the robot is.

The shapes mirror the G1's DDS messages (../shared/reference/unitree-g1.md §1.3) so that the
Unitree DDS backend fills the same buffers as the simulator: ``LowState`` (29 body motors, pelvis
IMU, wireless remote) plus the two Dex3 ``HandState`` messages, and ``LowCmd`` (29 x q, dq, kp,
kd, tau) plus two ``HandCmd`` (7 each). Buffers are allocated once; backends fill them in place
so the 50 Hz tick allocates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from controller.embodiment.dex3 import NUM_HAND_JOINTS
from controller.embodiment.g1 import NUM_BODY_JOINTS

F64 = npt.NDArray[np.float64]
NUM_HAND_MOTORS = 2 * NUM_HAND_JOINTS


def _zeros(*shape: int) -> F64:
    return np.zeros(shape, dtype=np.float64)


@dataclass
class RobotState:
    """Latest robot state, hardware order. Backends overwrite the arrays in place."""

    q: F64 = field(default_factory=lambda: _zeros(NUM_BODY_JOINTS))
    """Body joint positions (rad)."""
    dq: F64 = field(default_factory=lambda: _zeros(NUM_BODY_JOINTS))
    """Body joint velocities (rad/s)."""
    tau_est: F64 = field(default_factory=lambda: _zeros(NUM_BODY_JOINTS))
    """Estimated joint torques (N·m)."""
    imu_quat_wxyz: F64 = field(default_factory=lambda: np.array([1.0, 0.0, 0.0, 0.0]))
    """Pelvis orientation in the world, wxyz."""
    imu_gyro_b: F64 = field(default_factory=lambda: _zeros(3))
    """Pelvis angular velocity in the pelvis frame (rad/s)."""
    imu_acc_b: F64 = field(default_factory=lambda: _zeros(3))
    """Pelvis specific force in the pelvis frame (m/s²)."""
    hand_q: F64 = field(default_factory=lambda: _zeros(2, NUM_HAND_JOINTS))
    """Dex3 joint positions, row 0 left and row 1 right, slot order (rad)."""
    hand_dq: F64 = field(default_factory=lambda: _zeros(2, NUM_HAND_JOINTS))
    motor_temp_c: F64 = field(default_factory=lambda: _zeros(NUM_BODY_JOINTS, 2))
    """Per body motor: casing and winding temperature (°C), as ``MotorState.temperature``."""
    remote_keys: int = 0
    """Wireless-remote key bitfield (``wireless_remote[2:4]``, see ``controller.remote``)."""
    stamp_ns: int = 0
    """When this state was received, on the control clock (monotonic ns). 0 = never."""
    has_imu: bool = False
    """False until the backend has received an IMU sample."""
    has_hands: bool = False
    """False when the robot or model has no Dex3 hands (hand arrays are then meaningless)."""

    def copy_from(self, other: RobotState) -> None:
        """Copy every field in place (no allocation)."""
        for name in ("q", "dq", "tau_est", "imu_quat_wxyz", "imu_gyro_b", "imu_acc_b",
                     "hand_q", "hand_dq", "motor_temp_c"):  # fmt: skip
            np.copyto(getattr(self, name), getattr(other, name))
        self.remote_keys = other.remote_keys
        self.stamp_ns = other.stamp_ns
        self.has_imu = other.has_imu
        self.has_hands = other.has_hands


@dataclass
class RobotCommand:
    """One motor command for 29 body + 14 hand motors, as the drivers execute it:
    ``tau = kp (q - q_meas) + kd (dq - dq_meas) + tau``, clipped to the torque limits."""

    q: F64 = field(default_factory=lambda: _zeros(NUM_BODY_JOINTS))
    dq: F64 = field(default_factory=lambda: _zeros(NUM_BODY_JOINTS))
    kp: F64 = field(default_factory=lambda: _zeros(NUM_BODY_JOINTS))
    kd: F64 = field(default_factory=lambda: _zeros(NUM_BODY_JOINTS))
    tau: F64 = field(default_factory=lambda: _zeros(NUM_BODY_JOINTS))
    hand_q: F64 = field(default_factory=lambda: _zeros(2, NUM_HAND_JOINTS))
    hand_dq: F64 = field(default_factory=lambda: _zeros(2, NUM_HAND_JOINTS))
    hand_kp: F64 = field(default_factory=lambda: _zeros(2, NUM_HAND_JOINTS))
    hand_kd: F64 = field(default_factory=lambda: _zeros(2, NUM_HAND_JOINTS))
    hand_tau: F64 = field(default_factory=lambda: _zeros(2, NUM_HAND_JOINTS))

    def copy_from(self, other: RobotCommand) -> None:
        """Copy every field in place (no allocation)."""
        for name in ("q", "dq", "kp", "kd", "tau", "hand_q", "hand_dq", "hand_kp", "hand_kd",
                     "hand_tau"):  # fmt: skip
            np.copyto(getattr(self, name), getattr(other, name))


class BackendUnavailableError(RuntimeError):
    """A backend's SDK or model is missing; the message says how to install or configure it."""


def robot_diagnostics(backend: object) -> dict[str, Any]:
    """A backend's bus counters and battery figure (``diagnostics()``), or {} when it has none.

    Optional on purpose: the simulator has nothing to report, the DDS backend does.
    """
    diagnostics = getattr(backend, "diagnostics", None)
    if diagnostics is None:
        return {}
    result: dict[str, Any] = diagnostics()
    return result


class RobotBackend(Protocol):
    """What the control process needs from a robot: the latest state in, one command out.

    ``read_state`` and ``write_command`` are called from the 50 Hz tick: they copy into / out of
    caller-owned buffers, must not allocate or block, and must return quickly. A real-robot
    backend re-sends the latest command on its own writer thread, as Unitree's stacks do.
    """

    def read_state(self, out: RobotState) -> None:
        """Copy the latest state into ``out``; ``out.stamp_ns`` says when it was received."""
        ...

    def write_command(self, command: RobotCommand) -> None:
        """Hand the command to the robot (it is copied; the caller may reuse the buffer)."""
        ...

    def close(self) -> None:
        """Stop background threads and release the robot. Idempotent."""
        ...
