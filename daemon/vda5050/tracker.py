"""``instantActionStates``: every instant action received, its VDA status, and its errors.

Kept in arrival order and bounded: past ``capacity`` the oldest finished or failed action is
forgotten, together with the error entry tied to it. A status that reached FINISHED or FAILED
never changes again, so a late command result or mode event cannot revive an action.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from daemon.vda5050.actions import ErrorType


class ActionStatus(enum.Enum):
    """VDA 5050 ``actionStatus`` (RETRIABLE is not used: nothing here is retried)."""

    WAITING = "WAITING"
    INITIALIZING = "INITIALIZING"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"

    @property
    def is_terminal(self) -> bool:
        return self in (ActionStatus.FINISHED, ActionStatus.FAILED)


@dataclass
class ActionRecord:
    action_id: str
    action_type: str
    status: ActionStatus
    descriptor: str | None = None
    result: str | None = None
    error: dict[str, Any] | None = None
    """The VDA error entry this action raised (rejection or failure), listed in ``errors``."""


class ActionTracker:
    """The robot's instant action states, in arrival order."""

    def __init__(self, *, capacity: int) -> None:
        self._capacity = capacity
        self._records: dict[str, ActionRecord] = {}

    def __contains__(self, action_id: str) -> bool:
        return action_id in self._records

    def add(
        self,
        action_id: str,
        action_type: str,
        status: ActionStatus = ActionStatus.WAITING,
        *,
        descriptor: str | None = None,
    ) -> bool:
        """Record a new action; False (and no change) if its id is already known."""
        if action_id in self._records:
            return False
        self._records[action_id] = ActionRecord(action_id, action_type, status, descriptor)
        self._trim()
        return True

    def status(self, action_id: str) -> ActionStatus | None:
        record = self._records.get(action_id)
        return record.status if record else None

    def is_live(self, action_id: str) -> bool:
        status = self.status(action_id)
        return status is not None and not status.is_terminal

    def set(self, action_id: str, status: ActionStatus, result: str | None = None) -> bool:
        """Move a live action to ``status``; False if it is unknown or already terminal."""
        record = self._records.get(action_id)
        if record is None or record.status.is_terminal:
            return False
        record.status = status
        if result is not None:
            record.result = result
        return True

    def fail(
        self,
        action_id: str,
        error_type: ErrorType,
        description: str,
        *,
        hint: str = "",
        level: str = "WARNING",
    ) -> bool:
        """FAILED with an error entry that says why (referencing the action)."""
        record = self._records.get(action_id)
        if record is None or record.status.is_terminal:
            return False
        record.status = ActionStatus.FAILED
        record.result = description
        record.error = {
            "errorType": error_type.value,
            "errorLevel": level,
            "errorDescription": description,
            "errorReferences": [{"referenceKey": "actionId", "referenceValue": action_id}],
        }
        if record.action_type:
            record.error["errorReferences"].append(
                {"referenceKey": "actionType", "referenceValue": record.action_type}
            )
        if hint:
            record.error["errorHint"] = hint
        return True

    def waiting(self, action_type: str) -> list[str]:
        """Ids of the actions of ``action_type`` that are still WAITING (not yet started)."""
        return [
            r.action_id
            for r in self._records.values()
            if r.action_type == action_type and r.status is ActionStatus.WAITING
        ]

    def clear_finished(self) -> None:
        """Forget terminal actions and their errors (``clearInstantActions``)."""
        self._records = {k: r for k, r in self._records.items() if not r.status.is_terminal}

    def states(self) -> list[dict[str, Any]]:
        """``instantActionStates`` entries."""
        out = []
        for record in self._records.values():
            entry: dict[str, Any] = {
                "actionId": record.action_id,
                "actionStatus": record.status.value,
            }
            if record.action_type:
                entry["actionType"] = record.action_type
            if record.descriptor is not None:
                entry["actionDescriptor"] = record.descriptor
            if record.result is not None:
                entry["actionResult"] = record.result
            out.append(entry)
        return out

    def errors(self) -> list[dict[str, Any]]:
        return [dict(r.error) for r in self._records.values() if r.error is not None]

    def _trim(self) -> None:
        while len(self._records) > self._capacity:
            victim = next(
                (k for k, r in self._records.items() if r.status.is_terminal),
                next(iter(self._records)),
            )
            del self._records[victim]
