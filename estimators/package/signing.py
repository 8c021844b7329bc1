"""Ed25519 signatures over a package's SHA-256 digest (``cryptography``).

The signed message is ``SIGNING_CONTEXT + sha256(body)``: signing the digest keeps verification
independent of the package size, and the context string stops a signature made for something
else from being replayed as a package signature.
"""

from __future__ import annotations

from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from estimators.errors import PackageErrorCode, PackageRejectedError

SIGNING_CONTEXT = b"exoactor-motion-package/v1\x00"
SIGNATURE_BYTES = 64


def generate_signing_key() -> Ed25519PrivateKey:
    """A new random Ed25519 private key (for tests, demos and key provisioning)."""
    return Ed25519PrivateKey.generate()


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """Raw 32-byte public key, the form ``PackageConfig.trusted_keys`` takes."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def private_key_from_bytes(raw: bytes) -> Ed25519PrivateKey:
    """Load a raw 32-byte Ed25519 private key (seed)."""
    return Ed25519PrivateKey.from_private_bytes(raw)


def sign_digest(key: Ed25519PrivateKey, digest: bytes) -> bytes:
    """Signature (64 bytes) of a package digest."""
    return key.sign(SIGNING_CONTEXT + digest)


def verify_signature(
    digest: bytes,
    signature: object,
    key_id: object,
    trusted_keys: Mapping[str, bytes],
    *,
    required: bool,
) -> str | None:
    """Check a package signature against the trusted keys.

    Returns:
        The key id that verified, or None for an unsigned package or an unknown key when no
        signature is required.

    Raises:
        PackageRejectedError: ``SIGNATURE_MISSING`` when required and absent;
            ``SIGNATURE_INVALID`` when malformed, not verifying, or (when required) by an
            untrusted key.
    """
    if signature is None:
        if required:
            raise PackageRejectedError(
                PackageErrorCode.SIGNATURE_MISSING,
                "signature",
                "this robot requires signed packages",
            )
        return None
    if not isinstance(signature, bytes) or len(signature) != SIGNATURE_BYTES:
        raise PackageRejectedError(
            PackageErrorCode.SIGNATURE_INVALID, "signature", "not a 64-byte Ed25519 signature"
        )
    if not isinstance(key_id, str) or key_id not in trusted_keys:
        if required:
            raise PackageRejectedError(
                PackageErrorCode.SIGNATURE_INVALID, "key_id", f"key {key_id!r} is not trusted"
            )
        return None
    public = Ed25519PublicKey.from_public_bytes(trusted_keys[key_id])
    try:
        public.verify(signature, SIGNING_CONTEXT + digest)
    except InvalidSignature:
        raise PackageRejectedError(
            PackageErrorCode.SIGNATURE_INVALID, "signature", f"does not verify with key {key_id!r}"
        ) from None
    return key_id
