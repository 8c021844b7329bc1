"""Fuzz: instantActions payloads end in parsed actions or typed rejections, never an exception.

Real: ``daemon.fleet.vda5050.actions.parse_instant_actions`` with this robot's address. Faked: the
inputs, generated from valid messages built by the fleet side's own builders
(``tests.fuzz.json_inputs``) and by hypothesis. Orders, the fleet's other JSON entry point, are
``test_fuzz_orders.py``.
"""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daemon.fleet.vda5050.actions import ErrorType, parse_instant_actions
from tests.fuzz.conftest import CI_INPUTS_PER_PARSER, CI_SEED
from tests.fuzz.json_inputs import (
    MANUFACTURER,
    SERIAL_NUMBER,
    instant_actions_input,
    seed_documents,
)
from tests.fuzz.targets import ACCEPTED, TARGETS, classify_instant_actions, run_target

_PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_generated_payloads_end_typed_and_some_are_accepted() -> None:
    report = run_target(TARGETS["instant_actions"], CI_INPUTS_PER_PARSER, CI_SEED)
    assert report.crashes == 0, report.kept[0].trace if report.kept else report.counts
    assert report.counts[ACCEPTED] > 0
    assert report.counts["message:validationError"] > 0


@_PROPERTY
@given(st.randoms(use_true_random=False))
def test_generator_inputs_end_typed(rnd: random.Random) -> None:
    classify_instant_actions(instant_actions_input(rnd))


@_PROPERTY
@given(st.binary(max_size=2048))
def test_raw_bytes_end_typed(data: bytes) -> None:
    classify_instant_actions(data)


def _message_with(value_text: str) -> bytes:
    doc = seed_documents()[7]  # startMotion with a packageId
    doc["actions"][0]["actionParameters"] = [{"key": "packageId", "value": "@V@"}]
    return json.dumps(doc).replace('"@V@"', value_text).encode()


@pytest.mark.parametrize(
    "payload",
    [
        b"[" * 60_000,  # issue 9 #2: RecursionError killed the fleet task
        _message_with("[" * 20_000 + "]" * 20_000),  # a 40 KB nest inside a valid message
        _message_with('{"a":' * 5000 + "1" + "}" * 5000),
        b'{"headerId": ' + b"1" * 5000 + b"}",  # 10**5000: over Python's digit limit
        b'{"headerId": 1e400}',
        b'{"headerId": NaN, "timestamp": Infinity}',
        b"\xff\xfe\x00{",
        b'{"headerId": 1, "headerId": 2}',
    ],
)
def test_hostile_documents_are_refused_as_a_whole_with_a_validation_error(payload: bytes) -> None:
    parsed = parse_instant_actions(payload, manufacturer=MANUFACTURER, serial_number=SERIAL_NUMBER)
    assert not parsed.is_message_valid
    assert parsed.actions == ()
    assert {r.error_type for r in parsed.rejected} == {ErrorType.VALIDATION}


def test_the_seed_messages_are_accepted() -> None:
    for doc in seed_documents()[:-1]:
        outcome = classify_instant_actions(json.dumps(doc).encode())
        assert outcome == ACCEPTED, (doc, outcome)
