"""Errors that belong to no action: their lifetimes, so the ``errors`` list stays short.

Every entry in a state's ``errors`` has a documented lifetime (README "Errors and their
lifetimes"):

- condition errors (e-stop, safety fault, control process down, latch not durable) last while
  the condition does: ``robot_view.status_errors`` computes them from each status;
- an instant action's error is kept with its action (``tracker.ActionTracker``): until a later
  action of the same type finishes, ``clearInstantActions``, or ``error_ttl_s``;
- message errors (this book, ``ErrorGroup.MESSAGE``: a reused actionId, a retained command)
  last ``error_ttl_s``; the same key replaces its older entry, and only the newest
  ``max_action_errors`` are listed;
- order errors (``ErrorGroup.ORDER``: an order rejected, VDA 5050 §6.1.4) last until an order
  is accepted, as VDA 5050's table of predefined errors says; a newer rejection of the same
  errorType replaces the older one, so at most one per type is listed.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class ErrorGroup(enum.Enum):
    MESSAGE = "message"
    """Listed ``ttl_s`` at most (and at most ``max_entries`` of them, the newest)."""
    ORDER = "order"
    """Listed until ``clear(ErrorGroup.ORDER)`` (an order accepted)."""


@dataclass
class _Entry:
    group: ErrorGroup
    error: dict[str, Any]
    raised_s: float


class ErrorBook:
    """Keyed error entries with the lifetimes above.

    Args:
        ttl_s: How long a MESSAGE error is listed.
        max_entries: How many MESSAGE errors are listed at most (the newest).
        clock: Monotonic seconds.
    """

    def __init__(self, *, ttl_s: float, max_entries: int, clock: Callable[[], float]) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._entries: dict[str, _Entry] = {}

    def add(self, group: ErrorGroup, key: str, error: dict[str, Any]) -> None:
        """List ``error``; an entry with the same ``key`` is replaced (and listed last)."""
        self._entries.pop(key, None)
        self._entries[key] = _Entry(group, error, self._clock())
        self._expire()

    def remove(self, key: str) -> None:
        """The error's condition is resolved."""
        self._entries.pop(key, None)

    def clear(self, group: ErrorGroup) -> None:
        self._entries = {k: e for k, e in self._entries.items() if e.group is not group}

    def errors(self, group: ErrorGroup) -> list[dict[str, Any]]:
        """The listed errors of ``group``, oldest first."""
        self._expire()
        return [dict(e.error) for e in self._entries.values() if e.group is group]

    def _expire(self) -> None:
        now = self._clock()
        kept: dict[str, _Entry] = {}
        messages = [
            k
            for k, e in self._entries.items()
            if e.group is ErrorGroup.MESSAGE and now - e.raised_s < self._ttl_s
        ]
        newest = set(messages[-self._max_entries :])
        for key, entry in self._entries.items():
            if entry.group is not ErrorGroup.MESSAGE or key in newest:
                kept[key] = entry
        self._entries = kept


def error_entry(
    error_type: str,
    description: str,
    *,
    level: str = "WARNING",
    hint: str = "",
    references: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A VDA 5050 ``errors[]`` entry."""
    entry: dict[str, Any] = {
        "errorType": error_type,
        "errorLevel": level,
        "errorDescription": description,
        "errorReferences": [
            {"referenceKey": k, "referenceValue": v} for k, v in (references or {}).items()
        ],
    }
    if hint:
        entry["errorHint"] = hint
    return entry
