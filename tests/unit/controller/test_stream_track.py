"""The jitter buffer: where playback starts, how it follows the live edge, what it never does.

Real: ``StreamTrack`` and its ``StreamRing``. Faked: time (integer nanoseconds the test sets) and
the producer (frames whose elbow angle is their frame number, so a window row's value says
which stream position it shows).
"""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest

from controller.embodiment import g1
from controller.stream_track import StreamPlaybackConfig, StreamTrack

PERIOD_NS = 20_000_000
ELBOW = g1.joint_index("left_elbow")


def frames(indices: np.ndarray, *, slope: float = 0.01) -> dict[str, np.ndarray]:
    n = indices.shape[0]
    q = np.tile(g1.Q_DEFAULT, (n, 1))
    q[:, ELBOW] = slope * indices
    return {"q_hw": q, "hand_q": np.zeros((n, 2, 7)), "hand_state": np.zeros((n, 2), np.int8)}


class Producer:
    """A 50 Hz producer sending sliding windows of ``window`` frames, one new frame each."""

    def __init__(self, track: StreamTrack, window: int = 5) -> None:
        self.track, self.window, self.next = track, window, 0

    def send(self, received_ns: int, *, catch_up: bool = True) -> None:
        last = self.next
        indices = np.arange(max(0, last - self.window + 1), last + 1, dtype=np.int64)
        self.track.write(indices, frames(indices), received_ns, catch_up=catch_up)
        self.next += 1


def make(**overrides: float) -> StreamTrack:
    track = StreamTrack(StreamPlaybackConfig(**overrides), 0.02)  # type: ignore[arg-type]
    track.begin(session=1, protocol=1)
    return track


def elbow_position(track: StreamTrack) -> float:
    """The stream position window row 0 shows (the elbow encodes it)."""
    return float(track.q_hw[0, ELBOW] / 0.01)


def test_playback_starts_at_newest_minus_target_not_at_the_oldest_frame() -> None:
    track = make(target_delay_s=0.04)
    indices = np.arange(100, 105, dtype=np.int64)  # the first message: five frames
    track.write(indices, frames(indices - 100), 1_000_000_000)
    assert track.position == pytest.approx(4 - 2)  # 40 ms = 2 frames behind frame 4
    assert elbow_position(track) == pytest.approx(2.0)
    assert track.producer_frame == pytest.approx(102.0)


def test_steady_arrivals_keep_the_target_delay_and_never_starve() -> None:
    track = make(target_delay_s=0.04)
    producer = Producer(track)
    t = 1_000_000_000
    for tick in range(500):
        producer.send(t + (tick % 3) * 1_000_000)  # 0-2 ms of arrival jitter
        t += PERIOD_NS
        track.advance(t)
    assert track.starved_ticks == 0
    assert 39.0 <= track.lag_ms <= 41.0, track.lag_ms
    assert track.rate == pytest.approx(1.0, abs=0.01)


def test_a_late_burst_is_absorbed_by_bounded_warping_without_dropping_frames() -> None:
    track = make(target_delay_s=0.04, max_warp=0.25)
    producer = Producer(track)
    t = 1_000_000_000
    positions, rates = [], []
    for tick in range(300):
        if not 100 <= tick < 104:  # four messages held up, then delivered at once
            producer.send(t)
        if tick == 104:
            for _ in range(4):
                producer.send(t)
        t += PERIOD_NS
        track.advance(t)
        positions.append(track.position)
        rates.append(track.rate)
    steps = np.diff(positions)
    assert np.all(steps >= 0.0), "playback never goes back"
    assert np.all(steps <= 1.25 + 1e-9), "at most one frame plus the warp per tick: no skips"
    assert min(rates) >= 0.75 - 1e-9
    assert max(rates) <= 1.25 + 1e-9
    assert abs(track.lag_ms - 40.0) < 2.0, "back at the target delay"


def test_a_dry_buffer_holds_the_newest_frame_and_counts_starved_ticks() -> None:
    track = make(target_delay_s=0.04)
    producer = Producer(track)
    t = 1_000_000_000
    for _ in range(50):
        producer.send(t)
        t += PERIOD_NS
        track.advance(t)
    newest = track.ring.newest
    for _ in range(10):  # the producer stops
        t += PERIOD_NS
        track.advance(t)
    assert track.position == newest
    assert track.starved_ticks > 0
    assert elbow_position(track) == pytest.approx(newest)


@pytest.mark.parametrize("catch_up", [True, False])
def test_catch_up_jumps_to_the_live_edge_and_without_it_warping_catches_up(
    catch_up: bool,
) -> None:
    track = make(target_delay_s=0.04, catch_up_frames=10.0)
    t = 1_000_000_000
    for index in range(30):
        track.write(np.array([index]), frames(np.array([index])), t, catch_up=catch_up)
        t += PERIOD_NS
        track.advance(t)
    t += 2 * 50 * PERIOD_NS  # two seconds of silence, then the producer goes on live
    jumped = []
    for index in range(130, 180):
        track.write(np.array([index]), frames(np.array([index])), t, catch_up=catch_up)
        t += PERIOD_NS
        jumped.append(track.advance(t))
    assert any(jumped) is catch_up
    if catch_up:
        assert track.jumps == 1
        assert track.take_realign(), "a catch-up re-captures the heading"
        assert abs(track.lag_ms - 40.0) < 2.0
    else:
        assert track.jumps == 0
        assert track.rate == pytest.approx(1.25), "still catching up at the bounded rate"


def test_velocity_feed_forward_is_the_streamed_trajectorys_derivative_times_the_rate() -> None:
    track = make(target_delay_s=0.04)
    producer = Producer(track)
    t = 1_000_000_000
    for _ in range(60):
        producer.send(t)
        t += PERIOD_NS
        track.advance(t)
    # q = 0.01 rad per frame = 0.5 rad/s at 50 Hz.
    assert track.dq_hw[0, ELBOW] == pytest.approx(0.5 * track.rate, rel=1e-6)
    assert np.allclose(np.delete(track.dq_hw[0], ELBOW), 0.0)


def test_window_rows_look_ahead_and_clamp_at_the_newest_frame() -> None:
    track = make(target_delay_s=0.04, window_frames=10)
    producer = Producer(track)
    t = 1_000_000_000
    for _ in range(40):
        producer.send(t)
        t += PERIOD_NS
        track.advance(t)
    rows = track.q_hw[:, ELBOW] / 0.01
    cursor, newest = track.position, track.ring.newest
    assert rows[0] == pytest.approx(cursor)
    assert rows[1] == pytest.approx(min(cursor + 1, newest))
    assert rows[-1] == pytest.approx(newest), "beyond the newest frame the window holds it"


def test_a_producer_restart_continues_right_after_the_newest_frame() -> None:
    track = make(max_gap_frames=200)
    t = 1_000_000_000
    for index in range(5000, 5050):
        track.write(np.array([index]), frames(np.array([index - 5000])), t)
        t += PERIOD_NS
        track.advance(t)
    newest = track.ring.newest
    track.write(np.array([0]), frames(np.array([100])), t)  # the producer restarted at 0
    assert track.ring.newest == newest + 1
    assert track.ring.restarts == 1
    assert track.take_realign()


def _advance(track: StreamTrack, t: int, ticks: int) -> int:
    """``ticks`` ticks; returns the new time (a function, so no loop variable outlives it)."""
    for _ in range(ticks):
        t += PERIOD_NS
        track.advance(t)
    return t


def test_advance_allocates_nothing() -> None:
    track = make()
    producer = Producer(track)
    t = 1_000_000_000
    for _ in range(100):
        producer.send(t)
        t += PERIOD_NS
        track.advance(t)
    gc.collect()
    tracemalloc.start()
    try:
        t = _advance(track, t, 200)
        floats = [float(i) + 0.5 for i in range(300)]  # fill the float free list
        del floats
        before = tracemalloc.take_snapshot()
        t = _advance(track, t, 1000)
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    # Net over all lines: a float reused from Python's free list keeps the line it was first
    # allocated at, so live blocks move between lines without any new allocation.
    grown = [s for s in after.compare_to(before, "lineno") if "tracemalloc" not in str(s.traceback)]
    assert sum(s.count_diff for s in grown) <= 0, [s for s in grown if s.count_diff > 0][:5]
