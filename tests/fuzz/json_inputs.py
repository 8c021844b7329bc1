"""Generated instantActions payloads: valid messages for this robot, then hostile edits.

Seeds are real messages built with the fleet side's own builders (every action type with valid
parameters, several actions at once, another robot's address). Each input is one seed after
structural edits (wrong types everywhere, deleted/renamed/unknown keys), spliced literals (NaN,
Infinity, 1e400, 10**5000, lone surrogates), duplicated keys, byte edits (invalid UTF-8,
truncation), or a whole hostile document (60 KB of ``[``, a 40 KB nest inside a valid message).
"""

from __future__ import annotations

import copy
import json
import random
from datetime import datetime, timezone
from typing import Any

from daemon.fleet.vda5050.header import HeaderFactory
from daemon.fleet.vda5050.messages import instant_action, instant_actions_message
from tests.fuzz.mutate import (
    HOSTILE_JSON_TOKENS,
    byte_edits,
    deep_text,
    duplicate_a_key,
    edit_tree,
    hostile_value,
    splice_token,
)

MANUFACTURER = "Unitree"
SERIAL_NUMBER = "G1-0001"
MAX_BYTES = 65536
_NOW = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)

_ACTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("startPause", {}),
    ("stopPause", {}),
    ("cancelOrder", {}),
    ("stateRequest", {}),
    ("factsheetRequest", {}),
    ("clearInstantActions", {}),
    ("loadMotion", {"packageId": "demo-pick-box"}),
    ("startMotion", {"packageId": "demo-pick-box"}),
    ("startMotion", {}),
    ("stopMotion", {}),
    ("emergencyStop", {}),
    ("resetEmergencyStop", {}),
    ("generateMotion", {"instruction": "pick up the box", "view": "front", "autoStart": True}),
)


def seed_documents() -> list[dict[str, Any]]:
    """Valid instantActions messages for this robot (and one for another robot)."""
    headers = HeaderFactory(manufacturer=MANUFACTURER, serial_number=SERIAL_NUMBER)
    docs = [
        instant_actions_message(headers, [instant_action(kind, f"a{i}", params)], _NOW)
        for i, (kind, params) in enumerate(_ACTIONS)
    ]
    docs.append(
        instant_actions_message(
            headers,
            [instant_action(kind, f"m{i}", params) for i, (kind, params) in enumerate(_ACTIONS)],
            _NOW,
        )
    )
    other = HeaderFactory(manufacturer=MANUFACTURER, serial_number="G1-9999")
    docs.append(instant_actions_message(other, [instant_action("emergencyStop", "x", {})], _NOW))
    return docs


_SEEDS = seed_documents()


def _serialise(rng: random.Random, document: Any) -> str:
    return json.dumps(document, ensure_ascii=rng.random() < 0.5, allow_nan=True)


def _whole_hostile(rng: random.Random) -> bytes:
    choice = rng.randrange(8)
    if choice == 0:
        return b"[" * rng.choice((1000, 30_000, 60_000))
    if choice == 1:
        depth = rng.choice((500, 5000, 10_000))
        return b'{"a":' * depth + b"1" + b"}" * depth
    if choice == 2:
        doc = copy.deepcopy(rng.choice(_SEEDS))
        doc["actions"][0]["actionParameters"] = [{"key": "packageId", "value": "@NEST@"}]
        nest = deep_text(rng, rng.choice((40, 1000, 10_000)))
        return json.dumps(doc).replace('"@NEST@"', nest).encode()
    if choice == 3:
        doc = copy.deepcopy(rng.choice(_SEEDS))
        doc["actions"] = doc["actions"] * rng.choice((17, 200))
        return json.dumps(doc).encode()[: rng.choice((MAX_BYTES, MAX_BYTES + 10, 10**6))]
    if choice == 4:
        return rng.choice((b"", b" ", b"null", b"[]", b'"s"', b"0", b"\x00", b"{}"))
    if choice == 5:
        return ("1" * rng.choice((4301, 5001, 60_000))).encode()
    if choice == 6:
        return b'{"headerId":' + b"9" * 5000 + b"}"
    return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))


def instant_actions_input(rng: random.Random) -> bytes:
    """One generated instantActions payload."""
    if rng.random() < 0.08:
        return _whole_hostile(rng)
    document: Any = copy.deepcopy(rng.choice(_SEEDS))
    for _ in range(rng.randrange(0, 4)):
        document = edit_tree(rng, document, hostile_value)
    text = _serialise(rng, document)
    if rng.random() < 0.3:
        text = splice_token(rng, text, HOSTILE_JSON_TOKENS)
    if rng.random() < 0.15:
        text = duplicate_a_key(rng, text)
    data = text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.25:
        data = byte_edits(rng, data)
    return data
