"""The control process's side of streaming: the daemon's stream commands, served between ticks.

The daemon decides when a stream (a *session*) begins and ends (``daemon.inputs.stream_session``);
this side decides whether the robot may follow it, and owns the one ``StreamTrack`` that plays every
stream of this process's life (``begin`` resets it per session). Commands:

- ``stream_frames``: frames of session ``session``; with ``open`` the session starts (from HOLD,
  or from TRACK of a motion package with ``take_over``), blended in; without, they extend the
  running session. Frames for a session that is not running are refused, so the daemon learns
  at once that its stream has ended (stale, stopped by the fleet, e-stopped, ...).
- ``stream_close``: the producer ended the stream on purpose: blend to rest, then HOLD.
- ``stream_fault``: the daemon found a fault in the stream (a protocol change within it): HOLD
  now, DAMP after the supervisor's ``fault_hold_s``.

Each refusal carries a stable ``code`` beside its reason, for the daemon's refusal accounting.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from controller.ipc.wire import WireError, decode_array
from controller.loop import ControlLoop
from controller.safety import Cause, Mode
from controller.stream_ring import StreamFrameError
from controller.stream_track import StreamPlaybackConfig, StreamTrack

_FRAME_ARRAYS = ("q_hw", "hand_q", "hand_state", "smpl_joints", "root_quat_wxyz", "token")

Answer = tuple[bool, str, str]
"""(accepted, reason, code)."""


class StreamCommands:
    """Applies stream commands to the loop (same thread, between ticks)."""

    def __init__(self, loop: ControlLoop, config: StreamPlaybackConfig) -> None:
        self._loop = loop
        self.stream = StreamTrack(config, loop.config.period_s)

    @property
    def is_active(self) -> bool:
        """True while the loop plays this process's stream (blending out included)."""
        loop = self._loop
        return loop.stream is self.stream and loop.supervisor.mode is Mode.TRACK

    def apply(self, kind: str, message: dict[str, Any]) -> Answer:
        session = message.get("session")
        if not isinstance(session, int):
            return False, "stream command without a session number", "bad_frames"
        if kind == "stream_frames":
            return self._frames(session, message)
        if not self._is_running(session):
            return False, self._ended(session), "stream_ended"
        now = self._loop.clock.now_ns()
        if kind == "stream_close":
            self._loop.end_stream()
            return True, "", ""
        if kind == "stream_fault":
            self._loop.supervisor.stream_fault(now, Cause.STREAM_PROTOCOL_CHANGED)
            return True, "", ""
        return False, f"unknown stream command {kind!r}", "bad_frames"

    def _is_running(self, session: int) -> bool:
        return self.is_active and self.stream.session == session

    def _ended(self, session: int) -> str:
        sup = self._loop.supervisor
        last = sup.log.since(sup.log.count - 1)
        cause = last[-1].cause.name if last else "STARTUP"
        return f"stream session {session} is not running (mode {sup.mode.name}, {cause})"

    def _frames(self, session: int, message: dict[str, Any]) -> Answer:
        loop, sup = self._loop, self._loop.supervisor
        try:
            frame_index = decode_array(message.get("frame_index")).astype(np.int64)
            frames = {
                name: decode_array(message[name])
                for name in _FRAME_ARRAYS
                if message.get(name) is not None
            }
            received_ns = int(message.get("received_ns", 0))
            catch_up = bool(message.get("catch_up", True))
            heading = float(message.get("heading_increment", 0.0))
        except (WireError, TypeError, ValueError) as exc:
            return False, f"stream frames rejected: {exc}", "bad_frames"
        now = loop.clock.now_ns()
        received_ns = min(received_ns, now) if received_ns > 0 else now
        if not message.get("open"):
            if not self._is_running(session):
                return False, self._ended(session), "stream_ended"
            return self._write(frame_index, frames, received_ns, catch_up, heading, now)
        protocol = message.get("protocol")
        if not isinstance(protocol, int):
            return False, "stream open without a protocol", "bad_frames"
        refusal = loop.controller.stream_refusal(protocol)
        if refusal:
            return False, refusal, "protocol_unsupported"
        take_over = bool(message.get("take_over"))
        if self.is_active:
            return False, f"stream session {self.stream.session} is running", "stream_running"
        if sup.mode is Mode.TRACK and not take_over:
            return (False, "a motion is running; the producer's start command takes over "
                    "from it (or stop the motion first)", "motion_running")  # fmt: skip
        if sup.mode not in (Mode.HOLD, Mode.TRACK):
            hint = "enable first" if sup.mode in (Mode.PASSIVE, Mode.DAMP) else "wait for HOLD"
            return (False, f"mode is {sup.mode.name}; a stream starts from HOLD ({hint})",
                    "not_holding")  # fmt: skip
        self.stream.begin(session, protocol)
        answer = self._write(frame_index, frames, received_ns, catch_up, heading, now)
        if not answer[0]:
            return answer
        if not loop.start_stream(self.stream, take_over=take_over):
            return (False, f"mode is {sup.mode.name} ({self._ended(session)}); a stream starts "
                    "from HOLD with no fault pending", "not_holding")  # fmt: skip
        return True, "", ""

    def _write(
        self,
        frame_index: np.ndarray[Any, np.dtype[np.int64]],
        frames: dict[str, Any],
        received_ns: int,
        catch_up: bool,
        heading: float,
        now: int,
    ) -> Answer:
        try:
            self.stream.write(
                frame_index, frames, received_ns, catch_up=catch_up, heading_increment_rad=heading
            )
        except StreamFrameError as exc:
            return False, f"stream frames rejected: {exc}", "bad_frames"
        self._loop.supervisor.note_reference(now)
        return True, "", ""

    def status(self) -> dict[str, Any]:
        """The stream's figures for the status snapshot."""
        stream = self.stream
        return {
            "session": stream.session if self.is_active else -1,
            "protocol": stream.protocol,
            "is_active": self.is_active,
            "lag_ms": stream.lag_ms,
            "rate": stream.rate,
            "starved_ticks": stream.starved_ticks,
            "jumps": stream.jumps,
            "producer_restarts": stream.ring.restarts,
        }
