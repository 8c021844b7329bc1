"""Dex3 hand command shaper used inside the control tick.

Real: ``HandCommandShaper`` and the Dex3 embodiment table; tracemalloc for the allocation
check. Faked: targets and measured hand poses (plain arrays).
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import numpy as np
import pytest

from controller.embodiment.dex3 import HAND_Q_MAX, HAND_Q_MIN
from controller.hands import HandCommandShaper, HandShaperConfig


def _run(
    shaper: HandCommandShaper, target: np.ndarray, start: np.ndarray, ticks: int
) -> np.ndarray:
    out = np.empty((2, 7))
    current = start.copy()
    for _ in range(ticks):
        shaper.shape(target, current, out)
        current[:] = out
    return np.asarray(current, dtype=np.float64)


def test_targets_outside_limits_are_clamped_per_hand() -> None:
    shaper = HandCommandShaper()
    final = _run(shaper, np.full((2, 7), 5.0), np.zeros((2, 7)), 40)
    np.testing.assert_allclose(final, HAND_Q_MAX)
    final = _run(shaper, np.full((2, 7), -5.0), np.zeros((2, 7)), 40)
    np.testing.assert_allclose(final, HAND_Q_MIN)


def test_step_per_tick_is_limited() -> None:
    shaper = HandCommandShaper(HandShaperConfig(max_step_rad=0.25))
    out = np.empty((2, 7))
    shaper.shape(HAND_Q_MIN.copy(), np.zeros((2, 7)), out)
    assert np.max(np.abs(out)) <= 0.25 + 1e-12
    np.testing.assert_allclose(out, np.maximum(HAND_Q_MIN, -0.25))


def test_reference_outside_limits_never_leaks_into_the_command() -> None:
    shaper = HandCommandShaper()
    out = np.empty((2, 7))
    measured = HAND_Q_MAX + 0.2  # a sensor reading past the limit
    shaper.shape(np.zeros((2, 7)), measured, out)
    assert np.all(out <= HAND_Q_MAX)
    assert np.all(out >= HAND_Q_MIN)


def test_close_ratio_limits_closure_toward_each_hands_closing_side() -> None:
    shaper = HandCommandShaper(HandShaperConfig(close_ratio=0.5))
    closing_side = (HAND_Q_MIN + HAND_Q_MAX) / 2
    full_grip = np.where(closing_side > 0, HAND_Q_MAX, HAND_Q_MIN)
    final = _run(shaper, full_grip, np.zeros((2, 7)), 40)
    # fingers (slots 3-6): left closes negative, right positive, both to half their range
    np.testing.assert_allclose(final[0, 3:], 0.5 * HAND_Q_MIN[0, 3:])
    np.testing.assert_allclose(final[1, 3:], 0.5 * HAND_Q_MAX[1, 3:])
    # opening is never limited by the ratio
    np.testing.assert_allclose(_run(shaper, np.zeros((2, 7)), final, 40), 0.0)
    shaper.set_close_ratio(1.0)
    np.testing.assert_allclose(shaper.lower, HAND_Q_MIN)
    np.testing.assert_allclose(shaper.upper, HAND_Q_MAX)


@pytest.mark.parametrize(
    "kwargs", [{"close_ratio": 0.1}, {"close_ratio": 1.5}, {"max_step_rad": 0.0}]
)
def test_bad_config_raises(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must lie in"):
        HandShaperConfig(**kwargs)


def test_set_close_ratio_out_of_range_raises() -> None:
    with pytest.raises(ValueError, match="close_ratio"):
        HandCommandShaper().set_close_ratio(0.0)


def _peak_bytes(
    fn: Callable[[np.ndarray, np.ndarray, np.ndarray], None], args: tuple[np.ndarray, ...]
) -> int:
    for _ in range(50):
        fn(*args)
    tracemalloc.reset_peak()
    start, _ = tracemalloc.get_traced_memory()
    for _ in range(1000):
        fn(*args)
    return tracemalloc.get_traced_memory()[1] - start


def test_shape_allocates_nothing() -> None:
    """1,000 ticks peak no higher than calling a no-op with the same arguments."""
    shaper = HandCommandShaper(HandShaperConfig(close_ratio=0.7))
    args = (np.full((2, 7), 0.3), np.zeros((2, 7)), np.empty((2, 7)))

    def noop(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> None:
        return None

    tracemalloc.start()
    try:
        baseline = _peak_bytes(noop, args)
        shaped = _peak_bytes(shaper.shape, args)
    finally:
        tracemalloc.stop()
    assert shaped <= baseline + 16
