"""Ed25519 signatures over a package's SHA-256 digest (``cryptography``), and key files.

The signed message is ``SIGNING_CONTEXT + sha256(body)``: signing the digest keeps verification
independent of the package size, and the context string stops a signature made for something
else from being replayed as a package signature.

A key is named by its *key id*, derived from the public key (``key_id_of``: the first 16 hex
digits of the SHA-256 of the raw 32-byte public key), so a package cannot claim a key by a name
the robot gave to another one, and signer and robot agree on the id without a registry. Key files
are PEM (PKCS#8 private, SubjectPublicKeyInfo public, as ``openssl genpkey -algorithm ed25519``
writes them) or 64 hex digits (a raw seed or public key, the older form ``package from-genmo``
reads). Parsing takes bytes: reading files is the caller's business.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from estimators.errors import PackageErrorCode, PackageRejectedError, SigningKeyError

SIGNING_CONTEXT = b"exoactor-motion-package/v1\x00"
SIGNATURE_BYTES = 64
KEY_BYTES = 32
KEY_ID_HEX_DIGITS = 16
"""64 bits of SHA-256: ids only need to be distinct among the keys one robot trusts."""
_SHOWN_ID_CHARS = 64


def generate_signing_key() -> Ed25519PrivateKey:
    """A new random Ed25519 private key (for tests, demos and key provisioning)."""
    return Ed25519PrivateKey.generate()


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """Raw 32-byte public key, the form ``PackageConfig.trusted_keys`` takes."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(key: Ed25519PrivateKey | Ed25519PublicKey | bytes) -> str:
    """The key id of a key (or of raw public key bytes): 16 lowercase hex digits."""
    raw = key if isinstance(key, bytes) else public_key_bytes(key)
    return hashlib.sha256(raw).hexdigest()[:KEY_ID_HEX_DIGITS]


def private_key_from_bytes(raw: bytes) -> Ed25519PrivateKey:
    """Load a raw 32-byte Ed25519 private key (seed)."""
    return Ed25519PrivateKey.from_private_bytes(raw)


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    """PKCS#8 PEM, unencrypted: the file is protected by its mode (0600), as ssh keys are."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM of the public half."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _hex_key(text: bytes) -> bytes | None:
    stripped = text.strip()
    if len(stripped) != 2 * KEY_BYTES:
        return None
    try:
        return bytes.fromhex(stripped.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None


def parse_private_key(text: bytes) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM (PKCS#8) or 64 hex digits.

    Raises:
        SigningKeyError: anything else (another algorithm, an encrypted or damaged file).
    """
    raw = _hex_key(text)
    if raw is not None:
        return private_key_from_bytes(raw)
    try:
        key = serialization.load_pem_private_key(text, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise SigningKeyError(
            f"not an unencrypted PEM or hex Ed25519 private key ({exc})"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"a {type(key).__name__}, not an Ed25519 private key")
    return key


def parse_public_key(text: bytes) -> bytes:
    """Raw 32-byte Ed25519 public key from PEM (SubjectPublicKeyInfo) or 64 hex digits.

    Raises:
        SigningKeyError: anything else (a private key is refused: it does not belong there).
    """
    raw = _hex_key(text)
    if raw is not None:
        return raw
    if b"PRIVATE KEY" in text:
        raise SigningKeyError("a private key where a public key belongs: never copy it here")
    try:
        key = serialization.load_pem_public_key(text)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise SigningKeyError(f"not a PEM or hex Ed25519 public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(f"a {type(key).__name__}, not an Ed25519 public key")
    return public_key_bytes(key)


def sign_digest(key: Ed25519PrivateKey, digest: bytes) -> bytes:
    """Signature (64 bytes) of a package digest."""
    return key.sign(SIGNING_CONTEXT + digest)


def _refuse(code: PackageErrorCode, field: str, detail: str) -> PackageRejectedError:
    return PackageRejectedError(code, field, detail)


def verify_signature(
    digest: bytes,
    signature: object,
    key_id: object,
    trusted_keys: Mapping[str, bytes],
    *,
    required: bool,
) -> str | None:
    """Check a package signature against the trusted keys.

    A signature is either absent (with no key id) or checked: one that names an unknown key or
    does not verify is refused even when signatures are optional, because accepting it would
    let an unverifiable claim of origin through.

    Returns:
        The key id that verified, or None for an unsigned package (only when not required).

    Raises:
        PackageRejectedError: ``SIGNATURE_MISSING`` when required and absent;
            ``SIGNATURE_UNKNOWN_KEY`` when the key id is missing, not a string or not trusted;
            ``SIGNATURE_INVALID`` when malformed or not verifying.
    """
    if signature is None and key_id is None:
        if required:
            raise _refuse(
                PackageErrorCode.SIGNATURE_MISSING,
                "signature",
                "this robot requires signed packages",
            )
        return None
    if not isinstance(signature, bytes) or len(signature) != SIGNATURE_BYTES:
        raise _refuse(
            PackageErrorCode.SIGNATURE_INVALID, "signature", "not a 64-byte Ed25519 signature"
        )
    if not isinstance(key_id, str):
        raise _refuse(
            PackageErrorCode.SIGNATURE_UNKNOWN_KEY, "key_id", "a signature needs a string key id"
        )
    public_raw = trusted_keys.get(key_id)
    shown = key_id[:_SHOWN_ID_CHARS]
    if public_raw is None:
        raise _refuse(
            PackageErrorCode.SIGNATURE_UNKNOWN_KEY, "key_id", f"key {shown!r} is not trusted"
        )
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, SIGNING_CONTEXT + digest)
    except InvalidSignature:
        raise _refuse(
            PackageErrorCode.SIGNATURE_INVALID, "signature", f"does not verify with key {shown!r}"
        ) from None
    return key_id
