"""Instant actions (fleet -> robot): a strict parser (the action table is ``action_specs``).

The parser mirrors the official ``instantActions`` schema (which the project does not ship)
and adds what the schema cannot say: the message is addressed to this robot, the action type
is one this robot knows, and its parameters have the right keys and types. A message that
fails the envelope checks fails as a whole (every action in it is FAILED, nothing runs); an
action with an unknown type or bad parameters fails alone.

One deliberate exception: an ``emergencyStop`` anywhere in a message that decodes as JSON is
acted on even if the rest of the message is malformed (``ParsedInstantActions.has_emergency_stop``),
because stopping is always the safe direction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from daemon.fleet.vda5050.action_specs import (
    ACTION_SPECS,
    ActionSpec,
    ActionType,
    ErrorType,
    ParameterSpec,
    ValueType,
    parameter_problem,
    usage,
)
from daemon.fleet.vda5050.envelope import (
    EnvelopeError,
    Freshness,
    StaleMessageError,
    action_fingerprint,
    check_action_shape,
    check_fresh,
    check_header,
    parse_timestamp,
)
from daemon.fleet.vda5050.strict_json import JsonRejectedError, load_json

__all__ = [
    "ACTION_SPECS",
    "MAX_JSON_DEPTH",
    "ActionSpec",
    "ActionType",
    "ErrorType",
    "Freshness",
    "InstantAction",
    "ParameterSpec",
    "ParsedInstantActions",
    "RejectedAction",
    "ValueType",
    "action_fingerprint",
    "oversize_message",
    "parse_instant_actions",
    "parse_timestamp",
    "typed_action",
]


@dataclass(frozen=True)
class InstantAction:
    """One well-formed, supported instant action."""

    action_id: str
    action_type: ActionType
    parameters: Mapping[str, Any] = field(default_factory=dict)
    descriptor: str | None = None
    fingerprint: str = ""
    """The action object as sent (canonical JSON): with the message's timestamp, tells a
    redelivery of this very action from a new action that reuses its id."""

    def text(self, key: str) -> str | None:
        value = self.parameters.get(key)
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class RejectedAction:
    """An action (or a whole message) that is answered FAILED, and why."""

    action_id: str
    """The action's id; a synthetic ``message-<n>`` when the message had none to give."""
    action_type: str
    error_type: ErrorType
    description: str
    hint: str = ""
    fingerprint: str = ""
    """As ``InstantAction.fingerprint``."""


@dataclass(frozen=True)
class ParsedInstantActions:
    """The outcome of parsing one instantActions message."""

    actions: tuple[InstantAction, ...]
    rejected: tuple[RejectedAction, ...]
    has_emergency_stop: bool
    """Some action in the message asks for an e-stop (acted on even when it is malformed)."""
    header_id: int | None = None
    is_message_valid: bool = True
    """False: the envelope failed and every action in the message is rejected."""
    is_stale: bool = False
    """The message was refused for its timestamp (too old, or in the future)."""
    timestamp: str = ""
    """The header timestamp as sent ("" when unreadable)."""


MAX_JSON_DEPTH = 32
"""Deepest nesting accepted in a fleet message (VDA 5050's own messages need about 6)."""
# (strict JSON: NaN, Infinity, 1e400, 5,000-digit integers, duplicate keys, lone surrogates
# and deep nesting are typed rejections, see ``daemon.fleet.vda5050.strict_json``)

_MESSAGE_ID_PREFIX = "message-"


def parse_instant_actions(
    payload: bytes,
    *,
    manufacturer: str,
    serial_number: str,
    max_bytes: int = 65536,
    max_actions: int = 16,
    sequence: int = 0,
    freshness: Freshness | None = None,
) -> ParsedInstantActions:
    """Parse and validate an instantActions message addressed to this robot.

    Args:
        payload: The raw MQTT payload.
        manufacturer: This robot's manufacturer; the message must name it.
        serial_number: This robot's serial number; the message must name it.
        max_bytes: Larger payloads are refused unread.
        max_actions: More actions in one message are refused.
        sequence: A number that makes the synthetic action id unique when a message that
            cannot be parsed at all is answered (``message-<sequence>``).
        freshness: When set, a message whose header timestamp is older or further in the
            future than it allows is rejected (its e-stop is still acted on).
    """
    synthetic = f"{_MESSAGE_ID_PREFIX}{sequence}"
    if len(payload) > max_bytes:
        return _whole(synthetic, [], f"message of {len(payload)} bytes exceeds {max_bytes}")
    digest = hashlib.sha256(payload).hexdigest()
    try:
        document = load_json(payload, max_depth=MAX_JSON_DEPTH)
    except JsonRejectedError as exc:
        # Refused as a whole; an e-stop a lenient parser can read in it is still honoured.
        raw = _raw_actions(exc.partial)
        return _whole(
            synthetic,
            raw,
            f"not a JSON document this robot accepts [{exc.code.value}]: {exc.detail}",
            has_estop=_asks_for_estop(raw),
            fingerprint=digest,
        )
    raw_actions = _raw_actions(document)
    has_estop = _asks_for_estop(raw_actions)
    try:
        header_id = check_header(document, manufacturer, serial_number, required=("actions",))
        _check_actions_list(document["actions"], max_actions)
        if freshness is not None:
            check_fresh(document["timestamp"], freshness)
        for index, raw in enumerate(raw_actions):
            check_action_shape(f"actions[{index}]", raw)
        check_unique_ids(raw_actions)
    except EnvelopeError as exc:
        return _whole(
            synthetic,
            raw_actions,
            exc.description,
            has_estop=has_estop,
            is_stale=isinstance(exc, StaleMessageError),
            fingerprint=digest,
        )
    actions: list[InstantAction] = []
    rejected: list[RejectedAction] = []
    for raw in raw_actions:
        outcome = typed_action(raw)
        if isinstance(outcome, InstantAction):
            actions.append(outcome)
        else:
            rejected.append(outcome)
    return ParsedInstantActions(
        tuple(actions), tuple(rejected), has_estop, header_id, timestamp=document["timestamp"]
    )


def _asks_for_estop(raw_actions: list[Any]) -> bool:
    return any(
        isinstance(a, dict) and a.get("actionType") == ActionType.EMERGENCY_STOP.value
        for a in raw_actions
    )


def _raw_actions(document: Any) -> list[Any]:
    if isinstance(document, dict) and isinstance(document.get("actions"), list):
        return list(document["actions"])
    return []


def oversize_message(size_bytes: int, max_bytes: int, sequence: int) -> ParsedInstantActions:
    """The answer to a message refused for its size before it was kept (so never read)."""
    return _whole(
        f"{_MESSAGE_ID_PREFIX}{sequence}", [], f"message of {size_bytes} bytes exceeds {max_bytes}"
    )


def _whole(
    synthetic: str,
    raw_actions: list[Any],
    description: str,
    *,
    has_estop: bool = False,
    is_stale: bool = False,
    fingerprint: str = "",
) -> ParsedInstantActions:
    """Every action of a message that failed as a whole, FAILED with the same reason.

    ``fingerprint`` (the payload's digest) tells a redelivery of the message from another
    message reusing one of its action ids."""
    ids: list[tuple[str, str]] = []
    for raw in raw_actions:
        if isinstance(raw, dict) and isinstance(raw.get("actionId"), str) and raw["actionId"]:
            kind = raw.get("actionType")
            ids.append((raw["actionId"], kind if isinstance(kind, str) else ""))
    if not ids:
        ids.append((synthetic, ""))
    seen: set[str] = set()
    rejected = []
    for action_id, kind in ids:
        if action_id in seen:
            continue
        seen.add(action_id)
        rejected.append(
            RejectedAction(
                action_id,
                kind,
                ErrorType.VALIDATION,
                f"instantActions message rejected: {description}",
                "send a message that validates against the VDA 5050 v3 instantActions schema",
                fingerprint,
            )
        )
    return ParsedInstantActions(
        (), tuple(rejected), has_estop, is_message_valid=False, is_stale=is_stale
    )


def _check_actions_list(actions: Any, max_actions: int) -> None:
    if not isinstance(actions, list):
        raise EnvelopeError("actions must be an array")
    if len(actions) > max_actions:
        raise EnvelopeError(f"{len(actions)} actions exceed the limit of {max_actions}")


def check_unique_ids(raw_actions: list[Any]) -> None:
    """Every actionId non-empty and used once (raw actions whose shape was checked)."""
    seen: set[str] = set()
    for raw in raw_actions:
        action_id = raw["actionId"]
        if not action_id:
            raise EnvelopeError("an actionId is empty")
        if action_id in seen:
            raise EnvelopeError(f"actionId {action_id!r} appears twice")
        seen.add(action_id)


def typed_action(raw: dict[str, Any]) -> InstantAction | RejectedAction:
    """A shape-checked action object as an ``InstantAction``, or why it cannot be one."""
    action_id, kind = raw["actionId"], raw["actionType"]
    try:
        action_type = ActionType(kind)
    except ValueError:
        known = ", ".join(t.value for t in ActionType)
        return RejectedAction(
            action_id,
            kind,
            ErrorType.UNSUPPORTED_ACTION,
            f"action type {kind!r} is not supported by this robot",
            f"supported: {known} (see the factsheet)",
            action_fingerprint(raw),
        )
    spec = ACTION_SPECS[action_type]
    parameters: dict[str, Any] = {}
    for parameter in raw.get("actionParameters", []):
        parameters[parameter["key"]] = parameter["value"]
    problem = parameter_problem(spec, parameters, len(raw.get("actionParameters", [])))
    if problem:
        return RejectedAction(
            action_id,
            kind,
            ErrorType.INVALID_PARAMETER,
            f"{kind}: {problem}",
            usage(kind, spec),
            action_fingerprint(raw),
        )
    return InstantAction(
        action_id, action_type, parameters, raw.get("actionDescriptor"), action_fingerprint(raw)
    )
