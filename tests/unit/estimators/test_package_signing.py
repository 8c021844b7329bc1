"""Key ids, key files and re-signing of motion packages.

Real: Ed25519 via ``cryptography``, the package codec and its envelope checks. Faked: the motion
content (small random packages from ``package_builders``).
"""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from estimators.errors import PackageErrorCode, PackageRejectedError, SigningKeyError
from estimators.package import (
    PackageConfig,
    decode_package,
    encode_package,
    generate_signing_key,
    key_id_of,
    peek_identity,
    public_key_bytes,
    resign_package,
)
from estimators.package.signing import (
    parse_private_key,
    parse_public_key,
    private_key_pem,
    public_key_pem,
)
from tests.unit.estimators.package_builders import build_package

KEY = generate_signing_key()


def trusting(*keys: Ed25519PrivateKey) -> PackageConfig:
    return PackageConfig(
        require_signature=True, trusted_keys={key_id_of(k): public_key_bytes(k) for k in keys}
    )


def test_the_key_id_is_a_sha256_prefix_of_the_raw_public_key() -> None:
    raw = public_key_bytes(KEY)
    assert key_id_of(KEY) == hashlib.sha256(raw).hexdigest()[:16]
    assert key_id_of(KEY) == key_id_of(KEY.public_key()) == key_id_of(raw)
    assert key_id_of(generate_signing_key()) != key_id_of(KEY)


def test_pem_and_hex_key_files_round_trip() -> None:
    assert key_id_of(parse_private_key(private_key_pem(KEY))) == key_id_of(KEY)
    seed = KEY.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    assert key_id_of(parse_private_key(seed.hex().encode() + b"\n")) == key_id_of(KEY)
    assert parse_public_key(public_key_pem(KEY)) == public_key_bytes(KEY)
    assert parse_public_key(public_key_bytes(KEY).hex().encode()) == public_key_bytes(KEY)


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"zz" * 32,
        b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        b"\xff\xfe not text",
    ],
)
def test_unusable_key_files_raise_signing_key_errors(text: bytes) -> None:
    with pytest.raises(SigningKeyError):
        parse_public_key(text)
    with pytest.raises(SigningKeyError):
        parse_private_key(text)


def test_keys_of_other_algorithms_are_refused_by_name() -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    pem = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(SigningKeyError, match="not an Ed25519 private key"):
        parse_private_key(pem)
    with pytest.raises(SigningKeyError, match="private key where a public key belongs"):
        parse_public_key(private_key_pem(KEY))


def test_resigning_keeps_the_body_and_digest_and_verifies_under_the_derived_id() -> None:
    unsigned = encode_package(build_package(5))
    signed = resign_package(unsigned, KEY)
    before = decode_package(unsigned, PackageConfig())
    after = decode_package(signed, trusting(KEY))
    assert after.sha256_hex == before.sha256_hex
    assert after.signed_by == key_id_of(KEY)
    other = generate_signing_key()
    resigned = decode_package(resign_package(signed, other), trusting(other))
    assert resigned.signed_by == key_id_of(other)
    with pytest.raises(PackageRejectedError) as caught:
        decode_package(resign_package(signed, other), trusting(KEY))
    assert caught.value.code is PackageErrorCode.SIGNATURE_UNKNOWN_KEY


def test_resigning_a_damaged_package_is_refused() -> None:
    data = bytearray(encode_package(build_package(5)))
    data[len(data) // 2] ^= 0x01
    with pytest.raises(PackageRejectedError) as caught:
        resign_package(bytes(data), KEY)
    assert caught.value.code is PackageErrorCode.DIGEST_MISMATCH


def test_peek_identity_reads_id_and_digest_after_the_envelope_checks() -> None:
    data = resign_package(encode_package(build_package(5)), KEY)
    identity = peek_identity(data, trusting(KEY))
    assert identity is not None
    assert identity.package_id == "test-pkg-1"
    assert identity.sha256_hex == decode_package(data, trusting(KEY)).sha256_hex
    assert identity.signed_by == key_id_of(KEY)
    with pytest.raises(PackageRejectedError) as caught:
        peek_identity(encode_package(build_package(5)), trusting(KEY))
    assert caught.value.code is PackageErrorCode.SIGNATURE_MISSING
