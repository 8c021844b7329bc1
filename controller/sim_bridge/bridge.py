"""The simulated G1 behind real DDS: MuJoCo physics speaking the robot's own topics.

Like Unitree's ``unitree_mujoco`` (which does this for their C++ SDK), one loop paces the
physics on absolute 2 ms deadlines and, after every step, publishes ``rt/lowstate`` (CRC,
``mode_machine``, a millisecond ``tick``, pelvis IMU, ``wireless_remote``); Dex3 states, the
torso IMU and the battery go out at their own rates. ``rt/lowcmd`` (CRC checked, bad ones
dropped and counted) and the two Dex3 commands arrive on Cyclone's listener threads and are
applied before the next step. The physics is the in-process simulator's (``MujocoBackend`` in
lock-step, stepped by this loop), so both ways of simulating share one model of the motors.

What the robot does not do and the bridge does, for tests and benchmarks only: it writes the
CRC of the last LowCmd it applied into ``LowState.reserve[0]`` (a round-trip marker), and it
records what arrived (``stats``) for the control hook.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import mujoco
import numpy as np

from controller.clock import MonotonicClock
from controller.embodiment.dex3 import NUM_HAND_JOINTS
from controller.robot.base import RobotCommand, RobotState
from controller.robot.dds_transport import DdsDomain, SdkTypes, load_sdk_types
from controller.robot.dex3_dds import HAND_STATE_LAYOUT, HandCmdDecoder, hand_cmd_topic
from controller.robot.model_source import ModelSource
from controller.robot.mujoco_backend import MujocoBackend
from controller.robot.unitree_codec import LowCmdDecoder, LowStateEncoder
from controller.robot.unitree_dds import BMS_TOPIC, LOWCMD_TOPIC, LOWSTATE_TOPIC, TORSO_IMU_TOPIC
from controller.sim_bridge.config import SimBridgeConfig, SwitcherBehaviour
from controller.sim_bridge.switcher_service import MotionSwitcherService

log = logging.getLogger(__name__)

_SIDES = ("left", "right")


class SimBridge:
    """Owns the simulator, the DDS entities and the pacing loop (``run`` blocks)."""

    def __init__(self, source: ModelSource, config: SimBridgeConfig) -> None:
        self.config = config
        self._types: SdkTypes = load_sdk_types()
        self.sim = MujocoBackend(source, config.sim, MonotonicClock())
        self._domain = DdsDomain(config.domain_id, config.network_interface)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._command = RobotCommand()
        self._pending = RobotCommand()
        self._has_pending = False
        self._state = RobotState()
        self._low_cmd = LowCmdDecoder()
        self._hand_cmd = (HandCmdDecoder(), HandCmdDecoder())
        self._hand_buf = {k: np.zeros(NUM_HAND_JOINTS) for k in ("q", "dq", "tau", "kp", "kd")}
        self._encoder = LowStateEncoder(config.mode_machine)
        self._hand_state_template = self._types.HandState_(
            motor_state=[_motor_state(self._types) for _ in range(NUM_HAND_JOINTS)],
            press_sensor_state=[],
            imu_state=_imu_state(self._types),
            power_v=24.0, power_a=0.5, system_v=24.0, device_v=5.0,
            error=[0, 0], reserve=[0, 0],
        ).serialize()  # fmt: skip
        self._hand_q_at = _hand_state_offsets()
        self.keys = 0
        self.corrupt_remaining = 0
        self.stats: dict[str, Any] = {
            "lowstates_sent": 0, "lowcmds": 0, "lowcmd_bad_crc": 0, "mode_machines": [],
            "mode_pr": [], "last_kp_sum": 0.0, "last_kd_sum": 0.0, "hand_cmds": [0, 0],
            "hand_modes": [[], []], "hand_q": [[], []], "first_lowcmd_after_state": None,
        }  # fmt: skip
        self._applied_crc = 0
        d, t = self._domain, self._types
        self._lowstate = d.raw_writer(LOWSTATE_TOPIC, t.LowState_)
        self._hand_state = tuple(
            d.raw_writer(f"{config.dex3_state_prefix}/{side}/state", t.HandState_)
            for side in _SIDES
        )
        self._torso_imu = d.writer(TORSO_IMU_TOPIC, t.IMUState_)
        self._bms = d.writer(BMS_TOPIC, t.BmsState_)
        d.raw_reader(LOWCMD_TOPIC, t.LowCmd_, self._on_lowcmd)
        d.raw_reader(hand_cmd_topic("left"), t.HandCmd_, self._on_left_hand)
        d.raw_reader(hand_cmd_topic("right"), t.HandCmd_, self._on_right_hand)
        self.switcher = (
            MotionSwitcherService(d, t, config.motion_switcher)
            if config.motion_switcher is not SwitcherBehaviour.ABSENT
            else None
        )
        self._torso_site = mujoco.mj_name2id(
            self.sim.model, mujoco.mjtObj.mjOBJ_SITE, "imu_in_torso"
        )

    # ------------------------------------------------------------ listeners
    def _on_lowcmd(self, sample: bytes) -> None:
        with self._lock:
            if not self._low_cmd.decode(sample, self._pending):
                self.stats["lowcmd_bad_crc"] += 1
                return
            self._has_pending = True
            self._applied_crc = self._low_cmd.crc
            s = self.stats
            s["lowcmds"] += 1
            if self._low_cmd.mode_machine not in s["mode_machines"]:
                s["mode_machines"].append(self._low_cmd.mode_machine)
            if self._low_cmd.mode_pr not in s["mode_pr"]:
                s["mode_pr"].append(self._low_cmd.mode_pr)
            s["last_kp_sum"] = float(np.sum(self._pending.kp))
            s["last_kd_sum"] = float(np.sum(self._pending.kd))

    def _on_left_hand(self, sample: bytes) -> None:
        self._on_hand(0, sample)

    def _on_right_hand(self, sample: bytes) -> None:
        self._on_hand(1, sample)

    def _on_hand(self, side: int, sample: bytes) -> None:
        decoder = self._hand_cmd[side]
        with self._lock:
            if not decoder.decode(sample, self._hand_buf):
                return
            b = self._hand_buf
            p = self._pending
            p.hand_q[side], p.hand_dq[side], p.hand_tau[side] = b["q"], b["dq"], b["tau"]
            p.hand_kp[side], p.hand_kd[side] = b["kp"], b["kd"]
            self._has_pending = True
            self.stats["hand_cmds"][side] += 1
            self.stats["hand_modes"][side] = [int(m) for m in decoder.mode]
            self.stats["hand_q"][side] = [float(v) for v in b["q"]]

    def snapshot_stats(self) -> dict[str, Any]:
        """A JSON-ready copy of what arrived (for the control hook)."""
        with self._lock:
            stats: dict[str, Any] = json.loads(json.dumps(self.stats))
        if self.switcher is not None:
            stats["switcher_mode"] = self.switcher.mode
            stats["switcher_requests"] = self.switcher.requests
        return stats

    # ------------------------------------------------------------ the loop
    def stop(self) -> None:
        self._stop.set()

    def run(self, *, duration_s: float | None = None) -> None:
        """Step, publish, repeat on absolute deadlines until ``stop`` (or ``duration_s``)."""
        cfg = self.config
        period = cfg.state_period_ns
        hand_every = max(1, round(1.0 / (cfg.hand_state_rate_hz * cfg.sim.physics_dt_s)))
        imu_every = max(1, round(1.0 / (cfg.torso_imu_rate_hz * cfg.sim.physics_dt_s)))
        bms_every = max(1, round(1.0 / (cfg.bms_rate_hz * cfg.sim.physics_dt_s)))
        start = deadline = time.monotonic_ns()
        end = None if duration_s is None else start + int(duration_s * 1e9)
        step = 0
        while not self._stop.is_set() and (end is None or deadline < end):
            self._apply_command()
            self.sim.advance(period)
            step += 1
            self._publish_lowstate(step)
            if step % hand_every == 0:
                self._publish_hands()
            if step % imu_every == 0:
                self._publish_torso_imu()
            if step % bms_every == 1 % bms_every:
                self._publish_bms()
            deadline += period
            delay = deadline - time.monotonic_ns()
            if delay > 0:
                time.sleep(delay * 1e-9)
            elif delay < -50 * period:  # far behind (suspended): resynchronise
                deadline = time.monotonic_ns()

    def close(self) -> None:
        self._domain.close()
        self.sim.close()

    def _apply_command(self) -> None:
        with self._lock:
            if not self._has_pending:
                return
            self._command.copy_from(self._pending)
            self._has_pending = False
        self.sim.write_command(self._command)

    def _publish_lowstate(self, step: int) -> None:
        self.sim.press_keys(self.keys)
        self.sim.read_state(self._state)
        corrupt = self.corrupt_remaining > 0
        if corrupt:
            self.corrupt_remaining -= 1
        tick = round(step * self.config.sim.physics_dt_s * 1000)  # ms, as unitree_mujoco
        sample = self._encoder.encode(
            self._state, tick, applied_crc=self._applied_crc, corrupt_crc=corrupt
        )
        self._lowstate.write(sample)
        self.stats["lowstates_sent"] += 1

    def _publish_hands(self) -> None:
        template = np.frombuffer(self._hand_state_template, dtype=np.uint8)
        for side in range(2):
            buf = template.copy()
            q_at, dq_at = self._hand_q_at
            for slot in range(NUM_HAND_JOINTS):
                buf[q_at[slot] : q_at[slot] + 4].view("<f4")[0] = self._state.hand_q[side, slot]
                buf[dq_at[slot] : dq_at[slot] + 4].view("<f4")[0] = self._state.hand_dq[side, slot]
            self._hand_state[side].write(buf.tobytes())

    def _publish_torso_imu(self) -> None:
        if self._torso_site < 0:
            return
        quat = np.zeros(4)
        mujoco.mju_mat2Quat(quat, self.sim.data.site_xmat[self._torso_site])
        imu = _imu_state(self._types)
        imu.quaternion = [float(v) for v in quat]
        self._torso_imu.write(imu)

    def _publish_bms(self) -> None:
        t = self._types
        bms = t.BmsState_(
            version_high=1, version_low=0, fn=0, cell_vol=[3900] * 40, bmsvoltage=[50000, 0, 0],
            current=-2000, soc=self.config.battery_soc_pct, soh=100, temperature=[30] * 12,
            cycle=12, manufacturer_date=0, bmsstate=[0] * 5, reserve=[0] * 3,
        )  # fmt: skip
        self._bms.write(bms)


def _hand_state_offsets() -> tuple[list[int], list[int]]:
    """Where a serialised HandState_'s motor q/dq sit (header included)."""
    q = HAND_STATE_LAYOUT.wire_offsets("motor_state.{}.q", NUM_HAND_JOINTS) + 4
    dq = HAND_STATE_LAYOUT.wire_offsets("motor_state.{}.dq", NUM_HAND_JOINTS) + 4
    return [int(a) for a in q], [int(a) for a in dq]


def _motor_state(t: SdkTypes) -> Any:
    return t.MotorState_(
        mode=1, q=0.0, dq=0.0, ddq=0.0, tau_est=0.0, temperature=[35, 35], vol=24.0,
        sensor=[0, 0], motorstate=0, reserve=[0, 0, 0, 0],
    )  # fmt: skip


def _imu_state(t: SdkTypes) -> Any:
    return t.IMUState_(
        quaternion=[1.0, 0.0, 0.0, 0.0], gyroscope=[0.0] * 3, accelerometer=[0.0, 0.0, 9.81],
        rpy=[0.0] * 3, temperature=35,
    )  # fmt: skip
