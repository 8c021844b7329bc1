"""Fuzz: SONIC ``pose`` stream messages end in a decoded message or a ``StreamDecodeError``.

Real: the decoder, the stream lifecycle (fresh, and following a v1 stream) and the frame
building. Faked: the inputs, generated from valid v1/v3/v4 messages
(``tests.fuzz.sonic_inputs``) and by hypothesis.
"""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daemon.inputs.stream_messages import decode_pose_message
from daemon.inputs.stream_wire import HEADER_SIZE, StreamDecodeError, StreamErrorCode
from tests.fuzz.conftest import CI_INPUTS_PER_PARSER, CI_SEED
from tests.fuzz.sonic_inputs import SEEDS, sonic_input
from tests.fuzz.targets import ACCEPTED, TARGETS, classify_sonic, run_target

_PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_generated_messages_end_typed_with_every_version_reached() -> None:
    report = run_target(TARGETS["sonic_stream"], CI_INPUTS_PER_PARSER, CI_SEED)
    assert report.crashes == 0, report.kept[0].trace if report.kept else report.counts
    assert report.counts[ACCEPTED] > 0
    for code in ("bad_header", "truncated", "non_finite", "bad_shape", "wrong_topic"):
        assert report.counts[code] > 0, report.counts


@_PROPERTY
@given(st.randoms(use_true_random=False))
def test_generator_inputs_end_typed(rnd: random.Random) -> None:
    classify_sonic(sonic_input(rnd))


@_PROPERTY
@given(st.binary(max_size=HEADER_SIZE + 600))
def test_raw_bytes_after_the_topic_end_typed(data: bytes) -> None:
    classify_sonic(b"pose" + data)


@pytest.mark.parametrize(
    ("shape", "code"),
    [
        ([0, 2**62], StreamErrorCode.BAD_SHAPE),
        ([0, 2**31, 2**31], StreamErrorCode.BAD_SHAPE),
        ([2**63], StreamErrorCode.TRUNCATED),
        ([10**30], StreamErrorCode.TRUNCATED),
    ],
)
def test_a_shape_beyond_numpys_limits_is_refused_not_a_crash(
    shape: list[int], code: StreamErrorCode
) -> None:
    """Found by the fuzzer: ``[0, 2**62]`` (an empty field) made ``np.zeros`` raise ValueError;
    a non-empty one claims more bytes than arrived."""
    header = {"v": 4, "endian": "le", "count": 1, "fields": [
        {"name": "token_state", "dtype": "f32", "shape": shape}]}  # fmt: skip
    message = b"pose" + json.dumps(header).encode().ljust(HEADER_SIZE, b"\0")
    with pytest.raises(StreamDecodeError) as caught:
        decode_pose_message(message)
    assert caught.value.code is code


def test_the_seeds_are_valid() -> None:
    for seed in SEEDS:
        assert classify_sonic(seed) in (ACCEPTED, f"{ACCEPTED}|version_changed")
