"""The order parser: the one-node subset this robot runs, and a typed refusal for the rest.

Real: ``daemon.fleet.vda5050.orders.parse_order``, the message builders of the fleet side, the
official VDA 5050 order schema (every valid order built here validates against it; the
rejection errors validate inside a state message). Faked: nothing; no sockets.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from daemon.fleet.vda5050.actions import ActionType
from daemon.fleet.vda5050.envelope import Freshness
from daemon.fleet.vda5050.header import HeaderFactory
from daemon.fleet.vda5050.messages import encode, node_action, order_message, order_node
from daemon.fleet.vda5050.orders import Order, OrderErrorType, OrderRejection, parse_order
from tests.support.vda5050_schemas import check_if_available

NOW = datetime(2026, 11, 21, 12, 0, 0, 123000, tzinfo=timezone.utc)
STATION = "cell-3"


def order_doc(
    nodes: list[dict[str, Any]] | None = None, *, edges: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    headers = HeaderFactory(manufacturer="Acme", serial_number="T-1")
    nodes = nodes if nodes is not None else [station_node()]
    return order_message(
        headers, order_id="o-1", order_update_id=0, nodes=nodes, edges=edges, now=NOW
    )


def station_node(*actions: dict[str, Any], node_id: str = STATION) -> dict[str, Any]:
    actions = actions or (node_action("startMotion", "a1", {"packageId": "wave"}),)
    return order_node(node_id, list(actions))


def parse(document: Any, **kwargs: Any) -> Order | OrderRejection:
    payload = document if isinstance(document, bytes) else json.dumps(document).encode()
    return parse_order(
        payload, manufacturer="Acme", serial_number="T-1", station_node_id=STATION, **kwargs
    )


def rejected(document: Any, **kwargs: Any) -> OrderRejection:
    outcome = parse(document, **kwargs)
    assert isinstance(outcome, OrderRejection), outcome
    check_if_available("state", state_with_error(outcome.error()))
    return outcome


def state_with_error(error: dict[str, Any]) -> dict[str, Any]:
    """A state message carrying ``error`` (so the error entry is checked by the schema)."""
    from daemon.fleet.vda5050.config import FleetConfig
    from daemon.fleet.vda5050.fleet_state import FleetState
    from daemon.fleet.vda5050.messages import state_message

    body = FleetState(config=FleetConfig()).state_body()
    body["errors"] = [error]
    headers = HeaderFactory(manufacturer="Acme", serial_number="T-1")
    return json.loads(encode(state_message(headers, body, NOW)))


def test_a_one_node_order_at_the_station_is_parsed_with_its_actions_in_order() -> None:
    document = order_doc(
        [
            station_node(
                node_action("loadMotion", "a1", {"packageId": "wave"}),
                node_action("startMotion", "a2", blocking_type="SOFT"),
            )
        ]
    )
    check_if_available("order", document)
    order = parse(document)
    assert isinstance(order, Order)
    assert (order.order_id, order.order_update_id, order.node.node_id) == ("o-1", 0, STATION)
    assert [a.action_type for a in order.node.actions] == [
        ActionType.LOAD_MOTION,
        ActionType.START_MOTION,
    ]
    assert order.node.actions[0].parameters == {"packageId": "wave"}


@pytest.mark.parametrize(
    ("nodes", "edges", "error_type"),
    [
        (
            [station_node(), order_node("cell-4", [], sequence_id=2)],
            [{"edgeId": "e1", "sequenceId": 1, "released": True, "actions": []}],
            OrderErrorType.NO_ROUTE_TO_TARGET,
        ),
        (
            [station_node(), order_node(STATION, [], sequence_id=2)],
            [],
            OrderErrorType.NO_ROUTE_TO_TARGET,
        ),
        (
            [{**station_node(), "released": False}],
            [],
            OrderErrorType.NO_ROUTE_TO_TARGET,
        ),
        ([station_node(node_id="cell-4")], [], OrderErrorType.START_NODE_OUT_OF_RANGE),
    ],
    ids=["edges", "two-nodes", "horizon", "another-node"],
)
def test_an_order_with_travel_is_refused_with_a_specific_error(
    nodes: list[dict[str, Any]], edges: list[dict[str, Any]], error_type: OrderErrorType
) -> None:
    document = order_doc(nodes, edges=edges)
    check_if_available("order", document)
    rejection = rejected(document)
    assert rejection.error_type is error_type
    assert STATION in rejection.hint
    error = rejection.error()
    assert error["errorLevel"] == "WARNING"
    refs = {r["referenceKey"]: r["referenceValue"] for r in error["errorReferences"]}
    assert (refs["orderId"], refs["orderUpdateId"]) == ("o-1", "0")
    assert refs["topic"] == "order"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: d.pop("edges"), "required field 'edges'"),
        (lambda d: d.update(orderUpdateId=-1), "orderUpdateId"),
        (lambda d: d.update(orderUpdateId=True), "orderUpdateId"),
        (lambda d: d.update(orderId=""), "orderId"),
        (lambda d: d.update(serialNumber="T-2"), "addressed to"),
        (lambda d: d["nodes"][0].pop("sequenceId"), "sequenceId"),
        (lambda d: d["nodes"][0].update(released="yes"), "released"),
        (lambda d: d["nodes"][0]["actions"][0].update(blockingType="ALWAYS"), "blockingType"),
        (lambda d: d["nodes"][0].update(nodePosition={"x": 1}), "nodePosition"),
        (lambda d: d.update(nodes=[station_node()] * 17), "exceed the limit"),
    ],
)
def test_a_malformed_order_is_a_validation_failure(edit: Any, expected: str) -> None:
    document = order_doc()
    edit(document)
    rejection = rejected(document)
    assert rejection.error_type is OrderErrorType.VALIDATION_FAILURE
    assert expected in rejection.description


@pytest.mark.parametrize(
    "payload",
    [b"{not json", b'{"headerId": NaN}', b"[" * 50_000, b'{"a": 1, "a": 2}', b"\xff"],
)
def test_hostile_bytes_are_a_validation_failure(payload: bytes) -> None:
    rejection = rejected(payload)
    assert rejection.error_type is OrderErrorType.VALIDATION_FAILURE
    assert "not a JSON document" in rejection.description


def test_an_oversize_order_is_refused_unread() -> None:
    rejection = rejected(encode(order_doc()), max_bytes=100)
    assert "exceeds 100" in rejection.description


def test_a_stale_order_is_refused_and_says_so() -> None:
    rejection = rejected(
        order_doc(), freshness=Freshness(now=NOW + timedelta(seconds=30), max_age_s=10)
    )
    assert rejection.is_stale
    assert "stale" in rejection.description


@pytest.mark.parametrize(
    ("action", "error_type", "expected"),
    [
        (node_action("dance", "a1"), OrderErrorType.INVALID_ORDER_ACTION, "not supported"),
        (node_action("startPause", "a1"), OrderErrorType.INVALID_ORDER_ACTION, "instant action"),
        (
            node_action("loadMotion", "a1", {"packageID": "x"}),
            OrderErrorType.INVALID_ORDER_ACTION,
            "unknown parameter",
        ),
        (
            {**node_action("startMotion", "a1"), "retriable": True},
            OrderErrorType.UNSUPPORTED_PARAMETER,
            "retriable",
        ),
    ],
)
def test_an_action_the_robot_cannot_run_on_a_node_refuses_the_order(
    action: dict[str, Any], error_type: OrderErrorType, expected: str
) -> None:
    rejection = rejected(order_doc([station_node(action)]))
    assert rejection.error_type is error_type
    assert expected in rejection.description
    refs = {r["referenceKey"]: r["referenceValue"] for r in rejection.error()["errorReferences"]}
    assert refs["actionId"] == "a1"
    if error_type is OrderErrorType.UNSUPPORTED_PARAMETER:
        assert rejection.error()["errorLevel"] == "CRITICAL"


def test_an_action_id_twice_in_one_order_is_a_validation_failure() -> None:
    document = order_doc(
        [station_node(node_action("startMotion", "a1"), node_action("stopMotion", "a1"))]
    )
    rejection = rejected(document)
    assert rejection.error_type is OrderErrorType.VALIDATION_FAILURE
    assert "appears twice" in rejection.description


def test_node_position_is_accepted_and_the_content_tells_resends_from_changes() -> None:
    document = order_doc()
    document["nodes"][0]["nodePosition"] = {"x": 1.0, "y": 2.0, "mapId": "hall"}
    first = parse(document)
    again = parse(json.loads(json.dumps(document)))
    document["nodes"][0]["actions"][0]["actionParameters"][0]["value"] = "jump"
    changed = parse(document)
    assert isinstance(first, Order)
    assert isinstance(again, Order)
    assert isinstance(changed, Order)
    assert first.content == again.content != changed.content
