"""Credential names agree between the unit and the configuration; ``config check`` warns.

Real: the shipped ``systemd/exoactor-edge.service`` and ``systemd/edge.toml``, the
configuration loader, the ``exoactor-edge config check`` command line, credential files in
tmp_path. Nothing is faked. (The example trusts /etc/exoactor/trusted-keys for package
signatures, which this machine lacks; the environment override switches that off here.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from daemon.cli.edge_cli import main
from daemon.config import EdgeConfig, load_config
from daemon.system.credential_check import (
    DEFAULT_CREDENTIALS_SOURCE,
    missing_secrets,
    needed_secrets,
    unit_credentials,
)

SYSTEMD_DIR = Path(__file__).resolve().parents[3] / "systemd"
UNIT_TEXT = (SYSTEMD_DIR / "exoactor-edge.service").read_text(encoding="utf-8")
SOME_KEY = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
EVERY_FEATURE = f"""
[ingest.curve]
secret_key_credential = "zmq-curve-secret"
authorized_keys = ["{SOME_KEY}"]
[streaming]
endpoint = "tcp://127.0.0.1:5556"
[streaming.curve]
secret_key_credential = "zmq-curve-secret"
authorized_keys = ["{SOME_KEY}"]
[generation.estimation]
token_credential = {{ credential = "estimation-token" }}
"""


@pytest.fixture(autouse=True)
def _no_package_keys_and_no_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXOACTOR_PACKAGE__REQUIRE_SIGNATURE", "false")
    monkeypatch.setenv("EXOACTOR_PACKAGE__TRUSTED_KEYS", "[]")
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)


def shipped(tmp_path: Path, extra: str = "") -> Path:
    """The shipped edge.toml, optionally with more sections appended; the fleet broker's CA
    file it names is a file in ``tmp_path`` (a public certificate, not a credential)."""
    path = tmp_path / "edge.toml"
    ca_file = tmp_path / "fleet-ca.pem"
    ca_file.write_text("-----BEGIN CERTIFICATE-----\n")
    text = (SYSTEMD_DIR / "edge.toml").read_text(encoding="utf-8")
    assert "/etc/exoactor/fleet-ca.pem" in text
    text = text.replace("/etc/exoactor/fleet-ca.pem", str(ca_file))
    path.write_text(text + extra, encoding="utf-8")
    return path


def credential_names(config: EdgeConfig, *, at_start_only: bool = False) -> set[str]:
    return {
        need.credential
        for need in needed_secrets(config)
        if need.credential is not None and (need.is_needed_at_start or not at_start_only)
    }


def test_the_unit_loads_exactly_the_credentials_the_configuration_reads(tmp_path: Path) -> None:
    """Active and commented-out LoadCredential= lines together name every credential a fully
    configured robot reads, and nothing else; what the shipped edge.toml needs at start is
    loaded (not commented out), from where ``config check`` looks by default."""
    active = unit_credentials(UNIT_TEXT)
    commented = set(re.findall(r"(?m)^#LoadCredential=([^:\s]+):", UNIT_TEXT))
    everything = load_config(shipped(tmp_path, EVERY_FEATURE), required=True)
    assert set(active) | commented == credential_names(everything)
    assert not set(active) & commented
    at_start = credential_names(load_config(shipped(tmp_path), required=True), at_start_only=True)
    assert at_start == {"mqtt-password"}
    assert at_start <= set(active)
    for name, source in active.items():
        assert source == DEFAULT_CREDENTIALS_SOURCE / name


def test_config_check_warns_once_per_missing_credential(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "mqtt-password").write_text("pw\n")
    config = shipped(tmp_path, EVERY_FEATURE)
    args = ["config", "check", str(config), "--credentials-dir", str(credentials)]
    args += ["--unit", str(tmp_path / "no-unit.service")]
    assert main(args) == 2, "an unreadable unit file is a usage error"
    capsys.readouterr()

    assert main(["config", "check", str(config), "--credentials-dir", str(credentials)]) == 0
    lines = capsys.readouterr().err.splitlines()
    missing = ["zmq-curve-secret", "zmq-curve-secret", "gemini-api-key", "openai-api-key"]
    missing += ["kling-access-key", "kling-secret-key", "estimation-token"]
    assert len(lines) == len(missing)
    for line, name in zip(lines, missing, strict=True):
        assert line.startswith(f"exoactor-edge: warning: credential '{name}'")
        assert str(credentials / name) in line
    assert "needed at start" in lines[0]
    assert "generateMotion fails" in lines[-1]

    for name in set(missing):
        (credentials / name).write_text("x\n")
    assert main(["config", "check", str(config), "--credentials-dir", str(credentials)]) == 0
    assert capsys.readouterr().err == ""


def test_with_the_unit_a_credential_it_does_not_load_is_named_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unit = tmp_path / "exoactor-edge.service"
    unit.write_text(UNIT_TEXT.replace("/etc/exoactor/credentials/", f"{tmp_path}/"))
    (tmp_path / "mqtt-password").write_text("pw\n")
    config = shipped(tmp_path, EVERY_FEATURE.split("[streaming]")[0])
    assert main(["config", "check", str(config), "--unit", str(unit)]) == 0
    lines = capsys.readouterr().err.splitlines()
    curve = [line for line in lines if "zmq-curve-secret" in line]
    assert len(curve) == 1
    assert "the unit has no LoadCredential=zmq-curve-secret:" in curve[0]
    assert not any("mqtt-password" in line for line in lines)


def test_under_systemd_the_credentials_directory_is_what_counts(tmp_path: Path) -> None:
    config = load_config(shipped(tmp_path), required=True)
    needs = [n for n in needed_secrets(config) if n.is_needed_at_start]
    assert missing_secrets(needs, credentials_dir=tmp_path, unit=None) == [
        "credential 'mqtt-password' (fleet.broker.password_credential, needed at start: "
        "without it the fleet broker refuses the connection) is missing: "
        f"{tmp_path / 'mqtt-password'} does not exist"
    ]
    (tmp_path / "mqtt-password").write_text("pw\n")
    assert missing_secrets(needs, credentials_dir=tmp_path, unit=None) == []


def test_a_missing_secret_file_is_reported_by_its_key(tmp_path: Path) -> None:
    path = tmp_path / "edge.toml"
    path.write_text(
        '[fleet.broker]\nusername = "G1-0001"\n'
        f'password_file = "{tmp_path / "pw"}"\n[fleet.broker.tls]\nca_file = "{tmp_path / "ca"}"\n'
    )
    lines = missing_secrets(
        needed_secrets(load_config(path, required=True)), credentials_dir=None, unit=None
    )
    assert lines[0].startswith("secret file (fleet.broker.password_file, needed at start")
    assert lines[1].startswith("secret file (fleet.broker.tls.ca_file, needed at start")
