"""LowCmd_ and LowState_ encoded and decoded directly on their CDR bytes, with the CRC.

Cyclone's Python binding (de)serialises a LowState_ in ~250 µs and a LowCmd_ in ~210 µs (35
nested dataclasses each); at 500 Hz in and out that alone would be a quarter of a core. The
messages are fixed-size, so each codec here keeps one byte buffer and numpy views onto its
fields (strided views for the per-motor floats, index arrays for the bytes) and moves whole
arrays at once. ``unitree_layout`` gives the offsets; tests check them against the SDK's own
serialiser both ways.

The robot side uses ``LowCmdEncoder`` and ``LowStateDecoder``; the simulator bridge the other two.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from controller.embodiment.g1 import NUM_BODY_JOINTS
from controller.robot.base import RobotCommand, RobotState
from controller.robot.unitree_crc import low_cmd_crc, low_state_crc
from controller.robot.unitree_layout import CDR_HEADER, LOW_CMD_LAYOUT, LOW_STATE_LAYOUT, Layout

NUM_MOTOR_SLOTS = 35
"""``motor_cmd`` / ``motor_state`` length; slots 29-34 are unused on the 29-DoF G1."""
MOTOR_ENABLE = 1
"""``MotorCmd_.mode`` for an enabled body motor (0 disables it)."""
_REMOTE_KEYS = 2
"""``wireless_remote[2:4]`` is the key bitfield (little-endian uint16)."""

F32 = npt.NDArray[np.float32]
U8 = npt.NDArray[np.uint8]


class _Message:
    """A CDR sample buffer (header + payload) with views onto its fields."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.buffer = np.zeros(4 + layout.wire_size, dtype=np.uint8)
        self.buffer[:4] = np.frombuffer(CDR_HEADER, dtype=np.uint8)
        self.payload: U8 = self.buffer[4:]

    def strided(self, pattern: str, count: int, dtype: str) -> npt.NDArray[np.generic]:
        """A view of ``pattern.format(i)`` for i < count; the elements must be evenly spaced."""
        offsets = self.layout.wire_offsets(pattern, count)
        steps = np.diff(offsets)
        if count > 1 and not np.all(steps == steps[0]):
            raise ValueError(f"{pattern} is not evenly spaced on the wire")
        stride = int(steps[0]) if count > 1 else np.dtype(dtype).itemsize
        view: npt.NDArray[np.generic] = np.ndarray(
            (count,), dtype=dtype, buffer=self.payload, offset=int(offsets[0]), strides=(stride,)
        )
        return view

    def offset(self, path: str) -> int:
        return self.layout.field(path).wire

    def load(self, sample: bytes) -> bool:
        """Copy a received sample (header included) in; False if its size or header is wrong."""
        if len(sample) < len(self.buffer) or sample[:2] != CDR_HEADER[:2]:
            return False
        self.buffer[:] = np.frombuffer(sample, dtype=np.uint8, count=len(self.buffer))
        return True


class _LowCmdViews(_Message):
    def __init__(self) -> None:
        super().__init__(LOW_CMD_LAYOUT)
        n = NUM_MOTOR_SLOTS
        self.q = self.strided("motor_cmd.{}.q", n, "<f4")
        self.dq = self.strided("motor_cmd.{}.dq", n, "<f4")
        self.tau = self.strided("motor_cmd.{}.tau", n, "<f4")
        self.kp = self.strided("motor_cmd.{}.kp", n, "<f4")
        self.kd = self.strided("motor_cmd.{}.kd", n, "<f4")
        self.mode_at = LOW_CMD_LAYOUT.wire_offsets("motor_cmd.{}.mode", n)
        self.mode_pr_at = self.offset("mode_pr")
        self.mode_machine_at = self.offset("mode_machine")


class LowCmdEncoder:
    """Robot side: a ``RobotCommand``'s 29 body motors into a sealed LowCmd_ sample."""

    def __init__(self) -> None:
        self._m = _LowCmdViews()
        self._crc = low_cmd_crc()
        self._m.payload[self._m.mode_at[:NUM_BODY_JOINTS]] = MOTOR_ENABLE
        self._m.payload[self._m.mode_pr_at] = 0  # PR: series pitch/roll (§1.4)

    def encode(self, command: RobotCommand, mode_machine: int) -> bytes:
        """The whole sample (header included), CRC sealed, ready for the writer."""
        m, b = self._m, NUM_BODY_JOINTS
        m.payload[m.mode_machine_at] = mode_machine
        m.q[:b] = command.q
        m.dq[:b] = command.dq
        m.tau[:b] = command.tau
        m.kp[:b] = command.kp
        m.kd[:b] = command.kd
        self._crc.seal(m.payload)
        return m.buffer.tobytes()


class LowCmdDecoder:
    """Simulator side: a received LowCmd_ into body-motor arrays, CRC checked."""

    def __init__(self) -> None:
        self._m = _LowCmdViews()
        self._crc = low_cmd_crc()
        self.mode = np.zeros(NUM_MOTOR_SLOTS, dtype=np.uint8)

    def decode(self, sample: bytes, out: RobotCommand) -> bool:
        """Fill ``out``'s body fields (a disabled motor gets zero gains); False: dropped."""
        m, b = self._m, NUM_BODY_JOINTS
        if not m.load(sample) or not self._crc.is_valid(m.payload):
            return False
        np.take(m.payload, m.mode_at, out=self.mode)
        enabled = self.mode[:b] == MOTOR_ENABLE
        np.copyto(out.q, m.q[:b])
        np.copyto(out.dq, m.dq[:b])
        np.multiply(m.tau[:b], enabled, out=out.tau)
        np.multiply(m.kp[:b], enabled, out=out.kp)
        np.multiply(m.kd[:b], enabled, out=out.kd)
        return True

    @property
    def mode_machine(self) -> int:
        return int(self._m.payload[self._m.mode_machine_at])

    @property
    def crc(self) -> int:
        return self._crc.stored(self._m.payload)

    @property
    def mode_pr(self) -> int:
        return int(self._m.payload[self._m.mode_pr_at])


class _LowStateViews(_Message):
    def __init__(self) -> None:
        super().__init__(LOW_STATE_LAYOUT)
        n = NUM_MOTOR_SLOTS
        self.q = self.strided("motor_state.{}.q", n, "<f4")
        self.dq = self.strided("motor_state.{}.dq", n, "<f4")
        self.tau_est = self.strided("motor_state.{}.tau_est", n, "<f4")
        self.temp_casing = self.strided("motor_state.{}.temperature.0", n, "<i2")
        self.temp_winding = self.strided("motor_state.{}.temperature.1", n, "<i2")
        self.quat = self.strided("imu_state.quaternion.{}", 4, "<f4")
        self.gyro = self.strided("imu_state.gyroscope.{}", 3, "<f4")
        self.acc = self.strided("imu_state.accelerometer.{}", 3, "<f4")
        self.rpy = self.strided("imu_state.rpy.{}", 3, "<f4")
        self.tick = self.strided("tick", 1, "<u4")
        self.reserve = self.strided("reserve.{}", 4, "<u4")
        remote = self.offset("wireless_remote.0")
        self.remote = self.payload[remote : remote + 40]
        self.mode_pr_at = self.offset("mode_pr")
        self.mode_machine_at = self.offset("mode_machine")


class LowStateDecoder:
    """Robot side: a received LowState_ into a ``RobotState``, CRC checked."""

    def __init__(self) -> None:
        self._m = _LowStateViews()
        self._crc = low_state_crc()

    def check(self, sample: bytes) -> bool:
        """Load a sample and verify its size and CRC; only a True sample may be decoded."""
        return self._m.load(sample) and self._crc.is_valid(self._m.payload)

    def decode_into(self, out: RobotState) -> None:
        """The last checked sample into ``out`` (``stamp_ns`` is the caller's to set)."""
        m, b = self._m, NUM_BODY_JOINTS
        np.copyto(out.q, m.q[:b])
        np.copyto(out.dq, m.dq[:b])
        np.copyto(out.tau_est, m.tau_est[:b])
        np.copyto(out.motor_temp_c[:, 0], m.temp_casing[:b])
        np.copyto(out.motor_temp_c[:, 1], m.temp_winding[:b])
        np.copyto(out.imu_quat_wxyz, m.quat)
        np.copyto(out.imu_gyro_b, m.gyro)
        np.copyto(out.imu_acc_b, m.acc)
        out.remote_keys = int(m.remote[_REMOTE_KEYS]) | int(m.remote[_REMOTE_KEYS + 1]) << 8
        out.has_imu = True

    @property
    def mode_machine(self) -> int:
        return int(self._m.payload[self._m.mode_machine_at])

    @property
    def tick(self) -> int:
        return int(self._m.tick[0])

    @property
    def applied_crc(self) -> int:
        """``reserve[0]``: the simulator bridge puts the CRC of the last LowCmd it applied here
        (a benchmark hook; the robot leaves it 0)."""
        return int(self._m.reserve[0])


class LowStateEncoder:
    """Simulator side: a ``RobotState`` into a sealed LowState_ sample, as the G1 sends it."""

    def __init__(self, mode_machine: int) -> None:
        self._m = _LowStateViews()
        self._crc = low_state_crc()
        self._m.payload[self._m.mode_machine_at] = mode_machine

    def encode(
        self, state: RobotState, tick: int, *, applied_crc: int = 0, corrupt_crc: bool = False
    ) -> bytes:
        m, b = self._m, NUM_BODY_JOINTS
        m.tick[0] = tick & 0xFFFFFFFF
        m.reserve[0] = applied_crc
        m.q[:b] = state.q
        m.dq[:b] = state.dq
        m.tau_est[:b] = state.tau_est
        m.temp_casing[:b] = state.motor_temp_c[:, 0]
        m.temp_winding[:b] = state.motor_temp_c[:, 1]
        m.quat[:] = state.imu_quat_wxyz
        m.gyro[:] = state.imu_gyro_b
        m.acc[:] = state.imu_acc_b
        m.rpy[:] = quat_to_rpy(state.imu_quat_wxyz)
        m.remote[_REMOTE_KEYS] = state.remote_keys & 0xFF
        m.remote[_REMOTE_KEYS + 1] = (state.remote_keys >> 8) & 0xFF
        crc = self._crc.seal(m.payload)
        if corrupt_crc:
            offset = self._crc.crc_offset
            m.payload[offset : offset + 4].view("<u4")[0] = crc ^ 0xA5A5A5A5
        return m.buffer.tobytes()


def quat_to_rpy(quat_wxyz: npt.NDArray[np.float64]) -> tuple[float, float, float]:
    """Roll, pitch, yaw (rad) of a wxyz quaternion, as the IMU's ``rpy`` field reports them."""
    w, x, y, z = (float(v) for v in quat_wxyz)
    roll = float(np.arctan2(2.0 * (w * x + y * z), 1.0 - 2.0 * (x * x + y * y)))
    pitch = float(np.arcsin(np.clip(2.0 * (w * y - z * x), -1.0, 1.0)))
    yaw = float(np.arctan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z)))
    return roll, pitch, yaw
