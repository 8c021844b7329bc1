"""In-memory fakes of ``ControlLink`` and ``MotionLibrary`` for fleet interface tests.

``FakeControlLink`` models the supervisor's mode machine simply, on event-loop time: ENABLE
ramps for ``ramp_s`` then holds; START_TRACK tracks one frame per ``frame_s`` and ends with
TRACK -> HOLD (TRACK_COMPLETE); PAUSE/RESUME/STOP_TRACK/DAMP/RESET_ESTOP and the e-stop act at
once. It refuses what the real control process refuses, with similar reasons. It needs no
tasks: timed transitions are ``loop.call_later`` handles.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import numpy as np

from controller.estop_latch import EstopOrigin, ResetRequester
from daemon.control.control_link import (
    CommandKind,
    CommandResult,
    ControlStatus,
    ModeEvent,
    TimingFigures,
)
from daemon.library.motion_library import IngestResult, UnknownPackageError
from estimators.track import ReferenceTrack


@dataclass
class Call:
    name: str
    """``estop`` or a ``CommandKind`` value or ``load_track``."""
    at_s: float
    """Event-loop time of the call."""
    detail: str = ""


@dataclass
class _Tracking:
    start_frame: int
    started_s: float
    handle: asyncio.TimerHandle | None = None


@dataclass
class FakeControlLink:
    """A ControlLink without a control process."""

    ramp_s: float = 0.05
    frame_s: float = 0.01
    mode: str = "PASSIVE"
    cause: str = "STARTUP"
    is_alive: bool = True
    calls: list[Call] = field(default_factory=list)
    loaded_package: str | None = None
    track_frames: int = 0
    paused_frame: int = -1
    _tracking: _Tracking | None = None
    _ramp: asyncio.TimerHandle | None = None
    _subscribers: list[asyncio.Queue[ModeEvent]] = field(default_factory=list)
    _tick: int = 0

    # ------------------------------------------------------------------ Protocol
    async def estop(self, origin: EstopOrigin) -> None:
        self.estop_now(origin)

    def estop_now(self, origin: EstopOrigin, message_id: str = "") -> bool:
        self._record("estop", origin.value)
        self._cancel_timers()
        if self.mode != "ESTOP":
            self._transition("ESTOP", "ESTOP_COMMAND")
        return True

    async def command(
        self,
        kind: CommandKind,
        *,
        start_frame: int = 0,
        requester: ResetRequester = ResetRequester.FLEET,
    ) -> CommandResult:
        self._record(kind.value, requester.value if kind is CommandKind.RESET_ESTOP else "")
        mode = self.mode
        if kind is CommandKind.ENABLE:
            if mode not in ("PASSIVE", "DAMP"):
                return CommandResult(False, f"mode is {mode}; enable needs PASSIVE or DAMP")
            self._transition("RAMP", "ENABLE_REQUESTED")
            self._ramp = self._loop().call_later(self.ramp_s, self._ramp_done)
            return CommandResult(True)
        if kind is CommandKind.DAMP:
            if mode in ("DAMP", "ESTOP"):
                return CommandResult(False, f"mode is {mode}")
            self._cancel_timers()
            self._transition("DAMP", "DAMP_REQUESTED")
            return CommandResult(True)
        if kind is CommandKind.RESET_ESTOP:
            if mode != "ESTOP":
                return CommandResult(False, "no e-stop is engaged")
            self._transition("DAMP", "ESTOP_RESET")
            return CommandResult(True)
        if kind is CommandKind.START_TRACK:
            if self.loaded_package is None:
                return CommandResult(False, "no motion loaded")
            if mode != "HOLD":
                return CommandResult(False, f"mode is {mode}; a motion starts only from HOLD")
            self.paused_frame = -1
            self._start(start_frame)
            return CommandResult(True)
        if kind in (CommandKind.STOP_TRACK, CommandKind.PAUSE):
            if mode == "TRACK" and self._has_played_every_frame():
                # As the control server does: after the last frame, the track is complete.
                self.paused_frame = -1
                self._cancel_timers()
                self._transition("HOLD", "TRACK_COMPLETE")
                return CommandResult(True)
            frame = self._frame()
            if kind is CommandKind.STOP_TRACK:
                self.paused_frame = -1
            if mode != "TRACK":
                return CommandResult(False, f"mode is {mode}; no motion running")
            self._cancel_timers()
            if kind is CommandKind.PAUSE:
                self.paused_frame = frame
            self._transition("HOLD", "TRACK_STOPPED")
            return CommandResult(True)
        if kind is CommandKind.RESUME:
            if self.paused_frame < 0:
                return CommandResult(False, "nothing is paused")
            if mode != "HOLD":
                return CommandResult(False, f"mode is {mode}; cannot resume")
            frame, self.paused_frame = self.paused_frame, -1
            self._start(frame)
            return CommandResult(True)
        return CommandResult(False, f"unsupported command {kind.value}")

    async def load_track(self, package_id: str, track: ReferenceTrack) -> CommandResult:
        self._record("load_track", package_id)
        if self.mode == "TRACK":
            return CommandResult(False, "a motion is running; stop it first")
        self.loaded_package, self.track_frames, self.paused_frame = package_id, track.n_frames, -1
        return CommandResult(True)

    def status(self) -> ControlStatus:
        return ControlStatus(
            is_alive=self.is_alive,
            mode=self.mode,
            last_cause=self.cause,
            is_estopped=self.mode == "ESTOP",
            loaded_package=self.loaded_package,
            track_frame=self._frame() if self.mode == "TRACK" else -1,
            track_frames=self.track_frames,
            is_paused=self.paused_frame >= 0,
            ticks=self._tick,
            state_age_ms=2.0,
            timing=TimingFigures(0.05, 0.2, 0.4, 1.5, 0, 50),
            tracking_rms_rad=0.01 if self.mode == "TRACK" else 0.0,
        )

    async def events(self) -> AsyncIterator[ModeEvent]:
        queue: asyncio.Queue[ModeEvent] = asyncio.Queue()
        self._subscribers.append(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers.remove(queue)

    # ------------------------------------------------------------------ test controls
    def trip(self, mode: str, cause: str) -> None:
        """A supervisor transition that nobody asked for (a fault, the remote's e-stop key)."""
        self._cancel_timers()
        self._transition(mode, cause)

    def names(self) -> list[str]:
        return [c.name for c in self.calls]

    # ------------------------------------------------------------------ internals
    def _record(self, name: str, detail: str = "") -> None:
        self.calls.append(Call(name, self._loop().time(), detail))

    @staticmethod
    def _loop() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    def _transition(self, mode: str, cause: str) -> None:
        self.mode, self.cause = mode, cause
        self._tick += 1
        for queue in self._subscribers:
            queue.put_nowait(ModeEvent(self._tick, mode, cause))

    def _ramp_done(self) -> None:
        self._ramp = None
        if self.mode == "RAMP":
            self._transition("HOLD", "RAMP_COMPLETE")

    def _start(self, frame: int) -> None:
        loop = self._loop()
        remaining_s = max(self.track_frames - frame, 0) * self.frame_s
        tracking = _Tracking(frame, loop.time())
        tracking.handle = loop.call_later(remaining_s, self._complete)
        self._tracking = tracking
        self._transition("TRACK", "TRACK_REQUESTED")

    def _complete(self) -> None:
        self._tracking = None
        if self.mode == "TRACK":
            self._transition("HOLD", "TRACK_COMPLETE")

    def _has_played_every_frame(self) -> bool:
        tracking = self._tracking
        if tracking is None:
            return False
        remaining_s = max(self.track_frames - tracking.start_frame, 0) * self.frame_s
        return self._loop().time() - tracking.started_s >= remaining_s

    def _frame(self) -> int:
        tracking = self._tracking
        if tracking is None:
            return -1
        elapsed = self._loop().time() - tracking.started_s
        return min(tracking.start_frame + int(elapsed / self.frame_s), self.track_frames - 1)

    def _cancel_timers(self) -> None:
        for handle in (self._ramp, self._tracking.handle if self._tracking else None):
            if handle is not None:
                handle.cancel()
        self._ramp, self._tracking = None, None


def tiny_track(package_id: str, frames: int) -> ReferenceTrack:
    quat = np.zeros((frames, 4))
    quat[:, 0] = 1.0
    return ReferenceTrack(
        q_hw=np.zeros((frames, 29)),
        hand_q=np.zeros((frames, 2, 7)),
        hand_state=np.zeros((frames, 2), dtype=np.int8),
        smpl_joints_local=np.zeros((frames, 24, 3)),
        root_quat_wxyz=quat,
        package_id=package_id,
    )


def fake_package(package_id: str, frames: int = 20) -> bytes:
    """An upload that ``FakeMotionLibrary`` accepts."""
    return json.dumps({"packageId": package_id, "frames": frames}).encode()


@dataclass
class FakeMotionLibrary:
    """A MotionLibrary over JSON "packages" ``{"packageId": str, "frames": int}``."""

    frames_by_id: dict[str, int] = field(default_factory=dict)
    track_delay_s: float = 0.0
    """How long ``track`` takes (a real one builds the reference off the event loop)."""
    submissions: list[tuple[str, int]] = field(default_factory=list)
    """(source, size) per submit."""

    async def submit(self, data: bytes, *, source: str) -> IngestResult:
        self.submissions.append((source, len(data)))
        try:
            document = json.loads(data)
            package_id, frames = document["packageId"], document["frames"]
        except (ValueError, KeyError, TypeError):
            return IngestResult(False, code="malformed", detail="not a fake package")
        if not isinstance(package_id, str) or not isinstance(frames, int) or frames < 1:
            return IngestResult(False, code="invalid_metadata", field="frames", detail="bad")
        self.frames_by_id[package_id] = frames
        return IngestResult(True, package_id=package_id)

    async def track(self, package_id: str) -> ReferenceTrack:
        if package_id not in self.frames_by_id:
            raise UnknownPackageError(package_id)
        if self.track_delay_s:
            await asyncio.sleep(self.track_delay_s)
        return tiny_track(package_id, self.frames_by_id[package_id])

    def package_ids(self) -> list[str]:
        return sorted(self.frames_by_id)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
