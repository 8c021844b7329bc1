"""The 50 Hz control loop: absolute deadlines, one tick in ARCHITECTURE's order, timing records.

Each tick: read the latest state; safety checks and mode step (supervisor); in TRACK, the
tracking controller proposes body targets and the hand track gives Dex3 targets; the supervisor
writes the final, clamped command; the backend sends it; timings go into a preallocated ring.
Between ticks a pluggable ``TickWaiter`` blocks until the next deadline (a plain sleep-then-spin
here; the daemon's waiter serves its command socket meanwhile and calls ``estop_now``).

Starting a track (or resuming one) first blends from the pose last commanded to the track's
start frame (``controller.blend``), and the track's clock starts only when the blend is done;
at the end of a track it blends back to the rest pose before the supervisor holds. The phase
(``TrackPhase``) is visible to observers. A stream (``controller.stream_track``) is engaged and
disengaged with the same blends: in, from the pose last commanded to the moving stream (its
playback runs on through the blend, it is live); out, to the rest pose when the stream is ended
on purpose; and again in when a catch-up jumps the stream ahead.

Deadlines are ``t0 + k · period`` on a monotonic clock: the work of a tick never shifts the next
one (a sleep-after-work loop runs at 1 / (period + work) and drifts). A tick that starts more than
a whole period late skips the missed deadlines instead of bursting to catch up.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from controller.blend import BlendConfig, JointBlend
from controller.clock import Clock, TickWaiter
from controller.embodiment import g1
from controller.estop_latch import EstopOrigin
from controller.hands import HandCommandShaper
from controller.realtime import RealtimeConfig, RealtimeReport, apply_realtime, release_realtime
from controller.robot.base import F64, RobotBackend, RobotCommand, RobotState
from controller.safety import Cause, Mode, Supervisor
from controller.stream_track import StreamTrack
from controller.timing import TickTimingRing
from controller.tracking import TrackingController
from estimators.track import TrackView


@dataclass(frozen=True)
class LoopConfig:
    period_s: float = 0.02
    realtime: RealtimeConfig | None = None
    """Real-time set-up to apply while running; None leaves the process as it is (lock-step)."""
    timing_capacity: int = 1 << 16
    blend: BlendConfig = field(default_factory=BlendConfig)
    """Transitions into and out of tracks."""

    def __post_init__(self) -> None:
        if not 0.001 <= self.period_s <= 0.1:
            raise ValueError(f"loop.period_s must be within 0.001..0.1, got {self.period_s}")

    @property
    def period_ns(self) -> int:
        return round(self.period_s * 1e9)


class TrackPhase(enum.IntEnum):
    """Where TRACK mode is in a track (IDLE outside TRACK). Stable numbers: they are recorded."""

    IDLE = 0
    BLEND_IN = 1
    """Moving from the last command to the start frame; the track's clock does not run."""
    PLAY = 2
    BLEND_OUT = 3
    """After the last frame, moving to the rest pose; HOLD follows."""


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
        """The track TRACK plays (or last played): the loaded package, or a stream."""
        self.package: TrackView | None = None
        """The loaded motion package (kept while a stream plays)."""
        self.frame = 0
        """Frame of the track the current (or last) TRACK tick used."""
        self.ticks = 0
        self.skipped_deadlines = 0
        self.realtime_report: RealtimeReport | None = None
        self._next_frame = 0
        self._is_stopping = False
        self.phase = TrackPhase.IDLE
        """The phase of the current (or last) TRACK tick."""
        self.blend = JointBlend(config.blend, g1.NUM_BODY_JOINTS, config.period_s)
        self.stream: StreamTrack | None = None
        """The stream being played when ``track`` is it (None while a package plays)."""

    # --------------------------------------------- requests (between ticks, same thread)
    def load_track(self, track: TrackView) -> None:
        """Make ``track`` the one the next ``start_track`` plays; precomputes off the tick."""
        self.controller.prepare(track)
        self.track = self.package = track

    def start_track(self, start_frame: int = 0) -> bool:
        """HOLD -> TRACK with the loaded package, from ``start_frame`` (a resumed pause)."""
        if self.package is None or not 0 <= start_frame < self.package.n_frames:
            return False
        if not self.supervisor.request_track(self.clock.now_ns()):
            return False
        self.track, self.stream = self.package, None
        self.controller.start(self.track, self.state)
        self._next_frame = start_frame
        start_pose = self.track.q_hw[self.track.frame(start_frame)]
        # From the pose last commanded (HOLD's target): the robot's reference never jumps.
        if self.blend.plan(self.command.q, start_pose) > 0:
            self.phase = TrackPhase.BLEND_IN
        else:
            self.phase = TrackPhase.PLAY
        return True

    def start_stream(self, stream: StreamTrack, *, take_over: bool = False) -> bool:
        """HOLD -> TRACK playing ``stream`` (its first frames already written), blended in.

        ``take_over``: a motion package playing in TRACK is stopped for the stream (recorded
        as TRACK_STOPPED, then TRACK_REQUESTED), the blend starting from its last command.
        """
        sup, now = self.supervisor, self.clock.now_ns()
        if sup.mode is Mode.TRACK and take_over and self.stream is None:
            sup.request_stop_track(now)
        self.controller.prepare(stream)
        if not sup.request_track(now, is_streaming=True):
            return False
        self.track = self.stream = stream
        self.controller.start(stream, self.state)
        self._next_frame = 0
        if self.blend.plan(self.command.q, stream.q_hw[0]) > 0:
            self.phase = TrackPhase.BLEND_IN
        else:
            self.phase = TrackPhase.PLAY
        return True

    def end_stream(self) -> bool:
        """End the stream on purpose: blend to the rest pose, then HOLD (TRACK_COMPLETE)."""
        if self.supervisor.mode is not Mode.TRACK or self.stream is None:
            return False
        self.supervisor.stream_ending()
        if self.config.blend.is_blend_out_enabled and (
            self.blend.plan(self.command.q, g1.Q_DEFAULT) > 0
        ):
            self.phase = TrackPhase.BLEND_OUT
        else:
            self.supervisor.track_complete()
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
            self._track_tick(t_start, w_read)
        elif self.phase is not TrackPhase.IDLE:
            self.phase = TrackPhase.IDLE
            self.blend.cancel()
        sup.fill_command(self.state, self.proposal, self.command)
        if mode is Mode.TRACK and not self.blend.is_active:
            # This tick was the blend's last: play from the next tick, or hold after a blend-out.
            if self.phase is TrackPhase.BLEND_IN:
                self.phase = TrackPhase.PLAY
            elif self.phase is TrackPhase.BLEND_OUT:
                sup.track_complete()
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

    def _track_tick(self, t_start: int, w_read: int) -> None:
        """TRACK mode: blend in, play one frame, or blend out (a package's clock only runs in
        PLAY, so after a blend-in the start frame is played in full; a stream plays on)."""
        track = self.track
        if track is None:
            self.supervisor.track_complete()
        elif self.stream is not None and track is self.stream:
            if (
                self.stream.advance(t_start)
                and self.phase is TrackPhase.PLAY
                and (self.blend.plan(self.command.q, self.stream.q_hw[0]) > 0)
            ):
                self.phase = TrackPhase.BLEND_IN  # a catch-up jumped ahead: blend there
            self._track_step(track, 0, w_read)
        elif self.phase is TrackPhase.BLEND_IN:
            self._track_step(track, self._next_frame, w_read)
        elif self.phase is TrackPhase.BLEND_OUT:
            self._track_step(track, self.frame, w_read)
        elif self._next_frame < track.n_frames:
            self._track_step(track, self._next_frame, w_read)
            self._next_frame += 1
        elif self.config.blend.is_blend_out_enabled and (
            self.blend.plan(self.command.q, g1.Q_DEFAULT) > 0
        ):
            # Past the last frame: back to the rest pose (the default standing pose) first.
            self.phase = TrackPhase.BLEND_OUT
            self._track_step(track, track.n_frames - 1, w_read)
        else:
            self.supervisor.track_complete()

    def _track_step(self, track: TrackView, frame: int, w_read: int) -> None:
        """The controller's proposal for ``frame``; during a blend its pose and velocity are
        replaced by the blend's (gains and torques stay the controller's)."""
        sup = self.supervisor
        self.frame = frame
        self.controller.step(self.state, frame, self.proposal)
        sup.note_compute(time.perf_counter_ns() - w_read)
        fault = self.controller.last_fault_cause
        if fault is not None:
            sup.controller_fault(fault)
        if self.phase is TrackPhase.BLEND_IN:
            self.blend.retarget(self.proposal.q)  # SONIC's proposal moves; the tracker's does not
            self.blend.step(self.proposal.q, self.proposal.dq)
        elif self.phase is TrackPhase.BLEND_OUT:
            self.blend.step(self.proposal.q, self.proposal.dq)
        self.hands.targets(track, frame, self.command.hand_q, self.proposal.hand_q)
