"""Generated motion package messages: valid packages, then hostile edits at every layer.

Seeds are small valid packages (WiLoR hands with axis-angle, hand states with rotation
matrices, no hands with G1 references; unsigned and signed). Each input is a seed after one of:
byte edits of the wire message; edits of the outer map (hostile msgpack values: extension
types, timestamps, huge integers, nested maps, wrong signatures and key ids); edits of the body
re-sealed with a correct digest so they reach the content checks (wrong dtypes, shapes with huge
or negative dimensions, data one byte short, metadata of the wrong type); or raw msgpack whose
headers declare sizes far beyond the bytes present, as the whole message or as the body.
"""

from __future__ import annotations

import copy
import random
import struct
from typing import Any

import msgpack
import numpy as np

from estimators.package import (
    HandsFormat,
    PackageConfig,
    RotationFormat,
    encode_package,
    generate_signing_key,
    key_id_of,
    public_key_bytes,
)
from estimators.package.envelope import seal_body
from tests.fuzz.mutate import byte_edits, edit_tree
from tests.unit.estimators.package_builders import build_package, wire_dict

SIGNING_KEY = generate_signing_key()
TRUSTED_ID = key_id_of(SIGNING_KEY)
CONFIGS = (
    PackageConfig(),
    PackageConfig(require_signature=True, trusted_keys={TRUSTED_ID: public_key_bytes(SIGNING_KEY)}),
)
"""The robot's two policies: signatures optional, and required with one trusted key."""

_PACKAGES = (
    build_package(5, seed=1),
    build_package(
        4, seed=2, hands_format=HandsFormat.STATES, rotation_format=RotationFormat.ROTMAT
    ),
    build_package(
        6,
        seed=3,
        hands_format=HandsFormat.NONE,
        g1_q_ref=np.zeros((6, 29), dtype=np.float32),
    ),
)
_BODIES = [wire_dict(p) for p in _PACKAGES]
_WIRES = [encode_package(p) for p in _PACKAGES] + [
    encode_package(p, signing_key=SIGNING_KEY, key_id=TRUSTED_ID) for p in _PACKAGES
]


def _msgpack_value(rng: random.Random) -> Any:
    """A msgpack-serialisable value of a random, usually wrong, type."""
    choice = rng.randrange(16)
    if choice == 0:
        return None
    if choice == 1:
        return msgpack.ExtType(rng.randrange(128), bytes(rng.randrange(256) for _ in range(9)))
    if choice == 2:
        return msgpack.Timestamp(rng.randrange(2**34), 0)
    if choice == 3:
        return rng.choice((2**64 - 1, -(2**63), 2**31, -1, 0))
    if choice == 4:
        return rng.choice((float("nan"), float("inf"), -1e308, 0.5))
    if choice == 5:
        return rng.choice(("<f8", ">f4", "|O", "V8", "<U3", "float32", "", "<f4", "|u1", "|i1"))
    if choice == 6:
        return [rng.choice((2**31 - 1, 2**40, 2**63 - 1, -1, 0, 1, 3, 21, 29))
                for _ in range(rng.randrange(0, 6))]  # fmt: skip
    if choice == 7:
        return [True, 1.5, "3"]
    if choice == 8:
        return bytes(rng.randrange(256) for _ in range(rng.choice((0, 1, 63, 64, 65, 300))))
    if choice == 9:
        value: Any = 1
        for _ in range(rng.choice((10, 200, 500))):  # packb refuses deeper: see _lying_headers
            value = {"m": value} if rng.random() < 0.5 else [value]
        return value
    if choice == 10:
        return {b"bin-key": 1}
    if choice == 11:
        return "x" * rng.choice((0, 129, 10_000))
    if choice == 12:
        return rng.choice(("exoactor-motion-package", "1", TRUSTED_ID, "unknown-key"))
    if choice == 13:
        return bytes(64)
    if choice == 14:
        return [rng.choice(("<f4", "|u1")), [rng.randrange(0, 8) for _ in range(2)], b"\x00" * 8]
    return {"meta": {}, "arrays": {}}


def _pack(value: Any) -> bytes:
    return bytes(msgpack.packb(value, use_bin_type=True))


def _lying_headers(rng: random.Random) -> bytes:
    """msgpack whose headers promise far more than follows (or nest without end)."""
    choice = rng.randrange(7)
    if choice == 0:
        return b"\xc6" + struct.pack(">I", 0xFFFFFFFF) + b"short"  # bin32
    if choice == 1:
        return b"\xdd" + struct.pack(">I", 0xFFFFFFFF) + b"\x01"  # array32
    if choice == 2:
        return b"\xdf" + struct.pack(">I", 0xFFFFFFFF) + b"\xa1k\x01"  # map32
    if choice == 3:
        return b"\xdb" + struct.pack(">I", 0x7FFFFFFF) + b"abc"  # str32
    if choice == 4:
        return b"\xc9" + struct.pack(">Ib", 0xFFFFFFFF, 5) + b"x"  # ext32
    if choice == 5:
        return b"\x91" * rng.choice((1000, 100_000))  # arrays nested without end
    return b"\x81\xa1k" * rng.choice((500, 50_000)) + b"\xc0"  # maps nested without end


def _outer_edit(rng: random.Random) -> bytes:
    outer = msgpack.unpackb(rng.choice(_WIRES), raw=False)
    key = rng.choice(("format", "version", "body", "sha256", "signature", "key_id", "extra"))
    if rng.random() < 0.2 and key in outer:
        del outer[key]
    else:
        outer[key] = _msgpack_value(rng)
    return _pack(outer)


def _body_edit(rng: random.Random) -> bytes:
    body = copy.deepcopy(rng.choice(_BODIES))
    for _ in range(rng.randrange(1, 4)):
        body = edit_tree(rng, body, _msgpack_value)
    signing = rng.random() < 0.5
    try:
        body_bytes = _pack(body)
    except (ValueError, TypeError, OverflowError):
        body_bytes = _pack({"meta": None})
    return seal_body(
        body_bytes,
        signing_key=SIGNING_KEY if signing else None,
        key_id=TRUSTED_ID if signing else None,
    )


def _value_edit(rng: random.Random) -> bytes:
    """Array contents that parse but must fail validation (NaN, long rotations, limits)."""
    body = copy.deepcopy(rng.choice(_BODIES))
    name = rng.choice(sorted(body["arrays"]))
    dtype, shape, raw = body["arrays"][name]
    values = np.frombuffer(raw, dtype=dtype).copy()
    if values.size:
        floats = (np.nan, np.inf, -np.inf, 1e30, -7.0, 2.0, 0.0, 3.2)
        ints = (0, 2, 3, 127) if values.dtype.kind == "u" else (-128, -1, 2, 3, 127)
        special = rng.choice(floats if values.dtype.kind == "f" else ints)
        for _ in range(rng.randrange(1, 4)):
            values[rng.randrange(values.size)] = special
    body["arrays"][name] = [dtype, shape, values.tobytes()]
    return seal_body(_pack(body))


def package_input(rng: random.Random) -> bytes:
    """One generated package message."""
    choice = rng.randrange(12)
    if choice < 3:
        return byte_edits(rng, rng.choice(_WIRES))
    if choice < 5:
        return _outer_edit(rng)
    if choice < 9:
        return _body_edit(rng)
    if choice < 11:
        return _value_edit(rng)
    lie = _lying_headers(rng)
    return lie if rng.random() < 0.5 else seal_body(lie)
