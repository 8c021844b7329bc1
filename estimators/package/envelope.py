"""The outer layer of a v1 package: format marker, version, digest, signature (no content).

``open_envelope`` does the checks every package meets before its body is looked at (size,
structure, version, digest, signature), in the order ``decode_package`` promises. Two uses need
no more than that: ``peek_identity`` (which id and digest a message claims, so the daemon can
answer a replay of a stored package without validating it again) and ``resign_package`` (sign an
existing package without touching its body, so the digest stays what the producer wrote).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import msgpack
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from estimators.errors import PackageErrorCode, PackageRejectedError
from estimators.package.config import PackageConfig
from estimators.package.meta import FORMAT_MARKER, FORMAT_VERSION
from estimators.package.signing import key_id_of, sign_digest, verify_signature

Code = PackageErrorCode
_OUTER_KEYS = frozenset({"format", "version", "body", "sha256", "signature", "key_id"})
# msgpack raises these on malformed input (FormatError, StackError, ExtraData and OutOfData are
# ValueError subclasses; TypeError for unhashable keys).
MSGPACK_ERRORS = (ValueError, TypeError, msgpack.UnpackException, OverflowError, RecursionError)


def reject(code: PackageErrorCode, field: str, detail: str) -> PackageRejectedError:
    return PackageRejectedError(code, field, detail)


@dataclass(frozen=True)
class Envelope:
    """A message whose outer layer passed: the body bytes, their digest, who signed them."""

    body: bytes
    digest: bytes
    signed_by: str | None
    wire_bytes: int


@dataclass(frozen=True)
class PackageIdentity:
    """What a message claims to be, read without validating its content."""

    package_id: str
    sha256_hex: str
    """The package digest: SHA-256 of the body (what signatures cover)."""
    signed_by: str | None


def unpack(data: bytes, field: str) -> Any:
    """msgpack -> Python, or ``MALFORMED`` naming ``field``."""
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=True, use_list=True)
    except MSGPACK_ERRORS as exc:
        raise reject(Code.MALFORMED, field, f"not valid msgpack: {type(exc).__name__}") from None


def _open_outer(data: bytes) -> tuple[bytes, bytes, Any, Any]:
    outer = unpack(data, "message")
    if not isinstance(outer, dict):
        raise reject(Code.MALFORMED, "message", "top level is not a map")
    for key in ("format", "version"):
        if key not in outer:
            raise reject(Code.MISSING_FIELD, key, "required")
    if outer["format"] != FORMAT_MARKER:
        raise reject(Code.UNSUPPORTED_VERSION, "format", "not an ExoActor motion package")
    version = outer["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version != FORMAT_VERSION:
        raise reject(Code.UNSUPPORTED_VERSION, "version", f"{version!r:.40}; supported: 1")
    for key in ("body", "sha256"):
        if key not in outer:
            raise reject(Code.MISSING_FIELD, key, "required")
    unknown = set(outer) - _OUTER_KEYS
    if unknown:
        raise reject(Code.UNKNOWN_FIELD, str(sorted(map(str, unknown))[0])[:64], "not in format v1")
    body, digest = outer["body"], outer["sha256"]
    if not isinstance(body, bytes) or not isinstance(digest, bytes):
        raise reject(Code.MALFORMED, "body", "body and sha256 must be binary")
    if hashlib.sha256(body).digest() != digest:
        raise reject(Code.DIGEST_MISMATCH, "sha256", "body does not match its SHA-256 digest")
    return body, digest, outer.get("signature"), outer.get("key_id")


def open_envelope(data: bytes | bytearray | memoryview, config: PackageConfig) -> Envelope:
    """Size, structure, version, digest and signature checks.

    Raises:
        PackageRejectedError: the message fails one of them.
    """
    size = len(data)
    if size > config.max_bytes:
        raise reject(Code.TOO_LARGE, "message", f"{size} bytes > limit {config.max_bytes}")
    body, digest, signature, key_id = _open_outer(bytes(data))
    signed_by = verify_signature(
        digest, signature, key_id, config.trusted_keys, required=config.require_signature
    )
    return Envelope(body=body, digest=digest, signed_by=signed_by, wire_bytes=size)


def peek_identity(
    data: bytes | bytearray | memoryview, config: PackageConfig
) -> PackageIdentity | None:
    """The package id and digest a message claims, after the envelope checks only.

    Returns:
        The identity, or None when the body does not name an id plainly (the full decode then
        gives the precise rejection).

    Raises:
        PackageRejectedError: the envelope fails (same codes and order as ``decode_package``).
    """
    envelope = open_envelope(data, config)
    try:
        inner = unpack(envelope.body, "body")
    except PackageRejectedError:
        return None
    meta = inner.get("meta") if isinstance(inner, dict) else None
    package_id = meta.get("package_id") if isinstance(meta, dict) else None
    if not isinstance(package_id, str) or not package_id:
        return None
    return PackageIdentity(package_id, envelope.digest.hex(), envelope.signed_by)


def read_digest(data: bytes) -> str:
    """The package digest (hex) of a message whose outer layer is intact; no signature check
    (for reading back what was stored, whoever signed it).

    Raises:
        PackageRejectedError: the outer layer is broken (malformed, wrong version, digest).
    """
    return _open_outer(data)[1].hex()


def seal_body(
    body: bytes, *, signing_key: Ed25519PrivateKey | None = None, key_id: str | None = None
) -> bytes:
    """Wrap an encoded body with format marker, version, digest and optional signature."""
    digest = hashlib.sha256(body).digest()
    signature = sign_digest(signing_key, digest) if signing_key is not None else None
    outer = {
        "format": FORMAT_MARKER,
        "version": FORMAT_VERSION,
        "body": body,
        "sha256": digest,
        "signature": signature,
        "key_id": key_id if signing_key is not None else None,
    }
    return bytes(msgpack.packb(outer, use_bin_type=True))


def resign_package(data: bytes, signing_key: Ed25519PrivateKey) -> bytes:
    """The same package (byte-identical body, same digest) signed by ``signing_key`` under its
    derived key id; any earlier signature is dropped.

    Raises:
        PackageRejectedError: the outer layer is broken (malformed, wrong version, digest).
    """
    body, _, _, _ = _open_outer(data)
    return seal_body(body, signing_key=signing_key, key_id=key_id_of(signing_key))
