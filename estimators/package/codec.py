"""Motion package v1 wire format: encode (producer) and decode + validate (daemon).

One msgpack message, a map::

    {"format": "exoactor-motion-package", "version": 1,
     "body": <bin: msgpack map {"meta": {...}, "arrays": {name: [dtype, shape, <bin>]}}>,
     "sha256": <bin 32: SHA-256 of body>,
     "signature": <bin 64: Ed25519 over context + sha256> | nil, "key_id": <str> | nil}

The body is kept as bytes so the digest covers exactly what was sent (no re-encoding). Arrays
are decoded zero-copy: ``np.frombuffer`` over the bytes msgpack returns (read-only views).
Decoding checks, in order: size, structure, version, digest, signature, metadata, array names,
dtypes and shapes, then content (``validate.validate_package``). Anything wrong raises
``PackageRejectedError``; nothing else escapes ``decode_package``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgpack
import numpy as np
import numpy.typing as npt
import pydantic
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from estimators.errors import PackageErrorCode
from estimators.package.config import PackageConfig
from estimators.package.envelope import open_envelope, seal_body, unpack
from estimators.package.envelope import reject as _reject
from estimators.package.meta import (
    BodyMotion,
    DecodedPackage,
    HandsFormat,
    HandStates,
    MotionPackage,
    PackageMeta,
    WilorHands,
)
from estimators.package.schema import ALL_ARRAY_NAMES, ArraySpec, expected_arrays
from estimators.package.validate import check_meta_limits, validate_package

Code = PackageErrorCode
_MAX_DIM = 1 << 31

__all__ = ["decode_package", "encode_package", "package_to_wire_dict", "seal_body"]


# --------------------------------------------------------------------------- encoding


def _array_entries(package: MotionPackage) -> dict[str, list[Any]]:
    specs = expected_arrays(package.meta)
    arrays: dict[str, npt.ArrayLike | None] = {
        "global_orient": package.body.global_orient,
        "body_pose": package.body.body_pose,
        "transl": package.body.transl,
        "betas": package.body.betas,
        "g1_q_ref": package.g1_q_ref,
    }
    if isinstance(package.hands, WilorHands):
        arrays["hand_pose"] = package.hands.hand_pose
        arrays["hand_keypoints"] = package.hands.keypoints
        arrays["hand_confidence"] = package.hands.confidence
        arrays["hand_valid"] = package.hands.valid
    elif isinstance(package.hands, HandStates):
        arrays["hand_state"] = package.hands.states
    out: dict[str, list[Any]] = {}
    for name, values in arrays.items():
        if values is None:
            continue
        spec = specs.get(name)
        dtype = np.dtype(spec.dtype if spec is not None else "<f4")
        wire = np.ascontiguousarray(values, dtype=dtype)
        out[name] = [dtype.str, list(wire.shape), wire.tobytes()]
    return out


def package_to_wire_dict(package: MotionPackage) -> dict[str, Any]:
    """The body map (before msgpack): ``{"meta": ..., "arrays": ...}``; used by tests too."""
    return {"meta": package.meta.model_dump(mode="json"), "arrays": _array_entries(package)}


def encode_package(
    package: MotionPackage,
    *,
    signing_key: Ed25519PrivateKey | None = None,
    key_id: str | None = None,
    config: PackageConfig | None = None,
    validate: bool = True,
) -> bytes:
    """Encode a package for the wire, validating it first with the daemon's own checks.

    Args:
        package: the motion.
        signing_key: Ed25519 key to sign with, or None for an unsigned package.
        key_id: the name the robot knows the key's public half by (required when signing).
        config: limits to validate against (defaults to ``PackageConfig()``).
        validate: False skips validation (tests that need a bad package).

    Raises:
        PackageRejectedError: the package would be rejected by a robot with ``config``.
    """
    if signing_key is not None and not key_id:
        raise ValueError("key_id is required when signing")
    if validate:
        validate_package(package, config or PackageConfig())
    body = bytes(msgpack.packb(package_to_wire_dict(package), use_bin_type=True))
    return seal_body(body, signing_key=signing_key, key_id=key_id)


# --------------------------------------------------------------------------- decoding


def _parse_meta(raw: Any) -> PackageMeta:
    try:
        return PackageMeta.model_validate(raw)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ()))
        field = f"meta.{loc}" if loc else "meta"
        if first.get("type") == "missing":
            raise _reject(Code.MISSING_FIELD, field, "required") from None
        if first.get("type") == "extra_forbidden":
            raise _reject(Code.UNKNOWN_FIELD, field, "not in format v1") from None
        raise _reject(Code.INVALID_METADATA, field, str(first.get("msg", "invalid"))) from None


def _parse_array(name: str, entry: Any, spec: ArraySpec) -> npt.NDArray[Any]:
    field = f"arrays.{name}"
    if not isinstance(entry, list) or len(entry) != 3:
        raise _reject(Code.MALFORMED, field, "must be [dtype, shape, bytes]")
    dtype, shape, data = entry
    if not isinstance(dtype, str) or dtype != spec.dtype:
        raise _reject(Code.BAD_DTYPE, field, f"dtype {dtype!r}, expected {spec.dtype!r}")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and 0 <= d < _MAX_DIM for d in shape
    ):
        raise _reject(Code.BAD_SHAPE, field, "shape must be a list of non-negative ints")
    dims = tuple(int(d) for d in shape)
    if not spec.matches(dims):
        raise _reject(Code.BAD_SHAPE, field, f"shape {dims}, expected {spec.describe()}")
    if not isinstance(data, bytes):
        raise _reject(Code.MALFORMED, field, "data must be binary")
    count = 1
    for d in dims:
        count *= d
    np_dtype = np.dtype(spec.dtype)
    if len(data) != count * np_dtype.itemsize:
        raise _reject(Code.BAD_SHAPE, field, f"{len(data)} bytes do not hold shape {dims}")
    return np.frombuffer(data, dtype=np_dtype, count=count).reshape(dims)


def _parse_arrays(raw: Any, meta: PackageMeta) -> dict[str, npt.NDArray[Any]]:
    if not isinstance(raw, dict):
        raise _reject(Code.MALFORMED, "arrays", "must be a map")
    specs = expected_arrays(meta)
    for name in raw:
        if name not in ALL_ARRAY_NAMES or name not in specs:
            raise _reject(Code.UNKNOWN_FIELD, f"arrays.{name}", "not expected for this metadata")
    for name, spec in specs.items():
        if spec.required and name not in raw:
            raise _reject(Code.MISSING_FIELD, f"arrays.{name}", "required")
    return {name: _parse_array(name, raw[name], specs[name]) for name in raw}


def _assemble(meta: PackageMeta, arrays: Mapping[str, npt.NDArray[Any]]) -> MotionPackage:
    body = BodyMotion(
        global_orient=arrays["global_orient"],
        body_pose=arrays["body_pose"],
        transl=arrays["transl"],
        betas=arrays.get("betas"),
    )
    hands: WilorHands | HandStates | None = None
    if meta.hands_format is HandsFormat.WILOR:
        hands = WilorHands(
            hand_pose=arrays["hand_pose"],
            keypoints=arrays["hand_keypoints"],
            confidence=arrays["hand_confidence"],
            valid=arrays["hand_valid"],
        )
    elif meta.hands_format is HandsFormat.STATES:
        hands = HandStates(states=arrays["hand_state"])
    return MotionPackage(meta=meta, body=body, hands=hands, g1_q_ref=arrays.get("g1_q_ref"))


def decode_package(data: bytes | bytearray | memoryview, config: PackageConfig) -> DecodedPackage:
    """Decode and fully validate a wire message.

    Args:
        data: the message bytes.
        config: limits and trusted keys.

    Returns:
        The package (arrays are read-only views into the message) and its provenance.

    Raises:
        PackageRejectedError: for every way the message can be wrong, and nothing else.
    """
    envelope = open_envelope(data, config)
    inner = unpack(envelope.body, "body")
    if not isinstance(inner, dict):
        raise _reject(Code.MALFORMED, "body", "must be a map")
    for key in ("meta", "arrays"):
        if key not in inner:
            raise _reject(Code.MISSING_FIELD, key, "required")
    if set(inner) - {"meta", "arrays"}:
        raise _reject(Code.UNKNOWN_FIELD, "body", "only meta and arrays are allowed")
    meta = _parse_meta(inner["meta"])
    check_meta_limits(meta, config)
    package = _assemble(meta, _parse_arrays(inner["arrays"], meta))
    validate_package(package, config)
    return DecodedPackage(
        package=package,
        sha256_hex=envelope.digest.hex(),
        wire_bytes=envelope.wire_bytes,
        signed_by=envelope.signed_by,
    )
