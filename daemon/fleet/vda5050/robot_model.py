"""What the parts of the fleet model share: the supervisor as last seen, the pause, the actions.

``FleetState`` owns one ``RobotModel`` and hands it to ``MotionControl``; both read and write
it from the one event loop that drives the model (no locking: not thread-safe).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from daemon.control.control_link import ControlStatus
from daemon.fleet.vda5050.actions import ErrorType
from daemon.fleet.vda5050.config import FleetConfig
from daemon.fleet.vda5050.tracker import ActionTracker


@dataclass
class RobotModel:
    """The robot as the fleet model knows it."""

    config: FleetConfig
    tracker: ActionTracker
    status: ControlStatus = field(default_factory=lambda: ControlStatus(is_alive=False))
    """The newest status snapshot (its edges move the model; it may lag the events)."""
    mode: str = "PASSIVE"
    """The supervisor mode, from events first (snapshots may lag them)."""
    cause: str = "STARTUP"
    is_paused: bool = False
    """VDA ``paused``: set by startPause (with or without a motion), cleared by stopPause."""
    is_pause_pending: bool = False
    """A startPause is on its way to the control process: nothing new starts meanwhile (the
    track may end before the pause lands; the order's next action must not start then)."""
    is_state_requested: bool = False

    @property
    def is_holding_starts(self) -> bool:
        """Paused, or about to be: an order's next action waits."""
        return self.is_paused or self.is_pause_pending

    def refuse(self, action_id: str, description: str, *, level: str = "WARNING") -> None:
        """FAILED with an ``actionRefused`` error that gives the reason."""
        self.tracker.fail(action_id, ErrorType.ACTION_REFUSED, description, level=level)
