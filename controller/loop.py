"""The 50 Hz control loop: absolute deadlines, one tick in ARCHITECTURE's order, timing records.

Each tick: read the latest state; safety checks and mode step (supervisor); in TRACK, the
tracking controller proposes body targets and the hand track gives Dex3 targets; the supervisor
writes the final, clamped command; the backend sends it; timings go into a preallocated ring.
Between ticks a pluggable ``TickWaiter`` blocks until the next deadline (a plain sleep-then-spin
here; the daemon's waiter serves its command socket meanwhile and calls ``estop_now``).

Deadlines are ``t0 + k · period`` on a monotonic clock: the work of a tick never shifts the next
one (a sleep-after-work loop runs at 1 / (period + work) and drifts). A tick that starts more than
a whole period late skips the missed deadlines instead of bursting to catch up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from controller.clock import Clock, TickWaiter
from controller.estop_latch import EstopOrigin
from controller.hands import HandCommandShaper
from controller.realtime import RealtimeConfig, RealtimeReport, apply_realtime, release_realtime
from controller.robot.base import F64, RobotBackend, RobotCommand, RobotState
from controller.safety import Cause, Mode, Supervisor
from controller.timing import TickTimingRing
from controller.tracking import TrackingController
from estimators.track import TrackView


@dataclass(frozen=True)
class LoopConfig:
    period_s: float = 0.02
    realtime: RealtimeConfig | None = None
    """Real-time set-up to apply while running; None leaves the process as it is (lock-step)."""
    timing_capacity: int = 1 << 16

    def __post_init__(self) -> None:
        if not 0.001 <= self.period_s <= 0.1:
            raise ValueError(f"loop.period_s must be within 0.001..0.1, got {self.period_s}")

    @property
    def period_ns(self) -> int:
        return round(self.period_s * 1e9)


class HandFeed(Protocol):
    """Supplies this tick's Dex3 targets from the track (shaped: limits, close ratio, step)."""

    def targets(self, track: TrackView, frame: int, reference: F64, out: F64) -> None:
        """Write the (2, 7) targets for ``frame`` into ``out``; ``reference`` is the last
        hand command, from which the per-tick step is limited."""
        ...


class ShapedTrackHands:
    """Track hand targets through the Dex3 command shaper (allocation-free)."""

    def __init__(self, shaper: HandCommandShaper | None = None) -> None:
        self.shaper = shaper if shaper is not None else HandCommandShaper()

    def targets(self, track: TrackView, frame: int, reference: F64, out: F64) -> None:
        self.shaper.shape(track.hand_q[track.frame(frame)], reference, out)


TickObserver = Callable[["ControlLoop"], None]


class ControlLoop:
    """Owns the per-tick buffers and runs ticks against a backend under a supervisor."""

    def __init__(
        self,
        *,
        backend: RobotBackend,
        supervisor: Supervisor,
        controller: TrackingController,
        clock: Clock,
        waiter: TickWaiter,
        config: LoopConfig,
        hands: HandFeed | None = None,
        observer: TickObserver | None = None,
    ) -> None:
        self.backend = backend
        self.supervisor = supervisor
        self.controller = controller
        self.clock = clock
        self.waiter = waiter
        self.config = config
        self.hands: HandFeed = hands if hands is not None else ShapedTrackHands()
        self.observer = observer
        self.state = RobotState()
        self.proposal = RobotCommand()
        self.command = RobotCommand()
        self.timing = TickTimingRing(config.timing_capacity)
        self.track: TrackView | None = None
        self.frame = 0
        """Frame of the track the current (or last) TRACK tick used."""
        self.ticks = 0
        self.skipped_deadlines = 0
        self.realtime_report: RealtimeReport | None = None
        self._next_frame = 0
        self._is_stopping = False

    # --------------------------------------------- requests (between ticks, same thread)
    def load_track(self, track: TrackView) -> None:
        """Make ``track`` the one the next ``start_track`` plays; precomputes off the tick."""
        self.controller.prepare(track)
        self.track = track

    def start_track(self, start_frame: int = 0, *, is_streaming: bool = False) -> bool:
        """HOLD -> TRACK with the loaded track, from ``start_frame`` (a resumed pause).

        ``is_streaming``: the track grows while it plays, and the supervisor watches it go stale.
        """
        if self.track is None or not 0 <= start_frame < self.track.n_frames:
            return False
        if not self.supervisor.request_track(self.clock.now_ns(), is_streaming=is_streaming):
            return False
        self.controller.start(self.track, self.state)
        self._next_frame = start_frame
        return True

    @property
    def next_frame(self) -> int:
        """The frame the next TRACK tick will play."""
        return self._next_frame

    def estop_now(
        self, cause: Cause = Cause.ESTOP_COMMAND, origin: EstopOrigin = EstopOrigin.UNKNOWN
    ) -> int:
        """E-stop between ticks: damping is written now, not at the next deadline.

        Returns the monotonic time (ns) at which the damping command was handed to the robot.
        """
        self.supervisor.engage_estop(self.clock.now_ns(), cause, origin)
        self.backend.read_state(self.state)
        self.supervisor.fill_command(self.state, self.proposal, self.command)
        self.backend.write_command(self.command)
        written_ns = time.monotonic_ns()
        self.supervisor.after_write()
        return written_ns

    def stop(self) -> None:
        """Ask ``run`` to return after the current tick."""
        self._is_stopping = True

    # ------------------------------------------------------------------ running
    def run(self, *, max_ticks: int | None = None) -> None:
        """Tick on absolute deadlines until ``stop`` is called or ``max_ticks`` have run."""
        period = self.config.period_ns
        self._is_stopping = False
        if self.config.realtime is not None:
            self.realtime_report = apply_realtime(self.config.realtime)
        try:
            deadline = self.clock.now_ns()
            end = None if max_ticks is None else self.ticks + max_ticks
            while not self._is_stopping and (end is None or self.ticks < end):
                self.tick(deadline)
                deadline += period
                late = self.clock.now_ns() - deadline
                if late > period:
                    missed = late // period
                    self.skipped_deadlines += missed
                    deadline += missed * period
                self.waiter.wait_until(deadline)
        finally:
            if self.realtime_report is not None:
                release_realtime(self.realtime_report)

    def tick(self, deadline_ns: int) -> None:
        """One control tick (ARCHITECTURE order). Allocates nothing, no I/O but the backend's."""
        sup, watch = self.supervisor, time.perf_counter_ns
        t_start = self.clock.now_ns()
        w_start = watch()
        self.backend.read_state(self.state)
        w_read = watch()
        mode = sup.check(self.state, t_start)
        if mode is Mode.TRACK:
            track = self.track
            if track is None or self._next_frame >= track.n_frames:
                sup.track_complete()
            else:
                self.frame = self._next_frame
                self.controller.step(self.state, self.frame, self.proposal)
                sup.note_compute(watch() - w_read)
                fault = self.controller.last_fault_cause
                if fault is not None:
                    sup.controller_fault(fault)
                self.hands.targets(track, self.frame, self.command.hand_q, self.proposal.hand_q)
                self._next_frame += 1
        sup.fill_command(self.state, self.proposal, self.command)
        w_compute = watch()
        self.backend.write_command(self.command)
        sup.after_write()
        w_write = watch()
        self.timing.record(
            deadline_ns, t_start, w_read - w_start, w_compute - w_read, w_write - w_compute
        )
        self.ticks += 1
        if self.observer is not None:
            self.observer(self)
