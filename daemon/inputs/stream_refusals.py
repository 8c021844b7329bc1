"""Every streaming refusal in one place: one spelling per cause, logged at most once per cause
per interval, counted, and kept for ``exoactor-edge status`` and the fleet's state.

A producer that sends NaN at 50 Hz, or tokens the robot cannot follow, must not flood the
journal, and must not be silent either. Causes are stable strings: the decoder's
``StreamErrorCode`` values for malformed messages, ``RefusalCause`` values for messages that
are well formed but cannot be followed now. The first refusal of a cause is logged at once,
later ones at most every ``interval_s``, with how many were suppressed in between.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_LOG = logging.getLogger("daemon.inputs.streaming")


class RefusalCause(str, enum.Enum):
    """Why a well-formed stream message (or a producer command) was not followed."""

    NOT_HOLDING = "not_holding"
    """The robot is not holding (PASSIVE, RAMP, DAMP, ESTOP, or holding after a fault)."""
    PROTOCOL_UNSUPPORTED = "protocol_unsupported"
    """The configured controller cannot follow this protocol (e.g. v4 tokens without SONIC)."""
    VERSION_CHANGED = "version_changed"
    """The protocol version changed within a stream: it was stopped, the robot holds."""
    STREAM_STOPPED = "stream_stopped"
    """Messages of a stream that was stopped, until the producer pauses, starts or the robot is
    enabled again."""
    NO_BODY_POSE = "no_body_pose"
    """Frames with neither a usable ``smpl_pose`` nor usable ``smpl_joints`` (never a T-pose)."""
    PLANNER_MODE = "planner_mode"
    """The producer selected SONIC's planner mode; there is no kinematic planner here."""
    MOTION_RUNNING = "motion_running"
    """A motion package plays; a stream takes over only on the producer's start command."""
    START_REQUIRED = "start_required"
    """``require_start`` is set and the producer has not sent start."""
    CONTROL_REFUSED = "control_refused"
    """The control process refused for another reason (its reason is the detail)."""
    COMMAND = "command"
    """A producer command that could not be carried out."""


_LEVELS = {RefusalCause.VERSION_CHANGED.value: logging.ERROR}
_SUMMARIES = {
    RefusalCause.NOT_HOLDING.value: "the robot is not holding: streams start from HOLD",
    RefusalCause.PROTOCOL_UNSUPPORTED.value: "the configured controller cannot follow this "
    "protocol",
    RefusalCause.VERSION_CHANGED.value: "the protocol changed within a stream: stopped",
    RefusalCause.STREAM_STOPPED.value: "the stream was stopped; waiting for a new one",
    RefusalCause.NO_BODY_POSE.value: "frames without a body pose (never mapped to a T-pose)",
    RefusalCause.PLANNER_MODE.value: "the producer is in planner mode (no planner here)",
    RefusalCause.MOTION_RUNNING.value: "a motion package is playing",
    RefusalCause.START_REQUIRED.value: "waiting for the producer's start command",
    RefusalCause.CONTROL_REFUSED.value: "the control process refused the stream",
    RefusalCause.COMMAND.value: "a producer command could not be carried out",
}


@dataclass
class _Tally:
    count: int = 0
    suppressed: int = 0
    logged_at: float = -float("inf")
    last_at: float = 0.0
    last_detail: str = ""


class StreamRefusals:
    """Counts refusals per cause and rate-limits their log lines (thread-safe: the stream relay
    records, the event loop reads)."""

    def __init__(
        self, *, interval_s: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._interval_s = interval_s
        self._clock = clock
        self._tallies: dict[str, _Tally] = {}
        self._last: tuple[str, str] | None = None
        self._lock = threading.Lock()
        self.total = 0

    def refuse(self, cause: RefusalCause | str, detail: str) -> bool:
        """Record one refusal; returns True when it was logged (else it was counted only)."""
        key = cause.value if isinstance(cause, RefusalCause) else str(cause)
        with self._lock:
            now = self._clock()
            tally = self._tallies.setdefault(key, _Tally())
            tally.count += 1
            tally.last_at = now
            tally.last_detail = detail
            self._last = (key, detail)
            self.total += 1
            if now - tally.logged_at < self._interval_s:
                tally.suppressed += 1
                return False
            suppressed = tally.suppressed
            tally.logged_at = now
            tally.suppressed = 0
        more = f" ({suppressed} more since the last report)" if suppressed else ""
        _LOG.log(
            _LEVELS.get(key, logging.WARNING),
            "stream refused [%s]: %s%s",
            key,
            detail,
            more,
            extra={"CAUSE": key},
        )
        return True

    def snapshot(self) -> dict[str, Any]:
        """Totals and the newest refusal per cause (for ``exoactor-edge status``)."""
        with self._lock:
            return self._snapshot()

    def _snapshot(self) -> dict[str, Any]:
        now = self._clock()
        return {
            "refused": self.total,
            "last": None
            if self._last is None
            else {"cause": self._last[0], "detail": self._last[1]},
            "by_cause": {
                key: {
                    "count": t.count,
                    "last_detail": t.last_detail,
                    "last_age_s": round(now - t.last_at, 3),
                }
                for key, t in sorted(self._tallies.items())
            },
        }

    def recent(self, within_s: float) -> list[tuple[str, str]]:
        """``(cause, summary)`` of the causes refused within the last ``within_s``.

        The summary is fixed per cause (no counts, no figures): the fleet's state is re-sent
        when its information changes, and must not be re-sent for every refused message.
        """
        with self._lock:
            now = self._clock()
            return [
                (key, _SUMMARIES.get(key, f"malformed messages ({key})"))
                for key, t in sorted(self._tallies.items())
                if now - t.last_at <= within_s
            ]


def fleet_information(
    refusals: StreamRefusals, within_s: float = 10.0
) -> tuple[tuple[str, str], ...]:
    """``(infoType, infoDescriptor)`` pairs of recent refusals for the VDA 5050 state (the
    details and counts are in ``exoactor-edge status``)."""
    return tuple(
        ("streamRefusal", f"[{cause}] {summary}") for cause, summary in refusals.recent(within_s)
    )
