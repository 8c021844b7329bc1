"""Property tests: whatever bytes arrive, decoding fails only with ``PackageRejectedError``.

Real: the decoder and every check behind it. Faked: the inputs (random bytes, random byte-level
mutations of a valid package, and random structural edits re-sealed with a correct digest so
they reach the content checks). Bounded to a few hundred examples per property.
"""

from __future__ import annotations

import contextlib
from typing import Any

import msgpack
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from estimators.package import (
    PackageConfig,
    PackageRejectedError,
    decode_package,
    encode_package,
    generate_signing_key,
    public_key_bytes,
)
from tests.unit.estimators.package_builders import build_package, reseal, wire_dict

_KEY = generate_signing_key()
_CONFIGS = [
    PackageConfig(),
    PackageConfig(require_signature=True, trusted_keys={"k": public_key_bytes(_KEY)}),
]
_VALID = encode_package(build_package(6, seed=1), signing_key=_KEY, key_id="k")
_BODY = wire_dict(build_package(6, seed=2))
_FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.binary(max_size=64),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _decode_only_typed_errors(data: bytes) -> None:
    for config in _CONFIGS:
        with contextlib.suppress(PackageRejectedError):
            decode_package(data, config)


@_FUZZ
@given(st.binary(max_size=512))
def test_random_bytes_only_raise_rejections(data: bytes) -> None:
    _decode_only_typed_errors(data)


@_FUZZ
@given(st.lists(st.tuples(st.integers(0, len(_VALID) - 1), st.integers(0, 255)), max_size=8))
def test_byte_mutations_of_a_valid_package_only_raise_rejections(
    edits: list[tuple[int, int]],
) -> None:
    data = bytearray(_VALID)
    for position, value in edits:
        data[position] = value
    _decode_only_typed_errors(bytes(data))


@_FUZZ
@given(st.integers(0, len(_VALID)))
def test_truncations_only_raise_rejections(length: int) -> None:
    _decode_only_typed_errors(_VALID[:length])


def _paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(tree, dict):
        for key, value in tree.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            out += _paths(value, (*prefix, index))
    return out


_BODY_PATHS = _paths(_BODY)[1:]


@_FUZZ
@given(st.sampled_from(_BODY_PATHS), _values, st.booleans())
def test_structural_edits_resealed_only_raise_rejections(
    path: tuple[Any, ...], value: Any, delete: bool
) -> None:
    body = msgpack.unpackb(msgpack.packb(_BODY, use_bin_type=True), raw=False)  # deep copy
    parent = body
    for key in path[:-1]:
        parent = parent[key]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    _decode_only_typed_errors(reseal(body))


@_FUZZ
@given(
    st.sampled_from(["global_orient", "body_pose", "transl", "hand_keypoints", "hand_pose"]),
    st.integers(0, 10_000),
    st.sampled_from([np.nan, np.inf, -np.inf, 1e30, -7.0, 0.0]),
)
def test_array_value_edits_only_raise_rejections(name: str, index: int, value: float) -> None:
    body = msgpack.unpackb(msgpack.packb(_BODY, use_bin_type=True), raw=False)
    dtype, shape, raw = body["arrays"][name]
    values = np.frombuffer(raw, dtype=dtype).copy()
    values[index % values.size] = value
    body["arrays"][name] = [dtype, shape, values.tobytes()]
    _decode_only_typed_errors(reseal(body))
