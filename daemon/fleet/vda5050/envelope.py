"""What every fleet command shares: the VDA 5050 header, freshness, and the action object.

Sans-I/O checks used by the instantActions parser (``daemon.fleet.vda5050.actions``) and the order
parser (``daemon.fleet.vda5050.orders``). Each raises ``EnvelopeError`` (``StaleMessageError`` for a
timestamp outside the freshness window) with a description the fleet can act on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from daemon.fleet.vda5050.config import PROTOCOL_VERSION

HEADER_FIELDS = ("headerId", "timestamp", "version", "manufacturer", "serialNumber")
JSON_VALUE_TYPES = (list, bool, int, float, str, dict)
INSTANT_BLOCKING = frozenset({"NONE"})
"""An instant action's only blockingType."""
ORDER_BLOCKING = frozenset({"NONE", "SOFT", "SINGLE", "HARD"})


class EnvelopeError(Exception):
    """A message fails a check that makes it unusable as a whole.

    Attributes:
        description: What is wrong, for the error entry.
    """

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class StaleMessageError(EnvelopeError):
    """The message's timestamp is outside the freshness window."""


@dataclass(frozen=True)
class Freshness:
    """When a command is too old or too far in the future to be acted on.

    A command queued in a fleet client during a broker outage, or replayed, must not move the
    robot long after it was issued; one stamped in the future means a clock that cannot be
    trusted. The e-stop is the exception: it is engaged whatever its timestamp.
    """

    now: datetime
    """The robot's UTC time when the message arrived."""
    max_age_s: float
    max_future_s: float = 2.0
    """Clock skew tolerated between fleet and robot."""


def check_header(
    document: Any, manufacturer: str, serial_number: str, *, required: tuple[str, ...] = ()
) -> int:
    """Check the VDA 5050 header (and that ``required`` fields are present); the headerId.

    Raises:
        EnvelopeError: the message is not an object, misses a field, has a wrong type, another
            major version, or is addressed to another robot.
    """
    if not isinstance(document, dict):
        raise EnvelopeError("the message is not a JSON object")
    for key in (*HEADER_FIELDS, *required):
        if key not in document:
            raise EnvelopeError(f"required field {key!r} is missing")
    header_id = document["headerId"]
    if not isinstance(header_id, int) or isinstance(header_id, bool):
        raise EnvelopeError("headerId must be an integer")
    for key in ("timestamp", "version", "manufacturer", "serialNumber"):
        if not isinstance(document[key], str):
            raise EnvelopeError(f"{key} must be a string")
    if document["version"].split(".")[0] != PROTOCOL_VERSION.split(".")[0]:
        raise EnvelopeError(f"version {document['version']!r} is not {PROTOCOL_VERSION[0]}.x")
    if document["manufacturer"] != manufacturer or document["serialNumber"] != serial_number:
        raise EnvelopeError(
            f"addressed to {document['manufacturer']}/{document['serialNumber']}, "
            f"not {manufacturer}/{serial_number}"
        )
    return header_id


def check_fresh(timestamp: str, freshness: Freshness) -> None:
    """Raises ``StaleMessageError`` outside the window, ``EnvelopeError`` for a bad time."""
    issued = parse_timestamp(timestamp)
    if issued is None:
        raise EnvelopeError(f"timestamp {timestamp[:40]!r} is not an ISO 8601 UTC time")
    age_s = (freshness.now - issued).total_seconds()
    if age_s > freshness.max_age_s:
        raise StaleMessageError(
            f"stale: issued {age_s:.1f} s ago, commands expire after {freshness.max_age_s:g} s"
        )
    if -age_s > freshness.max_future_s:
        raise StaleMessageError(
            f"timestamp {-age_s:.1f} s in the future (more than the {freshness.max_future_s:g} s "
            "clock skew allowed): check the fleet's and the robot's clocks"
        )


def parse_timestamp(text: str) -> datetime | None:
    """A VDA 5050 timestamp (ISO 8601, ``Z`` or an offset) as an aware UTC datetime, or None."""
    if len(text) > 40:
        return None
    candidate = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        moment = datetime.fromisoformat(candidate)  # 3.10 accepts no "Z": replaced above
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None  # VDA 5050 timestamps are UTC and say so
    return moment.astimezone(timezone.utc)


def check_action_shape(
    where: str, raw: Any, *, blocking_types: frozenset[str] = INSTANT_BLOCKING
) -> None:
    """An action object's shape (VDA 5050 ``action``), ``where`` naming it in errors."""
    if not isinstance(raw, dict):
        raise EnvelopeError(f"{where} is not an object")
    for key in ("actionId", "actionType", "blockingType"):
        if key not in raw:
            raise EnvelopeError(f"{where}: required field {key!r} is missing")
    for key in ("actionId", "actionType"):
        if not isinstance(raw[key], str):
            raise EnvelopeError(f"{where}.{key} must be a string")
    blocking = raw["blockingType"]
    if not isinstance(blocking, str) or blocking not in blocking_types:
        if blocking_types == INSTANT_BLOCKING:
            raise EnvelopeError(f"{where}.blockingType must be NONE for an instant action")
        allowed = ", ".join(sorted(blocking_types))
        raise EnvelopeError(f"{where}.blockingType must be one of {allowed}")
    if "actionDescriptor" in raw and not isinstance(raw["actionDescriptor"], str):
        raise EnvelopeError(f"{where}.actionDescriptor must be a string")
    parameters = raw.get("actionParameters", [])
    if not isinstance(parameters, list):
        raise EnvelopeError(f"{where}.actionParameters must be an array")
    for p_index, parameter in enumerate(parameters):
        p_where = f"{where}.actionParameters[{p_index}]"
        if not isinstance(parameter, dict) or "key" not in parameter or "value" not in parameter:
            raise EnvelopeError(f"{p_where} must be an object with key and value")
        if not isinstance(parameter["key"], str):
            raise EnvelopeError(f"{p_where}.key must be a string")
        if not isinstance(parameter["value"], JSON_VALUE_TYPES):
            raise EnvelopeError(f"{p_where}.value must not be null")


def action_fingerprint(raw: dict[str, Any]) -> str:
    """An action object as sent, canonical (key order and spacing do not matter). Only for
    documents that passed ``load_json`` (bounded depth, finite numbers)."""
    return json.dumps(raw, sort_keys=True, separators=(",", ":"))
