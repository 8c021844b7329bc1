"""The seam between the control loop and whatever follows a reference in TRACK mode.

Implementations: the built-in joint-space PD tracker (``controller.pd_tracker``) and the SONIC
policy. The supervisor owns the final command: a controller only *proposes* body targets and
gains; limits, clamps and non-finite checks happen after it.
"""

from __future__ import annotations

import enum
from typing import Protocol

from controller.robot.base import RobotCommand, RobotState
from controller.safety import Cause
from estimators.track import TrackView


class ControllerKind(enum.Enum):
    PD_TRACKER = "pd_tracker"
    SONIC = "sonic"


class TrackingController(Protocol):
    """Follows a reference track (complete or streamed) one 50 Hz frame at a time."""

    kind: ControllerKind

    @property
    def last_fault_cause(self) -> Cause | None:
        """After ``step``: None when the proposal is usable, else why not (the supervisor damps)."""
        ...

    def stream_refusal(self, protocol: int) -> str:
        """Why a stream of SONIC protocol ``protocol`` cannot be followed ("" when it can)."""
        ...

    def prepare(self, track: TrackView) -> None:
        """Precompute per-track data when a track is loaded, off the control path."""
        ...

    def start(self, track: TrackView, state: RobotState) -> None:
        """Called once on entering TRACK (e.g. heading alignment, history reset). May allocate."""
        ...

    def step(self, state: RobotState, frame: int, out: RobotCommand) -> None:
        """Propose body ``q, dq, kp, kd, tau`` (hardware order) for ``frame`` into ``out``.

        Runs inside the tick: no allocation, no I/O, no exceptions for ordinary input. Hand
        fields of ``out`` are ignored (hands follow the track through the hand shaper).
        """
        ...
