"""Supervisor modes, triggers and command shaping.

Real: the supervisor and the e-stop latch file (in tmp_path). Faked: robot states (built in
memory) and time (integers passed in).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from controller.embodiment import dex3, g1
from controller.estop_latch import EstopLatch, ResetRequester
from controller.remote import RemoteKey
from controller.robot.base import RobotCommand, RobotState
from controller.safety import Cause, Mode, Supervisor, SupervisorConfig

from .conftest import PERIOD_NS, healthy_state, yaw_pitch_quat

T0 = 1_000_000_000


class Harness:
    """Drives a supervisor tick by tick with a state the test can change."""

    def __init__(self, config: SupervisorConfig, latch_path: Path | None = None) -> None:
        self.now = T0
        self.latch = EstopLatch(latch_path)
        self.sup = Supervisor(config, self.latch)
        self.state = healthy_state(self.now)
        self.proposal = RobotCommand()
        self.proposal.q[:] = g1.Q_DEFAULT
        self.proposal.kp[:] = g1.KP
        self.proposal.kd[:] = g1.KD
        self.command = RobotCommand()

    def tick(self, n: int = 1, *, fresh: bool = True) -> Mode:
        for _ in range(n):
            self.now += PERIOD_NS
            if fresh:
                self.state.stamp_ns = self.now
            self.sup.check(self.state, self.now)
            self.sup.fill_command(self.state, self.proposal, self.command)
            self.sup.after_write()
        return self.sup.mode

    def to_hold(self) -> None:
        assert self.sup.request_enable(self.now)
        self.tick(int(self.sup.config.ramp_time_s * 50) + 2)
        assert self.sup.mode is Mode.HOLD

    def to_track(self) -> None:
        self.to_hold()
        assert self.sup.request_track(self.now)
        self.tick()
        assert self.sup.mode is Mode.TRACK

    def last_cause(self) -> Cause:
        return self.sup.log.since(self.sup.log.count - 1)[-1].cause


@pytest.fixture
def h() -> Harness:
    return Harness(SupervisorConfig(ramp_time_s=1.0))


def assert_damping(command: RobotCommand, kd: float = 8.0) -> None:
    assert np.all(command.kp == 0.0)
    assert np.all(command.kd == kd)
    assert np.all(command.tau == 0.0)
    assert np.all(command.hand_kp == 0.0)


def test_starts_passive_with_zero_stiffness(h: Harness) -> None:
    assert h.tick() is Mode.PASSIVE
    assert np.all(h.command.kp == 0.0)
    assert h.sup.log.since(0)[0].cause is Cause.STARTUP


def test_ramp_moves_linearly_from_measured_pose_to_default(h: Harness) -> None:
    h.state.q[:] = 0.0
    h.sup.request_enable(h.now)
    h.tick()  # the ramp starts at this tick from the measured pose
    start = h.command.q.copy()
    np.testing.assert_allclose(start, 0.0, atol=1e-12)
    h.tick(25)  # half of the 1 s ramp
    np.testing.assert_allclose(h.command.q, 0.5 * g1.Q_DEFAULT, atol=1e-9)
    np.testing.assert_allclose(h.command.kp, g1.KP)
    h.tick(26)
    assert h.sup.mode is Mode.HOLD
    assert h.last_cause() is Cause.RAMP_COMPLETE
    np.testing.assert_allclose(h.command.q, g1.Q_DEFAULT)


def test_track_requires_hold(h: Harness) -> None:
    assert not h.sup.request_track(h.now)
    h.to_hold()
    assert h.sup.request_track(h.now)
    assert h.sup.mode is Mode.TRACK


def test_track_complete_and_stop_return_to_hold_at_last_target(h: Harness) -> None:
    h.to_track()
    h.proposal.q[g1.joint_index("left_elbow")] += 0.1
    h.tick()
    target = h.command.q.copy()
    h.sup.track_complete()
    assert h.sup.mode is Mode.HOLD
    assert h.last_cause() is Cause.TRACK_COMPLETE
    h.tick()
    np.testing.assert_allclose(h.command.q, target)
    assert h.sup.request_track(h.now)
    assert h.sup.request_stop_track(h.now)
    assert h.last_cause() is Cause.TRACK_STOPPED


def test_estop_during_ramp_damps_and_keeps_damping_every_tick(h: Harness) -> None:
    h.sup.request_enable(h.now)
    h.tick(10)
    assert h.sup.mode is Mode.RAMP
    h.sup.engage_estop(h.now)
    for _ in range(5):
        assert h.tick() is Mode.ESTOP
        assert_damping(h.command)
    assert not h.sup.request_enable(h.now), "enable must not leave ESTOP"
    assert not h.sup.request_track(h.now)


def test_latched_estop_survives_restart_and_clears_only_on_reset(tmp_path: Path) -> None:
    latch = tmp_path / "estop.json"
    first = Harness(SupervisorConfig(), latch)
    first.sup.engage_estop(first.now)
    first.tick()  # the latch is persisted after the damping command is written
    assert latch.exists()

    restarted = Harness(SupervisorConfig(), latch)
    assert restarted.sup.mode is Mode.ESTOP
    assert restarted.last_cause() is Cause.ESTOP_LATCHED
    restarted.tick(3)
    assert restarted.sup.mode is Mode.ESTOP
    assert_damping(restarted.command)

    assert restarted.sup.reset_estop(restarted.now, ResetRequester.ROBOT) == ""
    assert restarted.sup.mode is Mode.DAMP, "a reset goes to DAMP, never straight to motion"
    again = Harness(SupervisorConfig(), latch)
    assert again.sup.mode is Mode.PASSIVE


def test_unreadable_latch_file_counts_as_engaged(tmp_path: Path) -> None:
    latch = tmp_path / "estop.json"
    latch.write_text("{not json")
    assert Harness(SupervisorConfig(), latch).sup.mode is Mode.ESTOP


def test_remote_estop_keys_trip_from_any_mode(h: Harness) -> None:
    h.to_track()
    h.state.remote_keys = int(RemoteKey.SELECT | RemoteKey.A)
    assert h.tick() is Mode.ESTOP
    assert h.last_cause() is Cause.ESTOP_REMOTE


@pytest.mark.parametrize("mode_setup", ["ramp", "hold", "track"])
def test_non_finite_state_damps(h: Harness, mode_setup: str) -> None:
    if mode_setup == "ramp":
        h.sup.request_enable(h.now)
        h.tick()
    elif mode_setup == "hold":
        h.to_hold()
    else:
        h.to_track()
    h.state.dq[5] = np.nan
    assert h.tick() is Mode.DAMP
    assert h.last_cause() is Cause.NON_FINITE_STATE
    assert_damping(h.command)


def test_non_finite_command_damps_in_the_same_tick(h: Harness) -> None:
    h.to_track()
    h.proposal.q[3] = np.inf
    assert h.tick() is Mode.DAMP
    assert h.last_cause() is Cause.NON_FINITE_COMMAND
    assert_damping(h.command)


def test_large_negative_joint_velocity_trips(h: Harness) -> None:
    """SONIC checks the signed velocity; a large negative one must trip here."""
    h.to_hold()
    joint = g1.joint_index("right_knee")
    h.state.dq[joint] = -(h.sup.config.max_joint_speed_rad_s + 1.0)
    assert h.tick() is Mode.DAMP
    last = h.sup.log.since(h.sup.log.count - 1)[-1]
    assert last.cause is Cause.JOINT_VELOCITY
    assert last.detail == joint


def test_speed_below_limit_does_not_trip(h: Harness) -> None:
    h.to_hold()
    h.state.dq[:] = -0.9 * h.sup.config.max_joint_speed_rad_s
    assert h.tick() is Mode.HOLD


def test_stale_state_damps(h: Harness) -> None:
    h.to_hold()
    h.tick(int(h.sup.config.max_state_age_s / 0.02) + 1, fresh=False)
    assert h.sup.mode is Mode.DAMP
    assert h.last_cause() is Cause.STATE_STALE


def test_never_received_state_is_stale(h: Harness) -> None:
    h.state.stamp_ns = 0
    h.sup.request_enable(h.now)
    h.tick(fresh=False)
    assert h.sup.mode is Mode.DAMP
    assert h.last_cause() is Cause.STATE_STALE


def test_tilt_beyond_limit_damps(h: Harness) -> None:
    h.to_track()
    h.state.imu_quat_wxyz[:] = yaw_pitch_quat(h.sup.config.max_tilt_rad - 0.05)
    assert h.tick() is Mode.TRACK
    h.state.imu_quat_wxyz[:] = yaw_pitch_quat(h.sup.config.max_tilt_rad + 0.05)
    assert h.tick() is Mode.DAMP
    assert h.last_cause() is Cause.TILT


def test_missing_imu_damps(h: Harness) -> None:
    h.to_hold()
    h.state.imu_quat_wxyz[:] = 0.0
    assert h.tick() is Mode.DAMP
    assert h.last_cause() is Cause.IMU_MISSING


def test_motor_over_temperature_damps(h: Harness) -> None:
    h.to_hold()
    h.state.motor_temp_c[7, 1] = h.sup.config.max_winding_temp_c + 1
    assert h.tick() is Mode.DAMP
    last = h.sup.log.since(h.sup.log.count - 1)[-1]
    assert last.cause is Cause.OVER_TEMPERATURE
    assert last.detail == 7


def test_policy_over_budget_holds_then_damps(h: Harness) -> None:
    cfg = h.sup.config
    h.to_track()
    for _ in range(cfg.over_budget_ticks):
        h.sup.note_compute(int(cfg.compute_budget_s * 2e9))
    assert h.tick() is Mode.HOLD
    assert h.last_cause() is Cause.POLICY_OVER_BUDGET
    h.tick(int(cfg.fault_hold_s * 50) + 1)
    assert h.sup.mode is Mode.DAMP
    assert h.last_cause() is Cause.FAULT_HOLD_TIMEOUT


def _heartbeat_harness() -> Harness:
    h = Harness(SupervisorConfig(ramp_time_s=1.0, heartbeat_timeout_s=0.5))
    h.sup.note_heartbeat(h.now)
    h.sup.request_enable(h.now)
    for _ in range(60):
        h.sup.note_heartbeat(h.now)
        h.tick()
    assert h.sup.mode is Mode.HOLD
    return h


def test_heartbeat_loss_holds_then_damps() -> None:
    h = _heartbeat_harness()
    assert h.sup.request_track(h.now)
    h.tick(30)  # 0.6 s without a heartbeat
    assert h.sup.mode is Mode.HOLD
    assert h.last_cause() is Cause.HEARTBEAT_LOST
    h.tick(int(h.sup.config.fault_hold_s * 50) + 1)
    assert h.sup.mode is Mode.DAMP
    assert h.last_cause() is Cause.FAULT_HOLD_TIMEOUT


def test_returning_heartbeat_cancels_the_damping_countdown() -> None:
    h = _heartbeat_harness()
    h.tick(30)
    assert h.last_cause() is Cause.HEARTBEAT_LOST
    for _ in range(int(h.sup.config.fault_hold_s * 50) + 10):
        h.sup.note_heartbeat(h.now)
        h.tick()
    assert h.sup.mode is Mode.HOLD


def test_stale_streamed_reference_holds_then_damps(h: Harness) -> None:
    h.to_hold()
    assert h.sup.request_track(h.now, is_streaming=True)
    h.tick(int(h.sup.config.reference_timeout_s * 50) + 2)
    assert h.sup.mode is Mode.HOLD
    assert h.last_cause() is Cause.REFERENCE_STALE
    h.tick(int(h.sup.config.fault_hold_s * 50) + 1)
    assert h.sup.mode is Mode.DAMP


def test_damp_request_and_enable_from_damp(h: Harness) -> None:
    h.to_hold()
    assert h.sup.request_damp(h.now)
    h.tick()
    assert_damping(h.command)
    assert h.sup.request_enable(h.now)
    assert h.sup.mode is Mode.RAMP


def test_track_targets_are_clamped_to_soft_limits_and_step_limit(h: Harness) -> None:
    h.to_track()
    knee = g1.joint_index("left_knee")
    h.proposal.q[knee] = 10.0  # far outside the joint range
    h.tick()
    step = h.sup.config.max_target_step_rad
    assert h.command.q[knee] == pytest.approx(g1.Q_DEFAULT[knee] + step)
    h.tick(40)
    centre = 0.5 * (g1.Q_MIN[knee] + g1.Q_MAX[knee])
    half = 0.5 * (g1.Q_MAX[knee] - g1.Q_MIN[knee]) * h.sup.config.soft_limit_factor
    assert h.command.q[knee] == pytest.approx(centre + half)
    h.proposal.hand_q[:] = 5.0
    h.tick(40)
    assert np.all(h.command.hand_q <= dex3.HAND_Q_MAX + 1e-12)
    assert np.all(h.command.hand_q >= dex3.HAND_Q_MIN - 1e-12)


def test_every_transition_records_its_cause(h: Harness) -> None:
    h.to_track()
    h.sup.engage_estop(h.now)
    assert h.sup.reset_estop(h.now, ResetRequester.ROBOT) == ""
    causes = [t.cause for t in h.sup.log.since(0)]
    assert causes == [
        Cause.STARTUP,
        Cause.ENABLE_REQUESTED,
        Cause.RAMP_COMPLETE,
        Cause.TRACK_REQUESTED,
        Cause.ESTOP_COMMAND,
        Cause.ESTOP_RESET,
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [("ramp_time_s", 0.0), ("max_tilt_rad", float("nan")), ("soft_limit_factor", 1.5),
     ("over_budget_ticks", 0), ("estop_keys", 0)],
)  # fmt: skip
def test_invalid_config_is_rejected(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        SupervisorConfig(**{field: value})


def test_state_copy_is_complete() -> None:
    a, b = healthy_state(5), RobotState()
    a.q[0], a.remote_keys = 0.3, 7
    b.copy_from(a)
    assert b.q[0] == 0.3
    assert b.remote_keys == 7
    assert b.stamp_ns == 5
    assert b.has_imu
