"""The daemon's view of the control process: the ``ControlLink`` Protocol and its data.

The control process (``controller.process``) runs the 50 Hz loop; the daemon reaches it only
through this seam. The production implementation talks ZeroMQ ``ipc://`` to a child process
(``daemon.control.control_ipc``); unit tests use ``InMemoryControlLink``, which runs the same
supervisor logic without a process.

Commands answer with a ``CommandResult``; the e-stop answers nothing and never waits behind
other commands. Status arrives as ``ControlStatus`` snapshots (at least 10 Hz while the control
process lives) and ``ModeEvent``s (every supervisor transition, as it happens).
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from controller.estop_latch import EstopOrigin, ResetRequester
from estimators.track import ReferenceTrack


class CommandKind(enum.Enum):
    ENABLE = "enable"
    """PASSIVE or DAMP -> RAMP to the default pose."""
    DAMP = "damp"
    RESET_ESTOP = "reset_estop"
    LOAD_TRACK = "load_track"
    START_TRACK = "start_track"
    """HOLD -> TRACK with the loaded track (from ``start_frame``)."""
    STOP_TRACK = "stop_track"
    """TRACK -> HOLD."""
    PAUSE = "pause"
    """TRACK -> HOLD, remembering the frame so RESUME continues there."""
    RESUME = "resume"


@dataclass(frozen=True)
class CommandResult:
    accepted: bool
    reason: str = ""
    """Why a command was refused (e.g. "mode is PASSIVE; enable first")."""
    code: str = ""
    """A stable code for the refusal, where the control process gives one (stream commands,
    ``daemon.inputs.stream_control``)."""


@dataclass(frozen=True)
class ModeEvent:
    """One supervisor transition, as recorded by the control process."""

    tick: int
    mode: str
    """``controller.safety.Mode`` name."""
    cause: str
    """``controller.safety.Cause`` name."""
    detail: int = -1


@dataclass(frozen=True)
class TimingFigures:
    """Loop timing over the last reporting window (milliseconds)."""

    lateness_p50_ms: float = 0.0
    lateness_p99_ms: float = 0.0
    lateness_max_ms: float = 0.0
    compute_p99_ms: float = 0.0
    misses: int = 0
    ticks: int = 0


@dataclass(frozen=True)
class ControlStatus:
    """Latest snapshot of the control process."""

    is_alive: bool
    mode: str = "PASSIVE"
    last_cause: str = "STARTUP"
    is_estopped: bool = False
    loaded_package: str | None = None
    track_frame: int = -1
    track_frames: int = 0
    is_paused: bool = False
    ticks: int = 0
    state_age_ms: float = float("inf")
    """Age of the newest robot state at the last tick; READY waits for it to be small."""
    timing: TimingFigures = field(default_factory=TimingFigures)
    tracking_rms_rad: float = 0.0
    """RMS body-joint tracking error over the last window in TRACK (telemetry)."""
    restarts: int = 0
    estop_origin: str = ""
    """``controller.estop_latch.EstopOrigin`` value of the engaged e-stop ("" when none)."""
    is_latch_durable: bool = True
    """False while an e-stop latch write has failed (full or read-only disk): reset and enable
    are refused until it is on disk."""
    latch_error: str = ""
    robot: dict[str, Any] = field(default_factory=dict)
    """The robot backend's bus counters and battery figure (empty for the simulator)."""
    stream: dict[str, Any] = field(default_factory=dict)
    """The control process's stream figures: session (-1: none), protocol, lag_ms, rate,
    starved_ticks, jumps (``controller.process.stream_commands``)."""

    @property
    def battery_soc_pct(self) -> float | None:
        """The robot's battery charge (DDS ``rt/lf/bmsstate``), None when unknown."""
        soc = self.robot.get("battery_soc_pct")
        return float(soc) if isinstance(soc, (int, float)) else None


class ControlLink(Protocol):
    """Commands to and status from the control process."""

    async def estop(self, origin: EstopOrigin) -> None:
        """Engage the e-stop now: sent ahead of anything queued, damping written on arrival.

        ``origin`` is persisted with the latch and decides who may reset it."""
        ...

    def estop_now(self, origin: EstopOrigin, message_id: str = "") -> bool:
        """``estop`` without awaiting, for callers that must not yield (the fleet's fast lane
        runs inside the MQTT client's message callback). False when it could not be queued.

        ``message_id`` names the message that asked for it (``estop_message_id``): the same
        message arriving again by another path (the e-stop relay, or a redelivery) engages
        only once, so a late copy cannot re-engage an e-stop that was reset meanwhile."""
        ...

    async def command(
        self,
        kind: CommandKind,
        *,
        start_frame: int = 0,
        requester: ResetRequester = ResetRequester.FLEET,
    ) -> CommandResult:
        """Any command but LOAD_TRACK and the e-stop. ``requester`` matters for RESET_ESTOP:
        only the robot side (``ROBOT``) may clear an e-stop engaged at the robot."""
        ...

    async def load_track(self, package_id: str, track: ReferenceTrack) -> CommandResult: ...

    def status(self) -> ControlStatus:
        """The newest snapshot (``is_alive`` False while the control process is down)."""
        ...

    def events(self) -> AsyncIterator[ModeEvent]:
        """Supervisor transitions as they happen, for the fleet state topic."""
        ...
