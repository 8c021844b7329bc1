"""The ``[package]`` section: signature requirement, trusted keys from files, size limits.

Real: TOML parsing, pydantic validation, key files in tmp_path (PEM and hex), Ed25519 keys
made by ``cryptography``, the codec's own config. Nothing is faked.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from daemon.config import ConfigError, load_config
from estimators.package import generate_signing_key, key_id_of, public_key_bytes
from estimators.package.signing import private_key_pem, public_key_pem


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "edge.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_accept_unsigned_packages_and_trust_nobody() -> None:
    config = load_config(None).package.package_config()
    assert not config.require_signature
    assert dict(config.trusted_keys) == {}


def test_trusted_keys_from_a_directory_and_a_file_are_known_by_their_derived_ids(
    tmp_path: Path,
) -> None:
    keys = tmp_path / "trusted-keys"
    keys.mkdir()
    cloud, workstation, loose = (generate_signing_key() for _ in range(3))
    (keys / "cloud.pub").write_bytes(public_key_pem(cloud))
    (keys / "workstation.pub").write_text(public_key_bytes(workstation).hex() + "\n")
    (keys / "README").write_text("not a key: ignored, it does not end in .pub")
    (tmp_path / "loose.pem").write_bytes(public_key_pem(loose))
    path = write(
        tmp_path,
        f'[package]\nrequire_signature = true\ntrusted_keys = ["{keys}", "{tmp_path}/loose.pem"]\n',
    )
    config = load_config(path).package.package_config()
    assert config.require_signature
    assert dict(config.trusted_keys) == {
        key_id_of(k): public_key_bytes(k) for k in (cloud, workstation, loose)
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such key file or directory"),
        (b"-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----\n", "not a PEM"),
        ("private", "private key where a public key belongs"),
        ("ec", "not an Ed25519 public key"),
    ],
)
def test_a_bad_trusted_key_path_stops_at_load_naming_the_file(
    tmp_path: Path, content: bytes | str | None, message: str
) -> None:
    key_file = tmp_path / "fleet.pub"
    if content == "private":
        key_file.write_bytes(private_key_pem(generate_signing_key()))
    elif content == "ec":
        ec_key = ec.generate_private_key(ec.SECP256R1()).public_key()
        key_file.write_bytes(
            ec_key.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    elif isinstance(content, bytes):
        key_file.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, f'[package]\ntrusted_keys = ["{key_file}"]\n'))
    assert caught.value.key == "package"
    assert str(key_file) in str(caught.value)
    assert message in str(caught.value)


def test_requiring_signatures_without_any_trusted_key_is_a_config_error(tmp_path: Path) -> None:
    empty = tmp_path / "keys"
    empty.mkdir()
    text = f'[package]\nrequire_signature = true\ntrusted_keys = ["{empty}"]\n'
    with pytest.raises(ConfigError, match="names no key"):
        load_config(write(tmp_path, text))


def test_uploads_larger_than_the_package_limit_are_a_config_error(tmp_path: Path) -> None:
    """Otherwise ZeroMQ or MQTT would buffer a message the codec must refuse anyway."""
    text = "[package]\nmax_bytes = 1048576\n[ingest]\nmax_message_bytes = 2097152\n"
    with pytest.raises(ConfigError, match=r"ingest.max_message_bytes .* exceeds package.max_bytes"):
        load_config(write(tmp_path, text))
    mqtt = "[package]\nmax_bytes = 1048576\n[ingest]\nmax_message_bytes = 1048576\n"
    with pytest.raises(ConfigError, match=r"fleet.max_package_bytes .* exceeds package.max_bytes"):
        load_config(write(tmp_path, mqtt))  # the MQTT limit defaults to 4 MiB
    ok = mqtt + "[fleet]\nmax_package_bytes = 1048576\n"
    assert load_config(write(tmp_path, ok)).package.package_config().max_bytes == 1048576


def test_unknown_package_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, "[package]\nrequire_signatures = true\n"))
    assert caught.value.key == "package.require_signatures"
