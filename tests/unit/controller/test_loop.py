"""The control loop: deadlines, tick order, e-stop between ticks, and an allocation-free tick.

Real: the loop, supervisor, timing ring and PD tracker. Faked: the robot (``FakeBackend``) and
time (``FakeClock``, moved by a waiter that simulates work and sleeping).
"""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest

from controller.blend import BlendConfig
from controller.dynamics import FeedforwardJoints
from controller.embodiment import g1
from controller.estop_latch import EstopLatch
from controller.loop import ControlLoop, LoopConfig, TrackPhase
from controller.pd_tracker import PdTracker, PdTrackerConfig
from controller.safety import Cause, Mode, Supervisor, SupervisorConfig
from controller.timing import summarize
from estimators.track import ReferenceTrack

from .conftest import PERIOD_NS, FakeBackend, FakeClock


class JumpWaiter:
    """A perfect sleep that keeps nothing (for the allocation test)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock

    def wait_until(self, deadline_ns: int) -> None:
        self.clock.t = max(self.clock.t, deadline_ns)


class RecordingWaiter:
    """Jumps the fake clock to each deadline (a perfect sleep) and records the deadlines."""

    def __init__(self, clock: FakeClock, work_ns: int = 0) -> None:
        self.clock = clock
        self.work_ns = work_ns
        self.deadlines: list[int] = []

    def wait_until(self, deadline_ns: int) -> None:
        self.deadlines.append(deadline_ns)
        self.clock.t = max(self.clock.t + self.work_ns, deadline_ns)


def make_track(
    n: int = 100, offset: dict[str, float] | None = None, ramp_rad: float = 0.3
) -> ReferenceTrack:
    q = np.tile(g1.Q_DEFAULT, (n, 1))
    q[:, g1.joint_index("left_elbow")] += np.linspace(0.0, ramp_rad, n)
    for name, value in (offset or {}).items():
        q[:, g1.joint_index(name)] += value
    return ReferenceTrack(
        q_hw=q,
        hand_q=np.zeros((n, 2, 7)),
        hand_state=np.zeros((n, 2), dtype=np.int8),
        smpl_joints_local=np.zeros((n, 24, 3)),
        root_quat_wxyz=np.tile([1.0, 0.0, 0.0, 0.0], (n, 1)),
    )


def make_loop(
    clock: FakeClock, backend: FakeBackend, waiter: RecordingWaiter | JumpWaiter
) -> ControlLoop:
    supervisor = Supervisor(SupervisorConfig(ramp_time_s=0.2), EstopLatch(None))
    tracker = PdTracker(None, PdTrackerConfig(feedforward=FeedforwardJoints.NONE))
    return ControlLoop(
        backend=backend,
        supervisor=supervisor,
        controller=tracker,
        clock=clock,
        waiter=waiter,
        config=LoopConfig(),
    )


def test_deadlines_are_absolute_even_when_work_takes_time(
    clock: FakeClock, backend: FakeBackend
) -> None:
    """Work of 7 ms per tick must not stretch the period (sleep-after-work would give 27 ms)."""
    waiter = RecordingWaiter(clock, work_ns=7_000_000)
    loop = make_loop(clock, backend, waiter)
    start = clock.t
    loop.run(max_ticks=50)
    assert waiter.deadlines == [start + (k + 1) * PERIOD_NS for k in range(50)]
    summary = summarize(loop.timing.rows(), PERIOD_NS)
    assert summary.drift_ms == pytest.approx(0.0)
    assert summary.period_mean_ms == pytest.approx(20.0)


def test_a_tick_more_than_a_period_late_skips_missed_deadlines(
    clock: FakeClock, backend: FakeBackend
) -> None:
    waiter = RecordingWaiter(clock, work_ns=55_000_000)  # each tick overruns by almost 2 periods
    loop = make_loop(clock, backend, waiter)
    loop.run(max_ticks=5)
    assert loop.skipped_deadlines > 0
    assert all(
        b - a >= PERIOD_NS for a, b in zip(waiter.deadlines[:-1], waiter.deadlines[1:], strict=True)
    )
    assert summarize(loop.timing.rows(), PERIOD_NS).misses >= 4


def test_track_plays_one_frame_per_tick_then_blends_out_and_holds(
    clock: FakeClock, backend: FakeBackend
) -> None:
    """A track that starts at the hold pose plays at once; after its last frame the command
    returns smoothly to the default pose, then HOLD keeps it there."""
    loop = make_loop(clock, backend, RecordingWaiter(clock))
    track = make_track(30)
    loop.load_track(track)
    loop.supervisor.request_enable(clock.t)
    loop.run(max_ticks=15)
    assert loop.start_track()
    assert loop.phase is TrackPhase.PLAY, "no distance to cover: no blend-in"
    backend.written.clear()
    loop.run(max_ticks=30)
    elbow = g1.joint_index("left_elbow")
    sent = [c.q[elbow] for c in backend.written]
    np.testing.assert_allclose(sent, track.q_hw[:, elbow])
    backend.written.clear()
    loop.run(max_ticks=60)
    assert loop.supervisor.mode is Mode.HOLD
    assert loop.supervisor.log.since(0)[-1].cause is Cause.TRACK_COMPLETE
    out = np.array([c.q[elbow] for c in backend.written])
    blend_ticks = loop.blend.ticks_total
    assert 0 < blend_ticks < 50
    assert np.all(np.diff(out[:blend_ticks]) < 0.0), "monotonic return to the default pose"
    assert np.max(np.abs(np.diff(out))) <= BlendConfig().max_velocity_rad_s * 0.02 + 1e-9
    np.testing.assert_allclose(out[blend_ticks - 1 :], g1.Q_DEFAULT[elbow])


def test_blend_in_bounds_the_first_steps_and_delays_the_track_clock(
    clock: FakeClock, backend: FakeBackend
) -> None:
    """Starting 1 rad away: no tick-to-tick step above 0.05 rad, and the first track frame is
    played in full only once the blend has arrived."""
    loop = make_loop(clock, backend, RecordingWaiter(clock))
    track = make_track(40, offset={"left_elbow": 0.97, "left_knee": -0.67, "waist_yaw": 0.5})
    loop.load_track(track)
    loop.supervisor.request_enable(clock.t)
    loop.run(max_ticks=15)
    backend.written.clear()
    assert loop.start_track()
    assert loop.phase is TrackPhase.BLEND_IN
    blend_ticks = loop.blend.ticks_total
    assert blend_ticks * 0.02 <= 1.0, "a 1 rad start fits in the 1 s default"
    loop.run(max_ticks=blend_ticks + 40)
    q = np.array([c.q for c in backend.written])
    steps = np.abs(np.diff(np.vstack([g1.Q_DEFAULT, q]), axis=0)).max(axis=1)
    assert steps.max() <= 0.05
    np.testing.assert_allclose(q[blend_ticks - 1], track.q_hw[0])
    np.testing.assert_allclose(q[blend_ticks : blend_ticks + 40], track.q_hw)
    assert loop.next_frame == 40


def test_resume_blends_from_the_paused_pose(clock: FakeClock, backend: FakeBackend) -> None:
    """Pause (HOLD at the current target), then resume: a blend back to the paused frame."""
    loop = make_loop(clock, backend, RecordingWaiter(clock))
    track = make_track(200, offset={"left_shoulder_roll": 0.4}, ramp_rad=1.0)
    loop.load_track(track)
    loop.supervisor.request_enable(clock.t)
    loop.run(max_ticks=15)
    assert loop.start_track()
    loop.run(max_ticks=loop.blend.ticks_total + 60)
    paused = loop.next_frame
    assert loop.supervisor.request_stop_track(clock.t)
    loop.run(max_ticks=10)
    backend.written.clear()
    assert loop.start_track(paused)
    loop.run(max_ticks=loop.blend.ticks_total + 5)
    q = np.array([c.q for c in backend.written])
    steps = np.abs(np.diff(q, axis=0)).max(axis=1)
    assert steps.max() <= 0.05
    assert loop.phase is TrackPhase.PLAY
    assert loop.next_frame == paused + 5


def test_blend_out_can_be_switched_off(clock: FakeClock, backend: FakeBackend) -> None:
    supervisor = Supervisor(SupervisorConfig(ramp_time_s=0.2), EstopLatch(None))
    tracker = PdTracker(None, PdTrackerConfig(feedforward=FeedforwardJoints.NONE))
    config = LoopConfig(blend=BlendConfig(is_blend_out_enabled=False))
    loop = ControlLoop(backend=backend, supervisor=supervisor, controller=tracker, clock=clock,
                       waiter=RecordingWaiter(clock), config=config)  # fmt: skip
    track = make_track(30)
    loop.load_track(track)
    supervisor.request_enable(clock.t)
    loop.run(max_ticks=15)
    assert loop.start_track()
    loop.run(max_ticks=32)
    assert supervisor.mode is Mode.HOLD
    np.testing.assert_allclose(backend.written[-1].q, track.q_hw[-1])


def test_estop_now_writes_damping_immediately(clock: FakeClock, backend: FakeBackend) -> None:
    loop = make_loop(clock, backend, RecordingWaiter(clock))
    loop.supervisor.request_enable(clock.t)
    loop.run(max_ticks=5)
    count = len(backend.written)
    loop.estop_now()
    assert len(backend.written) == count + 1, "damping must go out without waiting for a tick"
    assert np.all(backend.written[-1].kp == 0.0)
    assert np.all(backend.written[-1].kd > 0.0)
    assert loop.supervisor.mode is Mode.ESTOP


def test_tick_allocates_nothing_after_warm_up(clock: FakeClock, backend: FakeBackend) -> None:
    """1,000 ticks in TRACK on a fake backend leave no new memory blocks behind."""
    backend.keep_commands = False
    loop = make_loop(clock, backend, JumpWaiter(clock))
    loop.load_track(make_track(2000))  # long enough to stay in TRACK for all 1,300 ticks
    loop.supervisor.request_enable(clock.t)
    loop.run(max_ticks=20)
    assert loop.start_track()
    _assert_no_growth(loop, warm_up=300, measured=1000)
    assert loop.supervisor.mode is Mode.TRACK


def test_blend_ticks_allocate_nothing(clock: FakeClock, backend: FakeBackend) -> None:
    """Blend-in, play and blend-out ticks, track after track: no new memory blocks."""
    backend.keep_commands = False
    loop = make_loop(clock, backend, JumpWaiter(clock))
    track = make_track(40, offset={"left_elbow": 0.9, "right_shoulder_roll": -0.5})
    loop.load_track(track)
    loop.supervisor.request_enable(clock.t)
    loop.run(max_ticks=20)

    def cycle() -> None:
        assert loop.start_track()
        phases = set()
        while loop.supervisor.mode is Mode.TRACK:
            loop.run(max_ticks=1)
            phases.add(loop.phase)
        assert phases == {TrackPhase.BLEND_IN, TrackPhase.PLAY, TrackPhase.BLEND_OUT}

    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(3):
            cycle()
        _fill_float_free_list()
        before = tracemalloc.take_snapshot()
        for _ in range(5):
            cycle()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    # Net over all lines: a float reused from Python's free list keeps the line it was first
    # allocated at, so live blocks can move between lines without any new allocation.
    grown = [s for s in after.compare_to(before, "lineno") if "tracemalloc" not in str(s.traceback)]
    assert sum(s.count_diff for s in grown) <= 0, [s for s in grown if s.count_diff > 0][:5]


def _fill_float_free_list() -> None:
    """Fill CPython's float free list (100 entries) so it cannot grow while measuring."""
    floats = [float(i) + 0.5 for i in range(300)]
    del floats


def _assert_no_growth(loop: ControlLoop, *, warm_up: int, measured: int) -> None:
    gc.collect()
    tracemalloc.start()
    try:
        # Warm-up under tracing: numpy refills its small-buffer cache once tracing starts
        # (a one-off, the same after 300 or 3,000 ticks); only growth after it counts.
        loop.run(max_ticks=warm_up)
        before = tracemalloc.take_snapshot()
        loop.run(max_ticks=measured)
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    _assert_same(before, after)


def _assert_same(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot) -> None:
    grown = [
        stat
        for stat in after.compare_to(before, "lineno")
        if stat.size_diff > 0 and "tracemalloc" not in str(stat.traceback)
    ]
    assert sum(stat.count_diff for stat in grown if stat.count_diff > 0) == 0, grown[:5]
