"""``exoactor-edge package keygen`` and ``package sign``, called in-process.

Real: the command line, key files in tmp_path, Ed25519, the package codec. Faked: the motion
content (the procedural demo motion).
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from daemon.cli.edge_cli import main
from estimators.demo_motion import make_demo_package
from estimators.package import (
    PackageConfig,
    PackageErrorCode,
    PackageRejectedError,
    decode_package,
    key_id_of,
)
from estimators.package.signing import parse_private_key, parse_public_key


def keygen(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path, str]:
    assert main(["package", "keygen", str(tmp_path / "fleet")]) == 0
    return tmp_path / "fleet.key", tmp_path / "fleet.pub", capsys.readouterr().out


def test_keygen_writes_a_private_key_only_its_owner_can_read_and_never_prints_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    private, public, out = keygen(tmp_path, capsys)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    key = parse_private_key(private.read_bytes())
    assert parse_public_key(public.read_bytes()) == key.public_key().public_bytes_raw()
    assert f"key id: {key_id_of(key)}" in out
    body = "".join(private.read_text().splitlines()[1:-1])
    assert body not in out
    assert "PRIVATE" not in out


def test_keygen_refuses_to_overwrite_a_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    private, _, _ = keygen(tmp_path, capsys)
    before = private.read_bytes()
    assert main(["package", "keygen", str(tmp_path / "fleet")]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    assert private.read_bytes() == before


def test_sign_writes_a_package_the_robot_verifies_with_the_public_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    private, public, _ = keygen(tmp_path, capsys)
    package = tmp_path / "demo.pkg"
    package.write_bytes(make_demo_package(duration_s=1.0))
    assert main(["package", "sign", str(package), "--key", str(private)]) == 0
    signed = tmp_path / "demo.signed.pkg"
    raw = parse_public_key(public.read_bytes())
    config = PackageConfig(require_signature=True, trusted_keys={key_id_of(raw): raw})
    decoded = decode_package(signed.read_bytes(), config)
    assert decoded.signed_by == key_id_of(raw)
    assert decoded.sha256_hex == decode_package(package.read_bytes(), PackageConfig()).sha256_hex
    assert decoded.sha256_hex in capsys.readouterr().out


def test_sign_refuses_a_broken_package_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    private, _, _ = keygen(tmp_path, capsys)
    broken = tmp_path / "broken.pkg"
    broken.write_bytes(make_demo_package(duration_s=1.0)[:-10])
    out = tmp_path / "out.pkg"
    assert main(["package", "sign", str(broken), "--key", str(private), "-o", str(out)]) == 1
    assert "rejected [malformed]" in capsys.readouterr().err
    assert not out.exists()


def test_sign_with_a_public_key_file_is_an_error_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, public, _ = keygen(tmp_path, capsys)
    package = tmp_path / "demo.pkg"
    package.write_bytes(make_demo_package(duration_s=1.0))
    assert main(["package", "sign", str(package), "--key", str(public)]) == 2
    assert "private key" in capsys.readouterr().err


def test_unsigned_and_foreign_signed_packages_are_refused_by_a_strict_robot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    private, public, _ = keygen(tmp_path, capsys)
    raw = parse_public_key(public.read_bytes())
    strict = PackageConfig(require_signature=True, trusted_keys={key_id_of(raw): raw})
    unsigned = make_demo_package(duration_s=1.0)
    with pytest.raises(PackageRejectedError) as caught:
        decode_package(unsigned, strict)
    assert caught.value.code is PackageErrorCode.SIGNATURE_MISSING
    (tmp_path / "other").mkdir()
    assert main(["package", "keygen", str(tmp_path / "other" / "k")]) == 0
    package = tmp_path / "demo.pkg"
    package.write_bytes(unsigned)
    other_key = str(tmp_path / "other" / "k.key")
    assert main(["package", "sign", str(package), "--key", other_key]) == 0
    with pytest.raises(PackageRejectedError) as caught:
        decode_package((tmp_path / "demo.signed.pkg").read_bytes(), strict)
    assert caught.value.code is PackageErrorCode.SIGNATURE_UNKNOWN_KEY
    assert private.exists()
