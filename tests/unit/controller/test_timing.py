"""Timing ring and statistics. Real: both; inputs are synthetic rows."""

from __future__ import annotations

import numpy as np
import pytest

from controller.timing import TickTimingRing, summarize

PERIOD = 20_000_000


def test_ring_keeps_the_newest_rows_in_order() -> None:
    ring = TickTimingRing(capacity=4)
    for k in range(6):
        ring.record(k * PERIOD, k * PERIOD + 10, 1, 2, 3)
    rows = ring.rows()
    assert ring.count == 6
    assert rows[:, 0].tolist() == [2 * PERIOD, 3 * PERIOD, 4 * PERIOD, 5 * PERIOD]


def test_summary_reports_lateness_drift_and_misses() -> None:
    ring = TickTimingRing()
    for k in range(100):
        late = 19_500_000 if k == 50 else 100_000
        ring.record(k * PERIOD, k * PERIOD + late, 50_000, 1_000_000, 50_000)
    s = summarize(ring.rows(), PERIOD)
    assert s.ticks == 100
    assert s.lateness_p50_ms == pytest.approx(0.1)
    assert s.lateness_max_ms == pytest.approx(19.5)
    assert s.misses == 1  # 19.5 ms late + 1.1 ms of work ends past the next deadline
    assert s.compute_p50_ms == pytest.approx(1.0)
    assert s.work_p50_ms == pytest.approx(1.1)
    assert s.drift_ms == pytest.approx(0.0)


def test_drift_measures_a_stretched_period() -> None:
    starts = np.arange(51) * 20_300_000
    rows = np.zeros((51, 5), dtype=np.int64)
    rows[:, 0] = starts
    rows[:, 1] = starts
    s = summarize(rows, PERIOD)
    assert s.drift_ms == pytest.approx(50 * 0.3)
    assert s.period_mean_ms == pytest.approx(20.3)


def test_empty_summary_is_an_error() -> None:
    with pytest.raises(ValueError, match="no ticks"):
        summarize(np.zeros((0, 5), dtype=np.int64), PERIOD)
