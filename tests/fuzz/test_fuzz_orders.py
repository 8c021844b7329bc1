"""Fuzz: order payloads end in an ``Order`` or a typed ``OrderRejection``, never an exception.

Real: ``daemon.fleet.vda5050.orders.parse_order`` with this robot's address and station. Faked: the
inputs, generated from valid orders built by the fleet side's own builders
(``tests.fuzz.order_inputs``) and by hypothesis.
"""

from __future__ import annotations

import json
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import CI_INPUTS_PER_PARSER, CI_SEED
from tests.fuzz.order_inputs import order_input, seed_documents
from tests.fuzz.targets import ACCEPTED, TARGETS, classify_order, run_target

_PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_generated_orders_end_typed_and_some_are_accepted() -> None:
    report = run_target(TARGETS["order"], CI_INPUTS_PER_PARSER, CI_SEED)
    assert report.crashes == 0, report.kept[0].trace if report.kept else report.counts
    assert report.counts[ACCEPTED] > 0
    for code in ("VALIDATION_FAILURE", "NO_ROUTE_TO_TARGET", "START_NODE_OUT_OF_RANGE"):
        assert report.counts[f"rejected:{code}"] > 0, report.counts


@_PROPERTY
@given(st.randoms(use_true_random=False))
def test_generator_inputs_end_typed(rnd: random.Random) -> None:
    classify_order(order_input(rnd))


@_PROPERTY
@given(st.binary(max_size=2048))
def test_raw_bytes_end_typed(data: bytes) -> None:
    classify_order(data)


def test_the_seed_orders_end_as_designed() -> None:
    outcomes = [classify_order(json.dumps(doc).encode()) for doc in seed_documents()]
    assert outcomes[:8] == [ACCEPTED] * 8
    assert outcomes[8:] == [
        "rejected:NO_ROUTE_TO_TARGET",
        "rejected:START_NODE_OUT_OF_RANGE",
        "rejected:NO_ROUTE_TO_TARGET",
        "rejected:UNSUPPORTED_PARAMETER",
        "rejected:VALIDATION_FAILURE",
    ]
