"""Clocks and the wait between ticks.

The loop never sleeps a fixed amount after its work (that drifts: the period becomes work +
sleep). It computes absolute deadlines ``t0 + k * period`` and asks a ``TickWaiter`` to return at
the next one. The waiter is the seam the daemon uses to serve commands between ticks: its waiter
polls the command socket until the deadline, so an e-stop is handled the moment it arrives.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Monotonic time in integer nanoseconds."""

    def now_ns(self) -> int: ...


class MonotonicClock:
    """The system's CLOCK_MONOTONIC (immune to wall-clock steps)."""

    def now_ns(self) -> int:
        return time.monotonic_ns()


class SimulatedClock:
    """A clock that only moves when told to: lock-step simulation time."""

    def __init__(self, start_ns: int = 0) -> None:
        self._now_ns = start_ns

    def now_ns(self) -> int:
        return self._now_ns

    def advance_to(self, t_ns: int) -> None:
        if t_ns > self._now_ns:
            self._now_ns = t_ns


class TickWaiter(Protocol):
    """Blocks until the next tick's deadline (on the loop's clock)."""

    def wait_until(self, deadline_ns: int) -> None: ...


class SleepSpinWaiter:
    """Sleep until shortly before the deadline, then spin on the clock for the rest.

    ``time.sleep`` wakes up late by tens to hundreds of microseconds depending on the kernel's
    timer slack and load; spinning the last ``spin_ns`` trades a little CPU for a prompt wake-up.
    ``spin_ns = 0`` is a plain sleep.
    """

    def __init__(self, clock: Clock, spin_ns: int = 300_000) -> None:
        if spin_ns < 0:
            raise ValueError(f"spin_ns must be >= 0, got {spin_ns}")
        self._clock = clock
        self._spin_ns = spin_ns

    def wait_until(self, deadline_ns: int) -> None:
        now = self._clock.now_ns()
        sleep_ns = deadline_ns - now - self._spin_ns
        if sleep_ns > 0:
            time.sleep(sleep_ns * 1e-9)
        while self._clock.now_ns() < deadline_ns:
            pass


class LockstepWaiter:
    """For simulation in lock-step: advancing to the deadline *is* stepping the physics.

    Each wait advances the simulator by exactly the time to the deadline (one control period)
    and moves the simulated clock there, so a run is deterministic and as fast as the CPU allows.
    """

    def __init__(self, clock: SimulatedClock, advance: _Advance) -> None:
        self._clock = clock
        self._advance = advance

    def wait_until(self, deadline_ns: int) -> None:
        dt_ns = deadline_ns - self._clock.now_ns()
        # Time moves first, so the state the physics step publishes is stamped at the deadline.
        self._clock.advance_to(deadline_ns)
        if dt_ns > 0:
            self._advance(dt_ns)


class _Advance(Protocol):
    def __call__(self, dt_ns: int) -> None: ...
