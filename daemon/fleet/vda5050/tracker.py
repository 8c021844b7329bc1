"""``instantActionStates`` and ``actionStates``: every action received, its status, its errors.

Instant actions are kept in arrival order and bounded: past ``capacity`` the oldest finished
or failed one is forgotten, together with the error entry tied to it. An order's actions
(``is_order``) are kept until the next order replaces them (VDA 5050: "the actionStates are
kept until a new order is received"). A status that reached FINISHED or FAILED
never changes again, so a late command result or mode event cannot revive an action.

An action's error entry (in ``state.errors``) lives shorter than its action state: it is
listed until a later action of the same type FINISHES (the same request later succeeded),
``clearInstantActions``, or ``error_ttl_s`` after it was raised, whichever comes first; and
only the newest ``max_errors`` are listed. The action state keeps its FAILED status and its
``actionResult`` (the reason) either way, so nothing is lost but clutter.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from daemon.fleet.vda5050.actions import ErrorType


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
    """The VDA error entry this action raised (rejection or failure), listed in ``errors``
    until it expires or is superseded (see the module docstring)."""
    error_raised_s: float = 0.0
    is_order: bool = False
    """An order's node action (``actionStates``), not an instant action."""
    identity: tuple[str, str] = ("", "")
    """Which message brought the action (its header timestamp, the action as sent): the same
    action in the same message again is a redelivery, anything else reusing the id is not."""


class ActionTracker:
    """The robot's instant action states, in arrival order.

    Args:
        capacity: Action states kept (the oldest terminal ones are forgotten first).
        error_ttl_s: How long an action's error entry is listed at most.
        max_errors: How many action error entries are listed at most (the newest).
        clock: Monotonic seconds.
    """

    def __init__(
        self,
        *,
        capacity: int,
        error_ttl_s: float = float("inf"),
        max_errors: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._capacity = capacity
        self._error_ttl_s = error_ttl_s
        self._max_errors = capacity if max_errors is None else max_errors
        self._clock = clock
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
        identity: tuple[str, str] = ("", ""),
        is_order: bool = False,
    ) -> bool:
        """Record a new action; False (and no change) if its id is already known."""
        if action_id in self._records:
            return False
        self._records[action_id] = ActionRecord(
            action_id, action_type, status, descriptor, is_order=is_order, identity=identity
        )
        self._trim()
        return True

    def forget_order_actions(self) -> None:
        """Drop the previous order's action states (a new order was accepted)."""
        self._records = {k: r for k, r in self._records.items() if not r.is_order}

    def identity(self, action_id: str) -> tuple[str, str] | None:
        """The known action's identity (see ``ActionRecord.identity``), None if unknown."""
        record = self._records.get(action_id)
        return record.identity if record else None

    def action_type(self, action_id: str) -> str:
        record = self._records.get(action_id)
        return record.action_type if record else ""

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
        if status is ActionStatus.FINISHED and record.action_type:
            self._supersede_errors(record)
        return True

    def _supersede_errors(self, finished: ActionRecord) -> None:
        """Earlier errors of the same action type are over: the same request succeeded."""
        for record in self._records.values():
            if record is finished:
                return
            if record.action_type == finished.action_type:
                record.error = None

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
        record.error_raised_s = self._clock()
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

    def live(self) -> list[tuple[str, str]]:
        """(actionId, actionType) of every action not yet FINISHED or FAILED."""
        return [
            (r.action_id, r.action_type) for r in self._records.values() if not r.status.is_terminal
        ]

    def clear_finished(self) -> None:
        """Forget terminal instant actions and their errors (``clearInstantActions``)."""
        self._records = {
            k: r for k, r in self._records.items() if r.is_order or not r.status.is_terminal
        }

    def states(self, *, is_order: bool = False) -> list[dict[str, Any]]:
        """``instantActionStates`` entries (``actionStates`` ones with ``is_order``)."""
        out = []
        for record in self._records.values():
            if record.is_order is not is_order:
                continue
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
        """The listed error entries, oldest first (expired ones are dropped for good)."""
        now = self._clock()
        listed = []
        for record in self._records.values():
            if record.error is None:
                continue
            if now - record.error_raised_s >= self._error_ttl_s:
                record.error = None
                continue
            listed.append(record.error)
        return [dict(e) for e in listed[-self._max_errors :]]

    def _trim(self) -> None:
        instant = [k for k, r in self._records.items() if not r.is_order]
        while len(instant) > self._capacity:
            victim = next((k for k in instant if self._records[k].status.is_terminal), instant[0])
            instant.remove(victim)
            del self._records[victim]
