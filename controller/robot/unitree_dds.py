"""``RobotBackend`` over the G1's DDS bus (unitree_sdk2py types, Cyclone DDS 0.10.x).

Start-up, in this order, each failure a ``DdsSetupError`` whose one-line message names the fix,
and no ``rt/lowcmd`` written before all of it succeeded:

1. the SDK and a safe Cyclone binding import; the network interface exists; the domain is valid;
2. a valid (CRC-checked) ``rt/lowstate`` arrives within ``start_timeout_s``;
3. its ``mode_machine`` is a 29-DoF G1 this runtime knows;
4. the motion switcher releases the built-in controller (robot only);
5. the writer starts (``lowcmd_writer``): from now on ``rt/lowcmd`` flows in every mode.

State: every ``rt/lowstate`` is CRC-checked on arrival (a bad one is dropped and counted, never
used); its age is its arrival time on the control clock, refreshed only when its ``tick``
advances (a replayed or frozen publisher reads as stale). The Dex3 states, the torso IMU and the
battery (``rt/lf/bmsstate``) arrive on their own topics. ``read_state`` and ``write_command``
only copy under a lock: they are safe for the 50 Hz tick.
"""

from __future__ import annotations

import logging
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from controller.clock import Clock
from controller.embodiment.dex3 import NUM_HAND_JOINTS
from controller.robot.base import RobotCommand, RobotState
from controller.robot.dds_transport import (
    DdsDomain,
    DdsSetupError,
    SdkTypes,
    load_sdk_types,
)
from controller.robot.dex3_dds import HandStateDecoder, hand_cmd_topic
from controller.robot.lowcmd_writer import LowCmdWriter, WriterConfig
from controller.robot.motion_switcher import MotionSwitcherClient
from controller.robot.unitree_codec import LowStateDecoder
from controller.robot.unitree_config import UnitreeDdsConfig
from controller.robot.unitree_layout import LOW_STATE_LAYOUT

log = logging.getLogger(__name__)

LOWSTATE_TOPIC = "rt/lowstate"
LOWCMD_TOPIC = "rt/lowcmd"
TORSO_IMU_TOPIC = "rt/secondary_imu"
BMS_TOPIC = "rt/lf/bmsstate"

_MODE_MACHINE_NAMES = {
    4: "g1_23dof_rev_1_0", 5: "g1_29dof_rev_1_0", 6: "g1_29dof_lock_waist_rev_1_0",
    9: "g1_dual_arm", 10: "23dof_mode_10",
}  # fmt: skip


class NoLowStateError(DdsSetupError):
    """No valid ``rt/lowstate`` within the start timeout."""


class UnsupportedRobotError(DdsSetupError):
    """``mode_machine`` says this is not the 29-DoF G1 the runtime's tables describe."""


@dataclass
class BusCounters:
    """What arrived and what was dropped (read by diagnostics; written by listener threads)."""

    lowstates: int = 0
    bad_crc: int = 0
    malformed: int = 0
    repeated_tick: int = 0
    hand_states: list[int] = field(default_factory=lambda: [0, 0])
    torso_imu: int = 0
    bms: int = 0
    battery_soc_pct: float | None = None
    mode_machine: int = -1
    tick: int = 0


@dataclass(frozen=True)
class DampingGains:
    """What the writer sends when the tick goes silent (the supervisor's damping values)."""

    stale_after_s: float = 0.1
    damping_kd: float = 8.0
    hand_damping_kd: float = 0.1
    tick_period_s: float = 0.02
    """The control loop's period (the writer keeps clear of its wake-ups)."""


class UnitreeDdsBackend:
    """The G1 (or the simulator bridge) on DDS. Construction runs the whole start-up."""

    def __init__(
        self,
        config: UnitreeDdsConfig,
        *,
        clock: Clock,
        damping: DampingGains | None = None,
        start_writer: bool = True,
    ) -> None:
        self.config = config
        self._clock = clock
        self._damping = damping or DampingGains()
        self._types: SdkTypes = load_sdk_types()
        self.counters = BusCounters()
        self._lock = threading.Lock()
        self._state = RobotState()
        self._first_state = threading.Event()
        self._decoder = LowStateDecoder()
        self._hand_decoders = (HandStateDecoder(), HandStateDecoder())
        self._hand_q = np.zeros((2, NUM_HAND_JOINTS))
        self._hand_dq = np.zeros((2, NUM_HAND_JOINTS))
        self._writer: LowCmdWriter | None = None
        self._domain = DdsDomain(config.domain_id, config.network_interface)
        self._domain.set_dispatch_priority(config.reader_fifo_priority)
        try:
            self._start(start_writer)
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------ start-up
    def _start(self, start_writer: bool) -> None:
        cfg, t = self.config, self._types
        d = self._domain
        d.raw_reader(LOWSTATE_TOPIC, t.LowState_, self._on_lowstate)
        left, right = cfg.hand_state_topics
        d.raw_reader(left, t.HandState_, lambda s: self._on_hand_state(0, s))
        d.raw_reader(right, t.HandState_, lambda s: self._on_hand_state(1, s))
        d.raw_reader(TORSO_IMU_TOPIC, t.IMUState_, self._on_torso_imu)
        d.raw_reader(BMS_TOPIC, t.BmsState_, self._on_bms)
        if not self._first_state.wait(cfg.start_timeout_s):
            where = f"domain {cfg.domain_id} via {cfg.network_interface}"
            bad = self.counters.bad_crc + self.counters.malformed
            because = f" ({bad} arrived with a bad CRC or size)" if bad else ""
            raise NoLowStateError(
                f"no valid rt/lowstate on {where} within {cfg.start_timeout_s:g} s{because}: "
                "is the robot powered and cabled to this NIC (or `exoactor-edge sim-bridge` "
                "running)? The robot uses domain 0, the simulator domain 1 "
                "([robot.unitree] domain_id, network_interface)"
            )
        mode_machine = self.counters.mode_machine
        if mode_machine not in cfg.accepted_mode_machines:
            name = _MODE_MACHINE_NAMES.get(mode_machine, "unknown variant")
            raise UnsupportedRobotError(
                f"rt/lowstate reports mode_machine {mode_machine} ({name}), not a 29-DoF G1 "
                f"{list(cfg.accepted_mode_machines)}: this runtime's joint tables fit only those; "
                "if this robot is a 29-DoF variant, add its code to [robot.unitree] "
                "accepted_mode_machines"
            )
        if cfg.release_motion_control:
            MotionSwitcherClient(d, t).release(cfg.motion_switcher_timeout_s)
        log.info(
            "G1 on domain %d via %s: mode_machine %d, tick %d",
            cfg.domain_id, cfg.network_interface, mode_machine, self.counters.tick,
        )  # fmt: skip
        if start_writer:
            self._start_writer()

    def _start_writer(self) -> None:
        cfg, t, d = self.config, self._types, self._domain
        body = d.raw_writer(LOWCMD_TOPIC, t.LowCmd_)
        hands = None
        if cfg.has_hands:
            left = d.raw_writer(hand_cmd_topic("left"), t.HandCmd_)
            right = d.raw_writer(hand_cmd_topic("right"), t.HandCmd_)
            hands = (left.write, right.write)
        self._writer = LowCmdWriter(
            WriterConfig(
                rate_hz=cfg.command_rate_hz,
                hand_rate_hz=min(cfg.hand_command_rate_hz, cfg.command_rate_hz),
                stale_after_s=self._damping.stale_after_s,
                damping_kd=self._damping.damping_kd,
                hand_damping_kd=self._damping.hand_damping_kd,
                fifo_priority=cfg.writer_fifo_priority,
                tick_period_s=self._damping.tick_period_s,
            ),
            send_body=body.write,
            send_hands=hands,
            mode_machine=lambda: self.counters.mode_machine,
            measured_q=self._measured_pose,
        )
        self._writer.start()

    # ------------------------------------------------------------ RobotBackend
    def read_state(self, out: RobotState) -> None:
        with self._lock:
            out.copy_from(self._state)
        writer = self._writer
        if writer is not None:
            writer.note_tick(time.monotonic_ns())
            if writer.is_stall_latched:
                out.stamp_ns = 0  # the writer is damping on its own: the supervisor must too

    def write_command(self, command: RobotCommand) -> None:
        if self._writer is not None:
            self._writer.submit(command)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.stop()
        self._domain.close()

    # ------------------------------------------------------------ diagnostics
    @property
    def writer(self) -> LowCmdWriter | None:
        return self._writer

    def diagnostics(self) -> dict[str, Any]:
        """Counters for the status message and ``exoactor-edge status``."""
        c, w = self.counters, self._writer
        return {
            "backend": "unitree",
            "lowstates": c.lowstates,
            "bad_crc": c.bad_crc,
            "malformed": c.malformed,
            "repeated_tick": c.repeated_tick,
            "mode_machine": c.mode_machine,
            "hand_states": list(c.hand_states),
            "torso_imu": c.torso_imu,
            "battery_soc_pct": c.battery_soc_pct,
            "lowcmd_sent": w.sent if w else 0,
            "lowcmd_damping_sent": w.damping_sent if w else 0,
            "writer_stalls": w.stalls if w else 0,
        }

    # ------------------------------------------------------------ listeners (Cyclone threads)
    def _on_lowstate(self, sample: bytes) -> None:
        c, decoder = self.counters, self._decoder
        if not decoder.check(sample):
            if len(sample) < 4 + LOW_STATE_LAYOUT.wire_size:
                c.malformed += 1
            else:
                c.bad_crc += 1
            return
        tick = decoder.tick
        now = self._clock.now_ns()
        with self._lock:
            decoder.decode_into(self._state)
            if tick != c.tick or c.lowstates == 0:
                self._state.stamp_ns = now
            else:
                c.repeated_tick += 1
        c.tick = tick
        c.mode_machine = decoder.mode_machine
        c.lowstates += 1
        self._first_state.set()

    def _on_hand_state(self, side: int, sample: bytes) -> None:
        q, dq = self._hand_q[side], self._hand_dq[side]
        if not self._hand_decoders[side].decode(sample, q, dq):
            self.counters.malformed += 1
            return
        self.counters.hand_states[side] += 1
        with self._lock:
            self._state.hand_q[side] = q
            self._state.hand_dq[side] = dq
            self._state.has_hands = all(n > 0 for n in self.counters.hand_states)

    def _on_torso_imu(self, sample: bytes) -> None:
        self.counters.torso_imu += 1

    def _on_bms(self, sample: bytes) -> None:
        try:
            bms = self._types.BmsState_.deserialize(sample)
        except (ValueError, IndexError, TypeError, struct.error):  # a peer's malformed sample
            self.counters.malformed += 1
            return
        self.counters.bms += 1
        self.counters.battery_soc_pct = float(bms.soc)

    def _measured_pose(self, out: RobotCommand) -> None:
        with self._lock:
            np.copyto(out.q, self._state.q)
            np.copyto(out.hand_q, self._state.hand_q)
