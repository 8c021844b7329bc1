"""The command writer's behaviour, on its real thread with in-memory send functions.

Real: the writer thread, its timing and the LowCmd/HandCmd encoders (bytes decoded back with our
decoders). Faked: the DDS writers (lists that record what would have gone on the bus).
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from controller.robot.base import RobotCommand
from controller.robot.dex3_dds import HandCmdDecoder
from controller.robot.lowcmd_writer import LowCmdWriter, WriterConfig
from controller.robot.unitree_codec import LowCmdDecoder

MEASURED_Q = 0.3


class Bus:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.body: list[tuple[int, RobotCommand, int]] = []
        self.hands: list[list[bytes]] = [[], []]
        self._decoder = LowCmdDecoder()

    def send_body(self, sample: bytes) -> bool:
        cmd = RobotCommand()
        assert self._decoder.decode(sample, cmd), "every LowCmd carries a valid CRC"
        with self.lock:
            self.body.append((time.monotonic_ns(), cmd, self._decoder.mode_machine))
        return True

    def send_hand(self, side: int) -> object:
        def send(sample: bytes) -> bool:
            with self.lock:
                self.hands[side].append(sample)
            return True

        return send


def measured(out: RobotCommand) -> None:
    out.q.fill(MEASURED_Q)
    out.hand_q.fill(MEASURED_Q)


@pytest.fixture
def bus_and_writer() -> tuple[Bus, LowCmdWriter]:
    bus = Bus()
    writer = LowCmdWriter(
        WriterConfig(rate_hz=500.0, hand_rate_hz=100.0, stale_after_s=0.1, fifo_priority=None),
        send_body=bus.send_body,
        send_hands=(bus.send_hand(0), bus.send_hand(1)),  # type: ignore[arg-type]
        mode_machine=lambda: 5,
        measured_q=measured,
    )
    yield bus, writer
    writer.stop()


def held(kp: float = 40.0) -> RobotCommand:
    cmd = RobotCommand()
    cmd.q.fill(0.1)
    cmd.kp.fill(kp)
    cmd.kd.fill(1.0)
    cmd.hand_kp.fill(1.5)
    return cmd


def test_nothing_is_sent_before_start(bus_and_writer: tuple[Bus, LowCmdWriter]) -> None:
    bus, writer = bus_and_writer
    writer.submit(held())
    time.sleep(0.05)
    assert bus.body == []


def test_damping_until_the_first_command_then_the_command_at_the_rate_with_mode_machine(
    bus_and_writer: tuple[Bus, LowCmdWriter],
) -> None:
    bus, writer = bus_and_writer
    writer.start()
    time.sleep(0.03)
    writer.submit(held())
    time.sleep(0.05)  # refreshed by nobody after this: still fresh for 100 ms
    writer.stop()
    first_t, first, _ = bus.body[0]
    assert first.kp.max() == 0.0, "damping before the tick's command"
    assert first.kd.min() == 8.0
    np.testing.assert_allclose(first.q, MEASURED_Q, atol=1e-6)
    later = [cmd for _, cmd, _ in bus.body if cmd.kp.max() > 0]
    assert later, "the submitted command goes out"
    np.testing.assert_allclose(later[-1].q, 0.1, atol=1e-6)
    assert {mm for _, _, mm in bus.body} == {5}
    span_s = (bus.body[-1][0] - first_t) * 1e-9
    assert len(bus.body) >= 0.5 * 500 * span_s, "re-sent between submissions"
    assert bus.hands[0]
    assert bus.hands[1]
    assert len(bus.hands[0]) < len(bus.body), "hands at their lower rate"


def test_a_silent_tick_turns_into_damping_and_latches_until_an_unpowered_command(
    bus_and_writer: tuple[Bus, LowCmdWriter],
) -> None:
    bus, writer = bus_and_writer
    writer.start()
    writer.submit(held())
    time.sleep(0.25)  # the tick stops refreshing for > 100 ms
    assert writer.is_stall_latched
    assert writer.stalls == 1
    with bus.lock:
        last = bus.body[-1][1]
    assert last.kp.max() == 0.0
    assert last.kd.min() == 8.0
    out = {k: np.zeros(7) for k in ("q", "dq", "tau", "kp", "kd")}
    assert HandCmdDecoder().decode(bus.hands[0][-1], out)
    assert out["kp"].max() == 0.0
    assert out["kd"].min() == pytest.approx(0.1)
    writer.submit(held())  # a resumed tick still proposing a powered pose: not enough
    assert writer.is_stall_latched
    writer.submit(held(kp=0.0))  # the supervisor has damped too: the latch clears
    assert not writer.is_stall_latched
