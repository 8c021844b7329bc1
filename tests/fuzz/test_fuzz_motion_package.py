"""Fuzz: motion package messages end in a decoded package or a ``PackageRejectedError``.

Real: ``estimators.package.peek_identity`` (the daemon's replay fast path) and
``decode_package`` (every check), under both signature policies, with real Ed25519 keys.
Faked: the inputs, generated from small valid packages (``tests.fuzz.package_inputs``) and by
hypothesis.
"""

from __future__ import annotations

import random
import struct

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from estimators.package import PackageErrorCode, PackageRejectedError, decode_package
from estimators.package.envelope import seal_body
from tests.fuzz.conftest import CI_INPUTS_PER_PARSER, CI_SEED
from tests.fuzz.package_inputs import CONFIGS, package_input
from tests.fuzz.targets import ACCEPTED, TARGETS, classify_package, run_target

_PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
Code = PackageErrorCode


def test_generated_packages_end_typed_and_reach_the_content_checks() -> None:
    report = run_target(TARGETS["motion_package"], CI_INPUTS_PER_PARSER, CI_SEED)
    assert report.crashes == 0, report.kept[0].trace if report.kept else report.counts
    seen = {part for key in report.counts for part in key.split("|")}
    expected = {ACCEPTED, "malformed", "digest_mismatch", "signature_missing",
                "signature_unknown_key", "bad_shape", "non_finite", "not_a_rotation"}  # fmt: skip
    assert expected <= seen, report.counts


@_PROPERTY
@given(st.randoms(use_true_random=False))
def test_generator_inputs_end_typed(rnd: random.Random) -> None:
    classify_package(package_input(rnd))


@_PROPERTY
@given(st.binary(max_size=1024))
def test_raw_bytes_as_message_and_as_sealed_body_end_typed(data: bytes) -> None:
    classify_package(data)
    classify_package(seal_body(data))


@pytest.mark.parametrize(
    "body",
    [
        b"\xc6" + struct.pack(">I", 0xFFFFFFFF) + b"short",  # bin32 claiming 4 GiB
        b"\xdd" + struct.pack(">I", 0xFFFFFFFF),  # array32 claiming 4 G entries
        b"\xdf" + struct.pack(">I", 0xFFFFFFFF),  # map32 claiming 4 G pairs
        b"\x91" * 100_000,  # arrays nested 100,000 deep
        b"\x81\xa1k" * 50_000 + b"\xc0",  # maps nested 50,000 deep
    ],
)
def test_huge_declared_sizes_and_deep_nesting_are_malformed(body: bytes) -> None:
    for config in CONFIGS[:1]:
        with pytest.raises(PackageRejectedError) as caught:
            decode_package(seal_body(body), config)
        assert caught.value.code is Code.MALFORMED
        with pytest.raises(PackageRejectedError) as outer:
            decode_package(body, config)
        assert outer.value.code is Code.MALFORMED


@pytest.mark.parametrize(
    "meta",
    [msgpack.ExtType(5, b"x"), msgpack.Timestamp(1, 0), {"package_id": msgpack.ExtType(1, b"")}],
)
def test_extension_types_in_the_metadata_are_typed_rejections(meta: object) -> None:
    body = bytes(msgpack.packb({"meta": meta, "arrays": {}}, use_bin_type=True))
    with pytest.raises(PackageRejectedError) as caught:
        decode_package(seal_body(body), CONFIGS[0])
    assert caught.value.code in (Code.INVALID_METADATA, Code.MISSING_FIELD)
