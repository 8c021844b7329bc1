"""Shared fakes for controller unit tests: a robot backend and a settable clock.

Faked: the robot (a ``RobotBackend`` that returns a state the test sets and records every
command). Real: everything under test (supervisor, loop, timing).
"""

from __future__ import annotations

import numpy as np
import pytest

from controller.embodiment import g1
from controller.robot.base import RobotCommand, RobotState

PERIOD_NS = 20_000_000


class FakeClock:
    def __init__(self, start_ns: int = 1_000_000_000) -> None:
        self.t = start_ns

    def now_ns(self) -> int:
        return self.t


class FakeBackend:
    """Returns ``self.state`` (stamped with the clock's time) and keeps every written command."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.state = healthy_state(clock.t)
        self.written: list[RobotCommand] = []
        self.keep_commands = True
        self.is_fresh = True

    def read_state(self, out: RobotState) -> None:
        if self.is_fresh:
            self.state.stamp_ns = self.clock.now_ns()
        out.copy_from(self.state)

    def write_command(self, command: RobotCommand) -> None:
        if self.keep_commands:
            copy = RobotCommand()
            copy.copy_from(command)
            self.written.append(copy)

    def close(self) -> None:
        pass


def healthy_state(stamp_ns: int) -> RobotState:
    state = RobotState()
    state.q[:] = g1.Q_DEFAULT
    state.imu_quat_wxyz[:] = (1.0, 0.0, 0.0, 0.0)
    state.motor_temp_c.fill(40.0)
    state.has_imu = True
    state.has_hands = True
    state.stamp_ns = stamp_ns
    return state


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def backend(clock: FakeClock) -> FakeBackend:
    return FakeBackend(clock)


def yaw_pitch_quat(pitch_rad: float) -> np.ndarray:
    return np.array([np.cos(pitch_rad / 2), 0.0, np.sin(pitch_rad / 2), 0.0])
