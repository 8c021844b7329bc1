"""The lifecycle of streams, sans I/O: when a stream starts, what it may change, how it ends.

A *stream* (session) is what the robot follows from one engage to one end. Any number of
streams run in one daemon's life:

- IDLE: no stream. A pose message starts one (``open``) when the robot holds (or a package
  plays and the producer sent ``start``), the protocol suits the controller, and the producer is
  not in planner mode; it fixes the stream's protocol version. Until the control process accepts
  the open, nothing is fixed: a refused message changes nothing.
- ACTIVE: messages extend the stream. One of another protocol version stops it (as SONIC does)
  and becomes a stream *fault*: the robot holds, then damps after the supervisor's timeout.
- STOPPED: after a fault, the producer's stop, or an end the control process reported (stale
  frames, the fleet's stopMotion, an e-stop): messages are refused, so the robot does not jump
  back into a stream it just left. A new stream may start after the producer has been silent
  for ``new_session_gap_s``, after its ``start`` command, or once the robot is enabled again.

Between streams the protocol version is free. Producer commands (SONIC's ``command`` topic):
``start`` arms an engage (and lets a stream take over from a playing package), ``stop`` is the
producer's e-stop (or a graceful end, per configuration), ``planner`` on ends the stream and
refuses pose frames (there is no kinematic planner here), ``delta_heading`` turns the
reference. ``StreamSession`` only decides; ``daemon.inputs.streaming`` carries the decisions out.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from daemon.inputs.stream_config import ProducerStop
from daemon.inputs.stream_messages import PoseMessage, ProducerCommand
from daemon.inputs.stream_refusals import RefusalCause


class SessionPhase(enum.Enum):
    IDLE = "idle"
    ACTIVE = "active"
    STOPPED = "stopped"


class StepKind(enum.Enum):
    FORWARD = "forward"
    """Send the message's frames (``open``: as the first of a new stream)."""
    REFUSE = "refuse"
    FAULT = "fault"
    """Tell the control process the stream faulted (hold, then damp), and refuse."""
    CLOSE = "close"
    """End the stream on purpose: the robot blends to rest and holds."""
    ESTOP = "estop"


@dataclass(frozen=True)
class Step:
    """One decision."""

    kind: StepKind
    cause: RefusalCause | None = None
    detail: str = ""
    is_open: bool = False
    take_over: bool = False


@dataclass(frozen=True)
class RobotView:
    """What the session needs to know about the robot (from the control status)."""

    mode: str
    is_streaming: bool = False
    """The control process plays a stream (possibly one still blending out)."""


def _enable_hint(mode: str) -> str:
    if mode in ("PASSIVE", "DAMP"):
        return "enable first (exoactor-edge enable, or the fleet's startMotion)"
    if mode == "ESTOP":
        return "reset the e-stop, then enable"
    return "wait for HOLD"


class StreamSession:
    """Decides what each pose message and producer command does (see the module docstring).

    Args:
        unsupported: protocol version -> why the configured controller cannot follow it.
        require_start: engage only after the producer's ``start``.
        producer_stop: what the producer's ``stop`` does.
        new_session_gap_s: producer silence that ends a stopped (or stale) stream.
    """

    def __init__(
        self,
        *,
        unsupported: Mapping[int, str],
        require_start: bool = False,
        producer_stop: ProducerStop = ProducerStop.ESTOP,
        new_session_gap_s: float = 1.0,
    ) -> None:
        self._unsupported = dict(unsupported)
        self._require_start = require_start
        self._producer_stop = producer_stop
        self._gap_s = new_session_gap_s
        self.phase = SessionPhase.IDLE
        self.session = 0
        """Number of the current (or last) stream; each open attempt takes a new one."""
        self.version: int | None = None
        self.stopped_reason = ""
        self.is_planner_mode = False
        self.is_start_armed = False
        self.streams_started = 0
        self._last_message_s = -math.inf
        self._heading_rad = 0.0

    # ------------------------------------------------------------------ pose messages
    def on_pose(self, message: PoseMessage, now_s: float, robot: RobotView) -> Step:
        gap = now_s - self._last_message_s
        self._last_message_s = now_s
        if gap >= self._gap_s and self.phase is not SessionPhase.IDLE:
            self._to_idle()  # the producer paused: whatever came before is over
        if self.is_planner_mode:
            return Step(StepKind.REFUSE, RefusalCause.PLANNER_MODE,
                        "the producer selected planner mode and there is no kinematic planner "
                        "on this robot: pose frames are not tracked")  # fmt: skip
        if self.phase is SessionPhase.STOPPED:
            return Step(StepKind.REFUSE, RefusalCause.STREAM_STOPPED,
                        f"{self.stopped_reason}; a new stream starts after the producer is "
                        f"silent for {self._gap_s:g} s, sends start, or the robot is enabled "
                        "again")  # fmt: skip
        if self.phase is SessionPhase.ACTIVE:
            if message.version != self.version:
                reason = (f"protocol changed from v{self.version} to v{message.version} within "
                          "a stream")  # fmt: skip
                self._stop(reason)
                detail = f"{reason}: streaming stopped; the robot holds, then damps"
                return Step(StepKind.FAULT, RefusalCause.VERSION_CHANGED, detail)
            return Step(StepKind.FORWARD)
        return self._try_open(message.version, robot)

    def _try_open(self, version: int, robot: RobotView) -> Step:
        refusal = self._unsupported.get(version)
        if refusal:
            return Step(StepKind.REFUSE, RefusalCause.PROTOCOL_UNSUPPORTED, refusal)
        if self._require_start and not self.is_start_armed:
            return Step(StepKind.REFUSE, RefusalCause.START_REQUIRED,
                        "streaming.require_start is set: the producer must send start "
                        "(command topic) first")  # fmt: skip
        take_over = False
        if robot.is_streaming:
            return Step(StepKind.REFUSE, RefusalCause.NOT_HOLDING,
                        "the previous stream is still ending")  # fmt: skip
        if robot.mode == "TRACK":
            if not self.is_start_armed:
                return Step(StepKind.REFUSE, RefusalCause.MOTION_RUNNING,
                            "a motion package is playing; the producer's start command takes "
                            "over from it (or stop the motion first)")  # fmt: skip
            take_over = True
        elif robot.mode != "HOLD":
            return Step(StepKind.REFUSE, RefusalCause.NOT_HOLDING,
                        f"mode is {robot.mode}; a stream starts from HOLD "
                        f"({_enable_hint(robot.mode)})")  # fmt: skip
        self.session += 1
        self.version = version
        return Step(StepKind.FORWARD, is_open=True, take_over=take_over)

    def opened(self, accepted: bool) -> None:
        """The control process answered the open."""
        if accepted:
            self.phase = SessionPhase.ACTIVE
            self.is_start_armed = False
            self.streams_started += 1
        else:
            self.version = None

    def ended(self, reason: str) -> None:
        """The control process no longer plays this stream (it refused frames for it)."""
        if self.phase is SessionPhase.ACTIVE:
            self._stop(f"the robot ended the stream: {reason}")

    def robot_enabled(self) -> None:
        """The robot was enabled again (RAMP): an operator's go for a new stream."""
        if self.phase is SessionPhase.STOPPED:
            self._to_idle()

    def take_heading(self) -> float:
        """Heading from ``delta_heading`` commands since the last call (rad)."""
        value, self._heading_rad = self._heading_rad, 0.0
        return value

    # ------------------------------------------------------------------ commands
    def on_command(self, command: ProducerCommand) -> list[Step]:
        steps: list[Step] = []
        if command.stop:
            self.is_start_armed = False
            if self._producer_stop is ProducerStop.ESTOP:
                if self.phase is SessionPhase.ACTIVE:
                    self._stop("the producer sent stop (e-stop)")
                return [Step(StepKind.ESTOP, detail="the producer sent stop")]
            if self.phase is SessionPhase.ACTIVE:
                steps.append(Step(StepKind.CLOSE))
                self._stop("the producer sent stop")
            return steps
        if command.delta_heading_rad is not None and math.isfinite(command.delta_heading_rad):
            self._heading_rad += command.delta_heading_rad
        if command.planner != self.is_planner_mode:
            self.is_planner_mode = command.planner
            if command.planner and self.phase is SessionPhase.ACTIVE:
                steps.append(Step(StepKind.CLOSE))
                self._to_idle()
        if command.start:
            self.is_start_armed = True
            if self.phase is SessionPhase.STOPPED:
                self._to_idle()
        return steps

    # ------------------------------------------------------------------ internals
    def _stop(self, reason: str) -> None:
        self.phase = SessionPhase.STOPPED
        self.stopped_reason = reason

    def _to_idle(self) -> None:
        self.phase = SessionPhase.IDLE
        self.version = None
        self.stopped_reason = ""

    def status(self) -> dict[str, Any]:
        return {
            "phase": self.phase.value,
            "session": self.session,
            "protocol": self.version,
            "stopped_reason": self.stopped_reason,
            "is_planner_mode": self.is_planner_mode,
            "is_start_armed": self.is_start_armed,
            "streams_started": self.streams_started,
        }
