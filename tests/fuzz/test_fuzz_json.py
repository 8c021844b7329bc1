"""Fuzz: the strict JSON layer ends every input in a document or a ``JsonRejectedError``.

Real: ``daemon.fleet.vda5050.strict_json.load_json``. Faked: the inputs, generated from valid
instantActions messages (``tests.fuzz.json_inputs``) and by hypothesis.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import CI_INPUTS_PER_PARSER, CI_SEED
from tests.fuzz.json_inputs import instant_actions_input
from tests.fuzz.targets import ACCEPTED, TARGETS, classify_json, run_target

_PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_generated_documents_end_typed_and_reach_every_code() -> None:
    report = run_target(TARGETS["json"], CI_INPUTS_PER_PARSER, CI_SEED)
    assert report.crashes == 0, report.kept[0].trace if report.kept else report.counts
    expected = {ACCEPTED, "syntax", "not_utf8", "too_deep", "non_finite", "number_too_large",
                "duplicate_key", "lone_surrogate"}  # fmt: skip
    assert expected <= set(report.counts), report.counts


@_PROPERTY
@given(st.randoms(use_true_random=False))
def test_generator_inputs_end_typed(rnd: random.Random) -> None:
    classify_json(instant_actions_input(rnd))


@_PROPERTY
@given(st.binary(max_size=2048))
def test_raw_bytes_end_typed(data: bytes) -> None:
    classify_json(data)


@_PROPERTY
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
))  # fmt: skip
def test_any_python_json_output_ends_typed(value: object) -> None:
    import json

    classify_json(json.dumps(value).encode("utf-8", "surrogatepass"))
