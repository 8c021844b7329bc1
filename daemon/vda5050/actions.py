"""Instant actions (fleet -> robot): the supported action types and a strict parser.

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

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from daemon.vda5050.config import PROTOCOL_VERSION
from daemon.vda5050.strict_json import JsonRejectedError, load_json


class ActionType(enum.Enum):
    """Instant action types this robot executes (VDA 5050 predefined ones and custom ones)."""

    START_PAUSE = "startPause"
    STOP_PAUSE = "stopPause"
    CANCEL_ORDER = "cancelOrder"
    STATE_REQUEST = "stateRequest"
    FACTSHEET_REQUEST = "factsheetRequest"
    CLEAR_INSTANT_ACTIONS = "clearInstantActions"
    LOAD_MOTION = "loadMotion"
    START_MOTION = "startMotion"
    STOP_MOTION = "stopMotion"
    EMERGENCY_STOP = "emergencyStop"
    RESET_EMERGENCY_STOP = "resetEmergencyStop"
    GENERATE_MOTION = "generateMotion"


class ErrorType(enum.Enum):
    """``errors[].errorType`` values this robot reports (VDA 5050's list is extensible)."""

    VALIDATION = "validationError"
    """A message that fails the schema, is not JSON, or is addressed to another robot."""
    UNSUPPORTED_ACTION = "unsupportedActionType"
    INVALID_PARAMETER = "invalidActionParameter"
    NO_ORDER_TO_CANCEL = "noOrderToCancel"
    ACTION_REFUSED = "actionRefused"
    """The control process refused the command behind an action (its reason is given)."""
    UNKNOWN_PACKAGE = "unknownMotionPackage"
    EMERGENCY_STOP = "emergencyStop"
    SAFETY_FAULT = "safetyFault"
    CONTROL_PROCESS_DOWN = "controlProcessDown"
    ESTOP_LATCH_NOT_DURABLE = "estopLatchNotDurable"
    """The e-stop could not be written to disk: it holds in memory; reset is refused."""
    DUPLICATE_ACTION_ID = "duplicateActionId"
    """An actionId already used by an earlier message: the new action is not executed."""


class ValueType(enum.Enum):
    """Factsheet ``valueDataType`` of an action parameter."""

    STRING = "STRING"
    INTEGER = "INTEGER"
    NUMBER = "NUMBER"
    BOOL = "BOOL"


@dataclass(frozen=True)
class ParameterSpec:
    key: str
    value_type: ValueType
    description: str
    is_optional: bool = False


@dataclass(frozen=True)
class ActionSpec:
    """What the factsheet says about one action type, and what the parser checks."""

    description: str
    result: str
    parameters: tuple[ParameterSpec, ...] = ()
    is_pause_allowed: bool = False
    is_cancel_allowed: bool = False


_PACKAGE_ID = "packageId"

ACTION_SPECS: Mapping[ActionType, ActionSpec] = {
    ActionType.START_PAUSE: ActionSpec(
        "Pause: a running motion stops where it is and holds (resumable); no motion starts.",
        "FINISHED once paused",
    ),
    ActionType.STOP_PAUSE: ActionSpec(
        "End the pause: a paused motion resumes at the frame where it paused.", "FINISHED"
    ),
    ActionType.CANCEL_ORDER: ActionSpec(
        "Stop the running or pending motion (it is reported FAILED); RUNNING until the robot "
        "holds, then FINISHED. FAILED with noOrderToCancel when nothing runs.",
        "FINISHED once holding",
    ),
    ActionType.STATE_REQUEST: ActionSpec("Publish a state message now.", "FINISHED"),
    ActionType.FACTSHEET_REQUEST: ActionSpec("Publish the factsheet now.", "FINISHED"),
    ActionType.CLEAR_INSTANT_ACTIONS: ActionSpec(
        "Forget finished and failed instant action states and the errors tied to them.",
        "FINISHED",
    ),
    ActionType.LOAD_MOTION: ActionSpec(
        "Load a stored motion package into the control process (refused while one runs).",
        "FINISHED once loaded",
        (ParameterSpec(_PACKAGE_ID, ValueType.STRING, "id of an accepted motion package"),),
    ),
    ActionType.START_MOTION: ActionSpec(
        "Start a motion: loads packageId when given, ramps the robot to its default pose when "
        "it is passive or damped, then tracks. RUNNING while tracking, FINISHED at the end of "
        "the motion, FAILED if the supervisor leaves to DAMP or ESTOP.",
        "FINISHED when the motion completes",
        (
            ParameterSpec(
                _PACKAGE_ID,
                ValueType.STRING,
                "motion package to load first; absent: the loaded one",
                is_optional=True,
            ),
        ),
        is_pause_allowed=True,
        is_cancel_allowed=True,
    ),
    ActionType.STOP_MOTION: ActionSpec(
        "Stop tracking and hold the current pose.", "FINISHED once holding"
    ),
    ActionType.EMERGENCY_STOP: ActionSpec(
        "Engage the latched e-stop (damping) at once. A convenience stop: VDA 5050 is not a "
        "safety standard, the on-robot supervisor stays the authority.",
        "FINISHED once sent to the control process",
    ),
    ActionType.RESET_EMERGENCY_STOP: ActionSpec(
        "Clear a latched e-stop engaged over the fleet or the daemon; the robot rests damped.",
        "FINISHED once reset",
    ),
    ActionType.GENERATE_MOTION: ActionSpec(
        "Generate a motion from the robot's camera image and an instruction (embodiment "
        "transfer, task decomposition, video generation, motion estimation in the cloud), "
        "validate and store the package, load it, and start it when autoStart. RUNNING with the "
        "stage and progress in resultDescription; FAILED with the stage's error; cancelOrder "
        "cancels it.",
        "FINISHED once the package is loaded (and started with autoStart)",
        (
            ParameterSpec("instruction", ValueType.STRING, "the task, in plain words"),
            ParameterSpec(
                "view", ValueType.STRING, "camera view: front (default) or back", is_optional=True
            ),
            ParameterSpec(
                "autoStart", ValueType.BOOL, "start the motion when ready", is_optional=True
            ),
        ),
        is_cancel_allowed=True,
    ),
}


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


MAX_JSON_DEPTH = 32
"""Deepest nesting accepted in a fleet message (VDA 5050's own messages need about 6)."""
# (strict JSON: NaN, Infinity, 1e400, 5,000-digit integers, duplicate keys, lone surrogates
# and deep nesting are typed rejections, see ``daemon.vda5050.strict_json``)

_MESSAGE_ID_PREFIX = "message-"
_HEADER_FIELDS = ("headerId", "timestamp", "version", "manufacturer", "serialNumber")
_JSON_VALUE_TYPES = (list, bool, int, float, str, dict)


class _Invalid(Exception):  # noqa: N818 - internal control flow, never escapes the module
    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class _Stale(_Invalid):
    """The message's timestamp is outside the freshness window."""


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
        header_id = _check_envelope(document, manufacturer, serial_number, max_actions)
        if freshness is not None:
            _check_fresh(document["timestamp"], freshness)
        for index, raw in enumerate(raw_actions):
            _check_action_shape(index, raw)
        _check_unique_ids(raw_actions)
    except _Invalid as exc:
        return _whole(
            synthetic,
            raw_actions,
            exc.description,
            has_estop=has_estop,
            is_stale=isinstance(exc, _Stale),
            fingerprint=digest,
        )
    actions: list[InstantAction] = []
    rejected: list[RejectedAction] = []
    for raw in raw_actions:
        outcome = _typed_action(raw)
        if isinstance(outcome, InstantAction):
            actions.append(outcome)
        else:
            rejected.append(outcome)
    return ParsedInstantActions(
        tuple(actions), tuple(rejected), has_estop, header_id, timestamp=document["timestamp"]
    )


def action_fingerprint(raw: dict[str, Any]) -> str:
    """An action object as sent, canonical (key order and spacing do not matter). Only for
    documents that passed ``load_json`` (bounded depth, finite numbers)."""
    return json.dumps(raw, sort_keys=True, separators=(",", ":"))


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


def _check_envelope(document: Any, manufacturer: str, serial_number: str, max_actions: int) -> int:
    if not isinstance(document, dict):
        raise _Invalid("the message is not a JSON object")
    for key in (*_HEADER_FIELDS, "actions"):
        if key not in document:
            raise _Invalid(f"required field {key!r} is missing")
    header_id = document["headerId"]
    if not isinstance(header_id, int) or isinstance(header_id, bool):
        raise _Invalid("headerId must be an integer")
    for key in ("timestamp", "version", "manufacturer", "serialNumber"):
        if not isinstance(document[key], str):
            raise _Invalid(f"{key} must be a string")
    if document["version"].split(".")[0] != PROTOCOL_VERSION.split(".")[0]:
        raise _Invalid(f"version {document['version']!r} is not {PROTOCOL_VERSION[0]}.x")
    if document["manufacturer"] != manufacturer or document["serialNumber"] != serial_number:
        raise _Invalid(
            f"addressed to {document['manufacturer']}/{document['serialNumber']}, "
            f"not {manufacturer}/{serial_number}"
        )
    if not isinstance(document["actions"], list):
        raise _Invalid("actions must be an array")
    if len(document["actions"]) > max_actions:
        raise _Invalid(f"{len(document['actions'])} actions exceed the limit of {max_actions}")
    return header_id


def _check_fresh(timestamp: str, freshness: Freshness) -> None:
    issued = parse_timestamp(timestamp)
    if issued is None:
        raise _Invalid(f"timestamp {timestamp[:40]!r} is not an ISO 8601 UTC time")
    age_s = (freshness.now - issued).total_seconds()
    if age_s > freshness.max_age_s:
        raise _Stale(
            f"stale: issued {age_s:.1f} s ago, commands expire after {freshness.max_age_s:g} s"
        )
    if -age_s > freshness.max_future_s:
        raise _Stale(
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


def _check_action_shape(index: int, raw: Any) -> None:
    where = f"actions[{index}]"
    if not isinstance(raw, dict):
        raise _Invalid(f"{where} is not an object")
    for key in ("actionId", "actionType", "blockingType"):
        if key not in raw:
            raise _Invalid(f"{where}: required field {key!r} is missing")
    for key in ("actionId", "actionType"):
        if not isinstance(raw[key], str):
            raise _Invalid(f"{where}.{key} must be a string")
    if raw["blockingType"] != "NONE":
        raise _Invalid(f"{where}.blockingType must be NONE for an instant action")
    if "actionDescriptor" in raw and not isinstance(raw["actionDescriptor"], str):
        raise _Invalid(f"{where}.actionDescriptor must be a string")
    parameters = raw.get("actionParameters", [])
    if not isinstance(parameters, list):
        raise _Invalid(f"{where}.actionParameters must be an array")
    for p_index, parameter in enumerate(parameters):
        p_where = f"{where}.actionParameters[{p_index}]"
        if not isinstance(parameter, dict) or "key" not in parameter or "value" not in parameter:
            raise _Invalid(f"{p_where} must be an object with key and value")
        if not isinstance(parameter["key"], str):
            raise _Invalid(f"{p_where}.key must be a string")
        if not isinstance(parameter["value"], _JSON_VALUE_TYPES):
            raise _Invalid(f"{p_where}.value must not be null")


def _check_unique_ids(raw_actions: list[Any]) -> None:
    seen: set[str] = set()
    for raw in raw_actions:
        action_id = raw["actionId"]
        if not action_id:
            raise _Invalid("an actionId is empty")
        if action_id in seen:
            raise _Invalid(f"actionId {action_id!r} appears twice")
        seen.add(action_id)


def _typed_action(raw: dict[str, Any]) -> InstantAction | RejectedAction:
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
    problem = _parameter_problem(spec, parameters, len(raw.get("actionParameters", [])))
    if problem:
        return RejectedAction(
            action_id,
            kind,
            ErrorType.INVALID_PARAMETER,
            f"{kind}: {problem}",
            _usage(kind, spec),
            action_fingerprint(raw),
        )
    return InstantAction(
        action_id, action_type, parameters, raw.get("actionDescriptor"), action_fingerprint(raw)
    )


def _parameter_problem(spec: ActionSpec, parameters: dict[str, Any], count: int) -> str:
    if count != len(parameters):
        return "a parameter key appears twice"
    known = {p.key: p for p in spec.parameters}
    for key in parameters:
        if key not in known:
            return f"unknown parameter {key!r}"
    for p in spec.parameters:
        if p.key not in parameters:
            if not p.is_optional:
                return f"parameter {p.key!r} is required"
            continue
        if not _has_type(parameters[p.key], p.value_type):
            return f"parameter {p.key!r} must be {p.value_type.value}"
        if p.value_type is ValueType.STRING and not parameters[p.key]:
            return f"parameter {p.key!r} must not be empty"
    return ""


def _has_type(value: Any, value_type: ValueType) -> bool:
    if value_type is ValueType.STRING:
        return isinstance(value, str)
    if value_type is ValueType.BOOL:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if value_type is ValueType.INTEGER:
        return isinstance(value, int)
    return isinstance(value, (int, float))


def _usage(kind: str, spec: ActionSpec) -> str:
    if not spec.parameters:
        return f"{kind} takes no parameters"
    listed = ", ".join(
        f"{p.key} ({p.value_type.value}{', optional' if p.is_optional else ''})"
        for p in spec.parameters
    )
    return f"{kind} takes {listed}"
