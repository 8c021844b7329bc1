"""Streams in the control loop: engaged and disengaged with blends, taken over from a package,
faulted by the daemon, and played without allocating.

Real: the loop, supervisor, blend, stream track and PD tracker. Faked: the robot
(``FakeBackend``) and time (``FakeClock``, moved by a perfect waiter).
"""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np

from controller.blend import BlendConfig
from controller.embodiment import g1
from controller.loop import TrackPhase
from controller.safety import Cause, Mode
from controller.stream_track import StreamPlaybackConfig, StreamTrack

from .conftest import PERIOD_NS, FakeBackend, FakeClock
from .test_loop import JumpWaiter, make_loop, make_track

ELBOW = g1.joint_index("left_elbow")
STREAM_ELBOW = 1.42  # the streamed elbow, far from the hold pose's 0.6


def stream_frames(indices: np.ndarray) -> dict[str, np.ndarray]:
    n = indices.shape[0]
    q = np.tile(g1.Q_DEFAULT, (n, 1))
    q[:, ELBOW] = STREAM_ELBOW
    return {"q_hw": q, "hand_q": np.zeros((n, 2, 7)), "hand_state": np.zeros((n, 2), np.int8)}


class LiveProducer:
    """Writes one new frame per tick (5-frame sliding windows), stamped with the fake clock."""

    def __init__(self, stream: StreamTrack, clock: FakeClock) -> None:
        self.stream, self.clock, self.next = stream, clock, 0

    def send(self) -> None:
        indices = np.arange(max(0, self.next - 4), self.next + 1, dtype=np.int64)
        self.stream.write(indices, stream_frames(indices), self.clock.t)
        self.next += 1


def holding_loop(clock: FakeClock, backend: FakeBackend):  # type: ignore[no-untyped-def]
    loop = make_loop(clock, backend, JumpWaiter(clock))
    loop.supervisor.request_enable(clock.t)
    loop.run(max_ticks=20)
    assert loop.supervisor.mode is Mode.HOLD
    return loop


def run_streaming(loop, producer: LiveProducer, ticks: int) -> list[float]:  # type: ignore[no-untyped-def]
    elbows = []
    for _ in range(ticks):
        producer.send()
        loop.supervisor.note_reference(producer.clock.t)  # as the server does on each write
        loop.run(max_ticks=1)
        elbows.append(float(loop.command.q[ELBOW]))
    return elbows


def test_a_stream_is_blended_in_from_the_hold_pose_never_snapped(
    clock: FakeClock, backend: FakeBackend
) -> None:
    loop = holding_loop(clock, backend)
    stream = StreamTrack(StreamPlaybackConfig(), 0.02)
    stream.begin(session=1, protocol=1)
    producer = LiveProducer(stream, clock)
    producer.send()
    hold_elbow = float(loop.command.q[ELBOW])
    assert loop.start_stream(stream)
    assert loop.phase.name == "BLEND_IN"
    elbows = run_streaming(loop, producer, 80)
    steps = np.abs(np.diff([hold_elbow, *elbows]))
    blend = BlendConfig()
    assert steps.max() <= blend.max_velocity_rad_s * 0.02 + 1e-9, "bounded like a package's blend"
    assert elbows[-1] == STREAM_ELBOW
    assert loop.phase is TrackPhase.PLAY


def test_ending_a_stream_blends_to_rest_then_holds(clock: FakeClock, backend: FakeBackend) -> None:
    loop = holding_loop(clock, backend)
    stream = StreamTrack(StreamPlaybackConfig(), 0.02)
    stream.begin(session=1, protocol=1)
    producer = LiveProducer(stream, clock)
    producer.send()
    assert loop.start_stream(stream)
    run_streaming(loop, producer, 80)
    assert loop.end_stream()
    assert loop.phase is TrackPhase.BLEND_OUT
    elbows = run_streaming(loop, producer, 80)
    assert np.abs(np.diff(elbows)).max() <= BlendConfig().max_velocity_rad_s * 0.02 + 1e-9
    assert loop.supervisor.mode is Mode.HOLD
    assert loop.supervisor.log.since(loop.supervisor.log.count - 1)[0].cause is Cause.TRACK_COMPLETE
    assert abs(elbows[-1] - g1.Q_DEFAULT[ELBOW]) < 1e-9


def test_a_stream_takes_over_a_playing_package_with_a_blend(
    clock: FakeClock, backend: FakeBackend
) -> None:
    loop = holding_loop(clock, backend)
    loop.load_track(make_track(500, offset={"left_elbow": -0.4}))
    assert loop.start_track()
    loop.run(max_ticks=100)
    stream = StreamTrack(StreamPlaybackConfig(), 0.02)
    stream.begin(session=1, protocol=1)
    producer = LiveProducer(stream, clock)
    producer.send()
    assert not loop.start_stream(stream), "not without take_over"
    package_elbow = float(loop.command.q[ELBOW])
    assert loop.start_stream(stream, take_over=True)
    causes = [t.cause for t in loop.supervisor.log.since(loop.supervisor.log.count - 2)]
    assert causes == [Cause.TRACK_STOPPED, Cause.TRACK_REQUESTED]
    elbows = run_streaming(loop, producer, 100)
    assert np.abs(np.diff([package_elbow, *elbows])).max() <= 0.04 + 1e-9
    assert loop.package is not None, "the package stays loaded"
    assert loop.package is not stream


def test_a_stream_fault_holds_then_damps_after_the_fault_timeout(
    clock: FakeClock, backend: FakeBackend
) -> None:
    loop = holding_loop(clock, backend)
    stream = StreamTrack(StreamPlaybackConfig(), 0.02)
    stream.begin(session=1, protocol=1)
    producer = LiveProducer(stream, clock)
    producer.send()
    assert loop.start_stream(stream)
    run_streaming(loop, producer, 10)
    assert loop.supervisor.stream_fault(clock.t, Cause.STREAM_PROTOCOL_CHANGED)
    assert loop.supervisor.mode.name == "HOLD"
    ticks = int(loop.supervisor.config.fault_hold_s / 0.02) + 2
    loop.run(max_ticks=ticks)
    assert loop.supervisor.mode is Mode.DAMP
    last = loop.supervisor.log.since(loop.supervisor.log.count - 1)[0]
    assert last.cause is Cause.FAULT_HOLD_TIMEOUT
    assert last.detail == Cause.STREAM_PROTOCOL_CHANGED


def test_streaming_ticks_allocate_nothing(clock: FakeClock, backend: FakeBackend) -> None:
    """Stream ticks (frames arriving between them, as the server writes them) keep nothing."""
    backend.keep_commands = False
    loop = holding_loop(clock, backend)
    stream = StreamTrack(StreamPlaybackConfig(), 0.02)
    stream.begin(session=1, protocol=1)
    stream.write(np.arange(5, dtype=np.int64), stream_frames(np.arange(5)), clock.t)
    assert loop.start_stream(stream)

    def play(ticks: int) -> None:
        for _ in range(ticks):
            loop.supervisor.note_reference(clock.t)
            loop.run(max_ticks=1)

    gc.collect()
    tracemalloc.start()
    try:
        play(300)
        floats = [float(i) + 0.5 for i in range(300)]
        del floats
        before = tracemalloc.take_snapshot()
        play(1000)
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    assert loop.supervisor.mode is Mode.TRACK
    grown = [s for s in after.compare_to(before, "lineno") if "tracemalloc" not in str(s.traceback)]
    assert sum(s.count_diff for s in grown) <= 0, [s for s in grown if s.count_diff > 0][:5]
    assert PERIOD_NS == 20_000_000
