"""Orders (fleet -> robot): a strict parser for the subset a robot that does not drive runs.

The G1 under this daemon does not travel under fleet control, so an order is accepted only
as one node, the robot's own station (``FleetConfig.station_node_id``), released, without
edges; its node actions (``loadMotion``, ``startMotion``, ``stopMotion``, ``generateMotion``)
run one after another. Anything that asks for travel is refused with VDA 5050's own error
types: edges, more than one node or an unreleased node (a horizon) with ``NO_ROUTE_TO_TARGET``,
a node other than the station with ``START_NODE_OUT_OF_RANGE``.

The same defences as instantActions: strict JSON (``strict_json``), the header addressed to
this robot, freshness (``command_expiry_s``, ``max_clock_skew_s``), bounded sizes. Every
refusal is an ``OrderRejection`` with a VDA 5050 v3 predefined error type (§6.6.5.4); nothing
else escapes ``parse_order``. The rules that depend on the robot's current order (orderId and
orderUpdateId, VDA 5050 §6.1.2) are ``daemon.fleet.vda5050.order_control``'s.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

from daemon.fleet.vda5050.action_specs import ActionType
from daemon.fleet.vda5050.actions import (
    MAX_JSON_DEPTH,
    InstantAction,
    check_unique_ids,
    typed_action,
)
from daemon.fleet.vda5050.envelope import (
    ORDER_BLOCKING,
    EnvelopeError,
    Freshness,
    StaleMessageError,
    check_action_shape,
    check_fresh,
    check_header,
)
from daemon.fleet.vda5050.error_book import error_entry
from daemon.fleet.vda5050.strict_json import JsonRejectedError, load_json

MAX_ORDER_UPDATE_ID = 2**32 - 1
"""orderUpdateId is a uint32."""
MAX_NODES = 16
"""Nodes (and edges) read at most; more is a validation failure, one is all that can run."""

ORDER_ACTION_TYPES = frozenset(
    {
        ActionType.LOAD_MOTION,
        ActionType.START_MOTION,
        ActionType.STOP_MOTION,
        ActionType.GENERATE_MOTION,
    }
)
"""Actions that may sit on an order's node (the others are instant actions only)."""


class OrderErrorType(enum.Enum):
    """VDA 5050 v3 predefined error types (§6.6.5.4) this robot reports for orders."""

    VALIDATION_FAILURE = "VALIDATION_FAILURE"
    INVALID_ORDER_ACTION = "INVALID_ORDER_ACTION"
    UNSUPPORTED_PARAMETER = "UNSUPPORTED_PARAMETER"
    NO_ROUTE_TO_TARGET = "NO_ROUTE_TO_TARGET"
    START_NODE_OUT_OF_RANGE = "START_NODE_OUT_OF_RANGE"
    OUTDATED_ORDER_UPDATE = "OUTDATED_ORDER_UPDATE"
    SAME_ORDER_UPDATE_ID = "SAME_ORDER_UPDATE_ID"
    ORDER_UPDATE_FOLLOWING_CANCEL = "ORDER_UPDATE_FOLLOWING_CANCEL"
    OTHER_ORDER_ACTIVE = "OTHER_ORDER_ACTIVE"
    MOBILE_ROBOT_NOT_AVAILABLE = "MOBILE_ROBOT_NOT_AVAILABLE"

    @property
    def level(self) -> str:
        """The level VDA 5050's table gives the type."""
        return "CRITICAL" if self is OrderErrorType.UNSUPPORTED_PARAMETER else "WARNING"


@dataclass(frozen=True)
class OrderNode:
    node_id: str
    sequence_id: int
    actions: tuple[InstantAction, ...]
    descriptor: str | None = None


@dataclass(frozen=True)
class Order:
    """A well-formed order for this robot: one node, its station, released, no edges."""

    order_id: str
    order_update_id: int
    node: OrderNode
    header_id: int
    timestamp: str
    content: str
    """The nodes and edges as sent (canonical JSON): tells a resent update from a changed one."""


@dataclass(frozen=True)
class OrderRejection:
    """Why an order message is refused (nothing of it is taken over)."""

    error_type: OrderErrorType
    description: str
    hint: str = ""
    order_id: str | None = None
    order_update_id: int | None = None
    header_id: int | None = None
    is_stale: bool = False
    references: tuple[tuple[str, str], ...] = ()
    """More ``errorReferences`` (an actionId, a field), after orderId and orderUpdateId."""

    def error(self) -> dict[str, Any]:
        """The VDA 5050 ``errors[]`` entry."""
        references: dict[str, str] = {"topic": "order"}
        if self.header_id is not None:
            references["headerId"] = str(self.header_id)
        if self.order_id is not None:
            references["orderId"] = self.order_id
        if self.order_update_id is not None:
            references["orderUpdateId"] = str(self.order_update_id)
        references.update(self.references)
        return error_entry(
            self.error_type.value,
            self.description,
            level=self.error_type.level,
            hint=self.hint,
            references=references,
        )


class _Refused(Exception):  # noqa: N818 - internal control flow, never escapes the module
    def __init__(self, error_type: OrderErrorType, description: str, hint: str = "", **refs: str):
        super().__init__(description)
        self.error_type = error_type
        self.description = description
        self.hint = hint
        self.references = tuple(refs.items())


_SCHEMA_HINT = "send an order that validates against the VDA 5050 v3 order schema"
_TRAVEL_HINT = (
    "this robot does not travel under fleet control: send one node, its station {station!r}, "
    "released, with no edges"
)


def parse_order(
    payload: bytes,
    *,
    manufacturer: str,
    serial_number: str,
    station_node_id: str,
    max_bytes: int = 65536,
    max_actions: int = 16,
    freshness: Freshness | None = None,
) -> Order | OrderRejection:
    """Parse and validate an order message addressed to this robot.

    Args:
        payload: The raw MQTT payload.
        manufacturer: This robot's manufacturer; the message must name it.
        serial_number: This robot's serial number; the message must name it.
        station_node_id: The node the robot stands on: the only node an order may have.
        max_bytes: Larger payloads are refused unread.
        max_actions: More actions on the node are refused.
        freshness: When set, an order stamped too old or in the future is refused.
    """
    if len(payload) > max_bytes:
        return OrderRejection(
            OrderErrorType.VALIDATION_FAILURE,
            f"order message of {len(payload)} bytes exceeds {max_bytes}",
            _SCHEMA_HINT,
        )
    try:
        document = load_json(payload, max_depth=MAX_JSON_DEPTH)
    except JsonRejectedError as exc:
        return OrderRejection(
            OrderErrorType.VALIDATION_FAILURE,
            f"order rejected: not a JSON document this robot accepts [{exc.code.value}]: "
            f"{exc.detail}",
            _SCHEMA_HINT,
        )
    order_id, update_id = _identity(document)
    header_id: int | None = None
    try:
        header_id = check_header(
            document,
            manufacturer,
            serial_number,
            required=("orderId", "orderUpdateId", "nodes", "edges"),
        )
        if freshness is not None:
            check_fresh(document["timestamp"], freshness)
        _check_shape(document, max_actions)
        node = _check_travel(document, station_node_id)
        actions = _node_actions(document["nodes"][0])
    except EnvelopeError as exc:
        return OrderRejection(
            OrderErrorType.VALIDATION_FAILURE,
            f"order rejected: {exc.description}",
            _SCHEMA_HINT,
            order_id,
            update_id,
            header_id,
            is_stale=isinstance(exc, StaleMessageError),
        )
    except _Refused as exc:
        return OrderRejection(
            exc.error_type,
            exc.description,
            exc.hint,
            order_id,
            update_id,
            header_id,
            references=exc.references,
        )
    content = json.dumps(
        {"nodes": document["nodes"], "edges": document["edges"]},
        sort_keys=True,
        separators=(",", ":"),
    )
    descriptor = node.get("nodeDescriptor")
    return Order(
        document["orderId"],
        document["orderUpdateId"],
        OrderNode(node["nodeId"], node["sequenceId"], actions, descriptor),
        header_id,
        document["timestamp"],
        content,
    )


def _identity(document: Any) -> tuple[str | None, int | None]:
    """orderId and orderUpdateId for the references, when they are readable."""
    if not isinstance(document, dict):
        return None, None
    order_id = document.get("orderId")
    update_id = document.get("orderUpdateId")
    return (
        order_id if isinstance(order_id, str) else None,
        update_id if _is_int(update_id) else None,
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_shape(document: dict[str, Any], max_actions: int) -> None:
    """The order schema's structure (what the schema says, plus bounds)."""
    if not isinstance(document["orderId"], str) or not document["orderId"]:
        raise EnvelopeError("orderId must be a non-empty string")
    update_id = document["orderUpdateId"]
    if not _is_int(update_id) or not 0 <= update_id <= MAX_ORDER_UPDATE_ID:
        raise EnvelopeError("orderUpdateId must be an integer in 0..4294967295")
    if "orderDescription" in document and not isinstance(document["orderDescription"], str):
        raise EnvelopeError("orderDescription must be a string")
    for key, id_key in (("nodes", "nodeId"), ("edges", "edgeId")):
        items = document[key]
        if not isinstance(items, list):
            raise EnvelopeError(f"{key} must be an array")
        if len(items) > MAX_NODES:
            raise EnvelopeError(f"{len(items)} {key} exceed the limit of {MAX_NODES}")
        for index, item in enumerate(items):
            _check_element(f"{key}[{index}]", item, id_key, max_actions)
    actions = [
        action for key in ("nodes", "edges") for item in document[key] for action in item["actions"]
    ]
    check_unique_ids(actions)


def _check_element(where: str, item: Any, id_key: str, max_actions: int) -> None:
    if not isinstance(item, dict):
        raise EnvelopeError(f"{where} is not an object")
    for key in (id_key, "sequenceId", "released", "actions"):
        if key not in item:
            raise EnvelopeError(f"{where}: required field {key!r} is missing")
    if not isinstance(item[id_key], str):
        raise EnvelopeError(f"{where}.{id_key} must be a string")
    if not _is_int(item["sequenceId"]) or item["sequenceId"] < 0:
        raise EnvelopeError(f"{where}.sequenceId must be an integer >= 0")
    if not isinstance(item["released"], bool):
        raise EnvelopeError(f"{where}.released must be true or false")
    descriptor_key = "nodeDescriptor" if id_key == "nodeId" else "edgeDescriptor"
    if descriptor_key in item and not isinstance(item[descriptor_key], str):
        raise EnvelopeError(f"{where}.{descriptor_key} must be a string")
    position = item.get("nodePosition")
    if position is not None and not _is_position(position):
        raise EnvelopeError(f"{where}.nodePosition needs numbers x and y and a string mapId")
    actions = item["actions"]
    if not isinstance(actions, list):
        raise EnvelopeError(f"{where}.actions must be an array")
    if len(actions) > max_actions:
        raise EnvelopeError(f"{where}: {len(actions)} actions exceed the limit of {max_actions}")
    for index, action in enumerate(actions):
        check_action_shape(f"{where}.actions[{index}]", action, blocking_types=ORDER_BLOCKING)
        if "retriable" in action and not isinstance(action["retriable"], bool):
            raise EnvelopeError(f"{where}.actions[{index}].retriable must be true or false")


def _is_position(position: Any) -> bool:
    return (
        isinstance(position, dict)
        and all(
            isinstance(position.get(k), (int, float)) and not isinstance(position.get(k), bool)
            for k in ("x", "y")
        )
        and isinstance(position.get("mapId"), str)
    )


def _check_travel(document: dict[str, Any], station: str) -> dict[str, Any]:
    """The one node this robot can run: its station, released, no edges. Returns it."""
    nodes, edges = document["nodes"], document["edges"]
    hint = _TRAVEL_HINT.format(station=station)
    if edges or len(nodes) != 1:
        refs = {"edgeId": edges[0]["edgeId"]} if edges else {}
        raise _Refused(
            OrderErrorType.NO_ROUTE_TO_TARGET,
            f"order with {len(nodes)} node(s) and {len(edges)} edge(s) refused: this robot "
            "does not travel; an order is one node, its station, and no edges",
            hint,
            **refs,
        )
    (node,) = nodes
    if not node["released"]:
        raise _Refused(
            OrderErrorType.NO_ROUTE_TO_TARGET,
            f"node {node['nodeId']!r} is not released (a horizon plans travel, which this "
            "robot does not do)",
            hint,
            nodeId=node["nodeId"],
        )
    if node["nodeId"] != station:
        raise _Refused(
            OrderErrorType.START_NODE_OUT_OF_RANGE,
            f"node {node['nodeId']!r} is not where the robot stands (its station is "
            f"{station!r}); reaching it would need travel",
            hint,
            nodeId=node["nodeId"],
        )
    return dict(node)


def _node_actions(node: dict[str, Any]) -> tuple[InstantAction, ...]:
    """The node's actions, typed; an unsupported one refuses the whole order."""
    actions = []
    for index, raw in enumerate(node["actions"]):
        where = f"nodes[0].actions[{index}]"
        if raw.get("retriable") is True:
            raise _Refused(
                OrderErrorType.UNSUPPORTED_PARAMETER,
                f"{where}.retriable: this robot does not retry actions (a failed action is "
                "FAILED, never RETRIABLE)",
                "leave retriable out or false",
                parameter=f"{where}.retriable",
                actionId=raw["actionId"],
            )
        outcome = typed_action(raw)
        if not isinstance(outcome, InstantAction):
            raise _Refused(
                OrderErrorType.INVALID_ORDER_ACTION,
                f"{where}: {outcome.description}",
                outcome.hint,
                actionId=raw["actionId"],
                actionType=raw["actionType"],
            )
        if outcome.action_type not in ORDER_ACTION_TYPES:
            allowed = ", ".join(sorted(t.value for t in ORDER_ACTION_TYPES))
            raise _Refused(
                OrderErrorType.INVALID_ORDER_ACTION,
                f"{where}: {raw['actionType']} is an instant action only, not a node action",
                f"node actions: {allowed}; send {raw['actionType']} as an instant action",
                actionId=raw["actionId"],
                actionType=raw["actionType"],
            )
        actions.append(outcome)
    return tuple(actions)
