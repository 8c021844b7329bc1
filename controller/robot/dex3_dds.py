"""Dex3-1 hands on DDS: ``HandCmd_`` encoded and ``HandState_`` decoded on their CDR bytes.

Each hand has its own command topic (``rt/dex3/{left,right}/cmd``) and state topic (prefix
configurable: ``rt/dex3`` or ``rt/lf/dex3``). Slot ``i`` of ``motor_cmd``/``motor_state`` is
slot ``i`` of ``controller.embodiment.dex3`` for that hand (the slot tables differ per hand;
nothing here renames them). Every motor carries the mode byte
``id | status << 4 | timeout << 7`` with status 1 (../shared/reference/unitree-g1.md §2.2): a
command without the id and status bits leaves joints still (unitree_sdk2_python #49). A motor
with kp = kd = 0 gets the timeout bit as well, which is how Unitree's example releases a hand.

Both messages start with a ``sequence<MotorCmd_/MotorState_>``; with the Dex3's 7 motors that
prefix has fixed offsets, so ``HandCmd_`` is a fixed 216-byte payload and the joint fields of a
``HandState_`` are read without deserialising its pressure-sensor arrays.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from controller.embodiment.dex3 import NUM_HAND_JOINTS
from controller.robot.unitree_layout import (
    CDR_HEADER,
    MOTOR_CMD,
    MOTOR_STATE,
    Row,
    build_layout,
)

HAND_CMD: tuple[Row, ...] = (
    ("motor_cmd_length", "<u4", 1),
    ("motor_cmd", MOTOR_CMD, NUM_HAND_JOINTS),
    ("reserve", "<u4", 4),
)
HAND_STATE_PREFIX: tuple[Row, ...] = (
    ("motor_state_length", "<u4", 1),
    ("motor_state", MOTOR_STATE, NUM_HAND_JOINTS),
)
HAND_CMD_LAYOUT = build_layout("HandCmd_", HAND_CMD)
HAND_STATE_LAYOUT = build_layout("HandState_ (motor prefix)", HAND_STATE_PREFIX)

STATUS_CONTROL = 0x01
TIMEOUT_BIT = 0x80
F64 = npt.NDArray[np.float64]


def mode_byte(slot: int, *, is_released: bool) -> int:
    """The per-motor mode byte: motor id, status 1, and the timeout bit to release."""
    return (slot & 0x0F) | (STATUS_CONTROL << 4) | (TIMEOUT_BIT if is_released else 0)


def hand_cmd_topic(side: str) -> str:
    return f"rt/dex3/{side}/cmd"


class HandCmdEncoder:
    """One hand's 7 slots into a ``HandCmd_`` sample (header included)."""

    def __init__(self) -> None:
        layout = HAND_CMD_LAYOUT
        self._buffer = np.zeros(4 + layout.wire_size, dtype=np.uint8)
        self._buffer[:4] = np.frombuffer(CDR_HEADER, dtype=np.uint8)
        payload = self._buffer[4:]
        payload[0:4].view("<u4")[0] = NUM_HAND_JOINTS

        def view(name: str) -> npt.NDArray[np.float32]:
            at = layout.wire_offsets("motor_cmd.{}." + name, NUM_HAND_JOINTS)
            stride = int(at[1] - at[0])
            result: npt.NDArray[np.float32] = np.ndarray(
                (NUM_HAND_JOINTS,), "<f4", buffer=payload, offset=int(at[0]), strides=(stride,)
            )
            return result

        self._q, self._dq, self._tau = view("q"), view("dq"), view("tau")
        self._kp, self._kd = view("kp"), view("kd")
        self._mode_at = layout.wire_offsets("motor_cmd.{}.mode", NUM_HAND_JOINTS)
        self._payload = payload
        self._active = np.array([mode_byte(i, is_released=False) for i in range(7)], np.uint8)
        self._released = np.array([mode_byte(i, is_released=True) for i in range(7)], np.uint8)

    def encode(self, q: F64, dq: F64, kp: F64, kd: F64, tau: F64) -> bytes:
        """Arrays of shape (7,), this hand's slot order."""
        self._q[:] = q
        self._dq[:] = dq
        self._tau[:] = tau
        self._kp[:] = kp
        self._kd[:] = kd
        released = (kp == 0.0) & (kd == 0.0)
        self._payload[self._mode_at] = np.where(released, self._released, self._active)
        return self._buffer.tobytes()


class HandStateDecoder:
    """The joint part of a ``HandState_``; samples with another motor count are refused."""

    def __init__(self) -> None:
        layout = HAND_STATE_LAYOUT
        self._q_at = layout.wire_offsets("motor_state.{}.q", NUM_HAND_JOINTS) + 4
        self._dq_at = layout.wire_offsets("motor_state.{}.dq", NUM_HAND_JOINTS) + 4
        self._size = 4 + layout.wire_size

    def decode(self, sample: bytes, q_out: F64, dq_out: F64) -> bool:
        if len(sample) < self._size or sample[:2] != CDR_HEADER[:2]:
            return False
        raw = np.frombuffer(sample, dtype=np.uint8, count=self._size)
        if int(raw[4:8].view("<u4")[0]) != NUM_HAND_JOINTS:
            return False
        q_out[:] = [raw[a : a + 4].view("<f4")[0] for a in self._q_at]
        dq_out[:] = [raw[a : a + 4].view("<f4")[0] for a in self._dq_at]
        return True


class HandCmdDecoder:
    """Simulator side: a ``HandCmd_`` into (7,) arrays; returns the mode bytes too."""

    def __init__(self) -> None:
        layout = HAND_CMD_LAYOUT
        self._at = {
            name: layout.wire_offsets("motor_cmd.{}." + name, NUM_HAND_JOINTS) + 4
            for name in ("q", "dq", "tau", "kp", "kd")
        }
        self._mode_at = layout.wire_offsets("motor_cmd.{}.mode", NUM_HAND_JOINTS) + 4
        self._size = 4 + layout.wire_size
        self.mode = np.zeros(NUM_HAND_JOINTS, dtype=np.uint8)

    def decode(self, sample: bytes, out: dict[str, F64]) -> bool:
        """``out`` maps q, dq, tau, kp, kd to (7,) arrays; False: malformed, ignored."""
        if len(sample) < self._size or sample[:2] != CDR_HEADER[:2]:
            return False
        raw = np.frombuffer(sample, dtype=np.uint8, count=self._size)
        if int(raw[4:8].view("<u4")[0]) != NUM_HAND_JOINTS:
            return False
        np.take(raw, self._mode_at, out=self.mode)
        for name, at in self._at.items():
            values = np.array([raw[a : a + 4].view("<f4")[0] for a in at], dtype=np.float64)
            out[name][:] = values
        return True
