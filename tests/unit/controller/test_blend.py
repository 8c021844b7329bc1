"""The bounded joint-space blend: limits, duration, exact arrival, no allocation.

Real: ``controller.blend`` only (pure numpy); nothing is faked.
"""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest

from controller.blend import (
    BlendConfig,
    JointBlend,
    blend_duration_s,
    blend_profile,
    reach_rad,
)

DT = 0.02


def _run(blend: JointBlend) -> tuple[np.ndarray, np.ndarray]:
    q, dq = np.zeros(blend.target.shape), np.zeros(blend.target.shape)
    qs, dqs = [], []
    while blend.is_active:
        blend.step(q, dq)
        qs.append(q.copy())
        dqs.append(dq.copy())
    return np.array(qs), np.array(dqs)


@pytest.mark.parametrize("distance", [0.01, 0.2, 0.6, 1.0, 1.25, 2.5])
def test_velocity_and_acceleration_stay_within_the_limits(distance: float) -> None:
    """Sampled finely (1 ms), the farthest joint never exceeds either limit."""
    config = BlendConfig()
    blend = JointBlend(config, 3, 0.001)
    start = np.array([0.3, -0.2, 1.0])
    blend.plan(start, start + np.array([distance, -0.5 * distance, 0.0]))
    q, dq = _run(blend)
    speed = np.abs(dq[:, 0])
    assert speed.max() <= config.max_velocity_rad_s + 1e-9
    accel = np.abs(np.diff(np.concatenate([[0.0], dq[:, 0], [0.0]]))) / 0.001
    assert accel.max() <= config.max_acceleration_rad_s2 * 1.01
    # Finite differences of the positions agree with the velocities written.
    np.testing.assert_allclose(np.diff(q[:, 0]) / 0.001, dq[1:, 0], atol=5e-3)


def test_arrives_exactly_and_every_joint_together() -> None:
    blend = JointBlend(BlendConfig(), 4, DT)
    start = np.array([0.0, 1.0, -1.0, 0.5])
    goal = np.array([0.8, 0.2, -1.0, 0.9])
    ticks = blend.plan(start, goal)
    q, dq = _run(blend)
    assert len(q) == ticks
    np.testing.assert_array_equal(q[-1], goal)
    np.testing.assert_array_equal(dq[-1], np.zeros(4))
    # Straight line in joint space: every pose is start + s (goal - start) with one s.
    s = (q[:, 0] - start[0]) / (goal[0] - start[0])
    np.testing.assert_allclose(q, start + s[:, None] * (goal - start), atol=1e-12)
    assert np.all(np.diff(s) > 0.0)


def test_duration_follows_distance_and_fits_one_second_for_typical_starts() -> None:
    """At the defaults the hold pose to a GENMO first frame (≈1 rad, knee/elbow) is < 1 s, and
    the largest 50 Hz step is 0.04 rad."""
    config = BlendConfig()
    assert blend_duration_s(0.0, config) == 0.0
    durations = [blend_duration_s(d, config) for d in (0.05, 0.3, 0.97, 1.25)]
    assert durations == sorted(durations)
    assert durations[-1] == pytest.approx(1.0)
    assert reach_rad(1.0, config) == pytest.approx(1.25)
    for d in (0.05, 0.3, 0.97, 1.25, 2.0):
        assert reach_rad(blend_duration_s(d, config), config) == pytest.approx(d)
    blend = JointBlend(config, 1, DT)
    blend.plan(np.zeros(1), np.ones(1))
    q, _ = _run(blend)
    assert np.abs(np.diff(np.concatenate([[0.0], q[:, 0]]))).max() <= 0.04 + 1e-12


def test_farther_than_a_second_allows_takes_longer_never_faster() -> None:
    config = BlendConfig()
    profile = blend_profile(3.0, config)
    assert profile.duration_s > config.max_duration_s
    assert profile.peak_velocity_rad_s == pytest.approx(config.max_velocity_rad_s)


def test_no_distance_no_blend_and_step_writes_the_target() -> None:
    blend = JointBlend(BlendConfig(), 2, DT)
    pose = np.array([0.1, 0.2])
    assert blend.plan(pose, pose + 1e-4) == 0
    assert not blend.is_active
    q, dq = np.zeros(2), np.ones(2)
    blend.step(q, dq)
    np.testing.assert_array_equal(q, pose + 1e-4)
    np.testing.assert_array_equal(dq, 0.0)


def test_retarget_moves_the_end_and_keeps_the_timing() -> None:
    blend = JointBlend(BlendConfig(), 1, DT)
    ticks = blend.plan(np.zeros(1), np.ones(1))
    q, dq = np.zeros(1), np.zeros(1)
    blend.step(q, dq)
    blend.retarget(np.full(1, 1.1))
    while blend.is_active:
        blend.step(q, dq)
    assert blend.ticks_done == ticks
    assert q[0] == pytest.approx(1.1)


def test_plan_and_step_allocate_nothing() -> None:
    blend = JointBlend(BlendConfig(), 29, DT)
    a, b = np.zeros(29), np.linspace(-1.0, 1.0, 29)
    q, dq = np.zeros(29), np.zeros(29)

    def cycle() -> None:
        blend.plan(a, b)
        while blend.is_active:
            blend.retarget(b)
            blend.step(q, dq)

    def cycles(n: int) -> None:
        for _ in range(n):
            cycle()

    gc.collect()
    tracemalloc.start()
    try:
        cycles(5)
        # Fill CPython's float free list, so that it cannot grow while measuring; a reused
        # float keeps the line it was first allocated at, hence the net count over all lines.
        floats = [float(i) + 0.5 for i in range(300)]
        del floats
        before = tracemalloc.take_snapshot()
        cycles(20)
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    diffs = [s for s in after.compare_to(before, "lineno") if "tracemalloc" not in str(s.traceback)]
    assert sum(s.count_diff for s in diffs) <= 0, [s for s in diffs if s.count_diff > 0][:5]


@pytest.mark.parametrize(
    "kwargs",
    [{"max_velocity_rad_s": 0.0}, {"max_acceleration_rad_s2": float("nan")},
     {"max_duration_s": -1.0}, {"min_distance_rad": -0.1}],
)  # fmt: skip
def test_bad_config_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="blend"):
        BlendConfig(**kwargs)  # type: ignore[arg-type]
