"""Per-tick timing records in a preallocated ring, and the statistics drawn from them.

The control tick writes one row per tick (no allocation); the daemon, a report or a benchmark
reads the ring afterwards. ``deadline`` and ``start`` are on the loop's clock (simulated time in
lock-step); the three work durations are measured on a real monotonic stopwatch, so lock-step
runs still report honest compute times. All values are integer nanoseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# Columns of one timing row.
DEADLINE, START, READ, COMPUTE, WRITE = range(5)
_COLUMNS = 5


class TickTimingRing:
    """Fixed-capacity ring of per-tick rows: deadline, start, read/compute/write durations."""

    def __init__(self, capacity: int = 1 << 16) -> None:
        if capacity < 1:
            raise ValueError(f"timing ring capacity must be >= 1, got {capacity}")
        self._rows = np.zeros((capacity, _COLUMNS), dtype=np.int64)
        self._count = 0

    @property
    def capacity(self) -> int:
        return int(self._rows.shape[0])

    @property
    def count(self) -> int:
        """Ticks recorded since creation (may exceed capacity; the oldest rows are overwritten)."""
        return self._count

    def record(self, deadline_ns: int, start_ns: int, read_ns: int, compute_ns: int,
               write_ns: int) -> None:  # fmt: skip
        row = self._rows[self._count % self._rows.shape[0]]
        row[DEADLINE] = deadline_ns
        row[START] = start_ns
        row[READ] = read_ns
        row[COMPUTE] = compute_ns
        row[WRITE] = write_ns
        self._count += 1

    def last(self, n: int) -> npt.NDArray[np.int64]:
        """The newest ``n`` rows (at most what is retained), oldest first; copies only those.

        The status publisher reads 50 rows ten times a second: ``rows()[-50:]`` would copy the
        whole ring (2.5 MiB, rolled once full) to keep 50 of them.
        """
        cap = self.capacity
        n = max(0, min(n, self._count, cap))
        end = self._count % cap
        if n <= end:
            newest: npt.NDArray[np.int64] = self._rows[end - n : end].copy()
            return newest
        joined: npt.NDArray[np.int64] = np.concatenate(
            (self._rows[cap - (n - end) :], self._rows[:end])
        )
        return joined

    def rows(self) -> npt.NDArray[np.int64]:
        """The retained rows, oldest first (a copy; for reports, never for the tick)."""
        n = min(self._count, self.capacity)
        start = self._count % self.capacity if self._count > self.capacity else 0
        return np.roll(self._rows[:n], -start, axis=0) if start else self._rows[:n].copy()


@dataclass(frozen=True)
class TimingSummary:
    """What a person wants to know about a run of ticks; all durations in milliseconds."""

    ticks: int
    period_mean_ms: float
    drift_ms: float
    """How far the last tick started from where an exact period would have put it."""
    lateness_p50_ms: float
    lateness_p99_ms: float
    lateness_p999_ms: float
    lateness_max_ms: float
    misses: int
    """Ticks whose work ended after the next tick's deadline."""
    compute_p50_ms: float
    compute_p99_ms: float
    work_p50_ms: float
    """Whole tick: read + compute + write."""
    work_p99_ms: float
    work_max_ms: float
    read_p99_ms: float
    write_p99_ms: float

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


def summarize(rows: npt.NDArray[np.int64], period_ns: int) -> TimingSummary:
    """Statistics over timing rows (as from ``TickTimingRing.rows``)."""
    if rows.shape[0] == 0:
        raise ValueError("no ticks recorded")
    ms = 1e-6
    start = rows[:, START].astype(np.float64)
    late_ns = rows[:, START] - rows[:, DEADLINE]
    work_ns = rows[:, READ] + rows[:, COMPUTE] + rows[:, WRITE]
    lateness = late_ns.astype(np.float64) * ms
    work = work_ns.astype(np.float64) * ms
    compute = rows[:, COMPUTE].astype(np.float64) * ms
    n = rows.shape[0]
    period_mean = float(np.mean(np.diff(start))) * ms if n > 1 else float("nan")
    drift = float(start[-1] - (start[0] + (n - 1) * period_ns)) * ms
    misses = int(np.count_nonzero(late_ns + work_ns > period_ns))

    def pct(values: npt.NDArray[np.float64], q: float) -> float:
        return float(np.percentile(values, q))

    return TimingSummary(
        ticks=n,
        period_mean_ms=period_mean,
        drift_ms=drift,
        lateness_p50_ms=pct(lateness, 50),
        lateness_p99_ms=pct(lateness, 99),
        lateness_p999_ms=pct(lateness, 99.9),
        lateness_max_ms=float(np.max(lateness)),
        misses=misses,
        compute_p50_ms=pct(compute, 50),
        compute_p99_ms=pct(compute, 99),
        work_p50_ms=pct(work, 50),
        work_p99_ms=pct(work, 99),
        work_max_ms=float(np.max(work)),
        read_p99_ms=pct(rows[:, READ].astype(np.float64) * ms, 99),
        write_p99_ms=pct(rows[:, WRITE].astype(np.float64) * ms, 99),
    )
