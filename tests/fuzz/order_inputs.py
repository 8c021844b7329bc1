"""Generated order payloads: valid orders for this robot, then hostile edits.

Seeds are real orders built with the fleet side's own builders: one node at the station with
every node action type and valid parameters, several actions, a node position, an update,
and orders that ask for travel (edges, two nodes, another node, a horizon), one for another
robot. Each input is one seed after the same structural edits, spliced literals, duplicated
keys and byte edits as the instantActions inputs (``tests.fuzz.json_inputs``), or a whole
hostile document.
"""

from __future__ import annotations

import copy
import json
import random
from datetime import datetime, timezone
from typing import Any

from daemon.fleet.vda5050.header import HeaderFactory
from daemon.fleet.vda5050.messages import node_action, order_message, order_node
from tests.fuzz.json_inputs import MANUFACTURER, MAX_BYTES, SERIAL_NUMBER
from tests.fuzz.mutate import (
    HOSTILE_JSON_TOKENS,
    byte_edits,
    deep_text,
    duplicate_a_key,
    edit_tree,
    hostile_value,
    splice_token,
)

STATION = "station"
_NOW = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
_NODE_ACTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("loadMotion", {"packageId": "demo-pick-box"}),
    ("startMotion", {"packageId": "demo-pick-box"}),
    ("startMotion", {}),
    ("stopMotion", {}),
    ("generateMotion", {"instruction": "pick up the box", "view": "front", "autoStart": True}),
)


def seed_documents() -> list[dict[str, Any]]:
    """Valid orders for this robot (the first ones are accepted), then travel and another
    robot's order."""
    headers = HeaderFactory(manufacturer=MANUFACTURER, serial_number=SERIAL_NUMBER)

    def order(nodes: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        return order_message(
            headers, order_id="o-1", order_update_id=0, nodes=nodes, now=_NOW, **kwargs
        )

    docs = [
        order([order_node(STATION, [node_action(kind, f"a{i}", params)])])
        for i, (kind, params) in enumerate(_NODE_ACTIONS)
    ]
    every = [node_action(k, f"m{i}", p) for i, (k, p) in enumerate(_NODE_ACTIONS)]
    docs.append(order([order_node(STATION, every)]))
    placed = order_node(STATION, [])
    placed["nodePosition"] = {"x": 1.0, "y": -2.5, "theta": 0.1, "mapId": "hall"}
    docs.append(order([placed]))
    update = order([order_node(STATION, every[:1], sequence_id=4)])
    update["orderUpdateId"] = 3
    docs.append(update)
    edge = {"edgeId": "e1", "sequenceId": 1, "released": True, "actions": []}
    docs.append(
        order([order_node(STATION, []), order_node("far", [], sequence_id=2)], edges=[edge])
    )
    docs.append(order([order_node("far", every[:1])]))
    docs.append(order([order_node(STATION, every[:1], is_released=False)]))
    retried = {**every[0], "retriable": True}
    docs.append(order([order_node(STATION, [retried])]))
    other = HeaderFactory(manufacturer=MANUFACTURER, serial_number="G1-9999")
    docs.append(order_message(other, order_id="x", order_update_id=0, nodes=[placed], now=_NOW))
    return docs


_SEEDS = seed_documents()


def _whole_hostile(rng: random.Random) -> bytes:
    choice = rng.randrange(5)
    if choice == 0:
        return b"[" * rng.choice((1000, 30_000, 60_000))
    if choice == 1:
        doc = copy.deepcopy(rng.choice(_SEEDS))
        doc["nodes"][0]["actions"] = [{"actionId": "@NEST@"}]
        nest = deep_text(rng, rng.choice((40, 1000, 10_000)))
        return json.dumps(doc).replace('"@NEST@"', nest).encode()
    if choice == 2:
        doc = copy.deepcopy(rng.choice(_SEEDS))
        doc["nodes"] = doc["nodes"] * rng.choice((17, 300))
        return json.dumps(doc).encode()[: rng.choice((MAX_BYTES, MAX_BYTES + 10, 10**6))]
    if choice == 3:
        return rng.choice((b"", b"null", b"[]", b"{}", b'{"orderUpdateId": 1e400}'))
    return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))


def order_input(rng: random.Random) -> bytes:
    """One generated order payload."""
    if rng.random() < 0.08:
        return _whole_hostile(rng)
    document: Any = copy.deepcopy(rng.choice(_SEEDS))
    for _ in range(rng.randrange(0, 4)):
        document = edit_tree(rng, document, hostile_value)
    text = json.dumps(document, ensure_ascii=rng.random() < 0.5, allow_nan=True)
    if rng.random() < 0.3:
        text = splice_token(rng, text, HOSTILE_JSON_TOKENS)
    if rng.random() < 0.15:
        text = duplicate_a_key(rng, text)
    data = text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.25:
        data = byte_edits(rng, data)
    return data
