"""Broker provisioning: the ACL text, the files it writes, and what it refuses.

Real: ``mosquitto_passwd`` hashing the passwords (skipped, saying why, when it is missing), the
files in tmp_path, the ``exoactor-edge broker provision`` and ``zmq keygen`` command lines.
That mosquitto enforces the result is shown in ``tests/integration/test_broker_auth.py``.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from daemon.cli.edge_cli import main
from daemon.fleet.broker_provision import (
    ACL_NAME,
    PASSWD_NAME,
    ProvisionError,
    RobotTopics,
    acl_text,
    find_mosquitto_passwd,
    provision,
)
from daemon.fleet.vda5050.config import FleetConfig

needs_passwd = pytest.mark.skipif(
    find_mosquitto_passwd() is None, reason="mosquitto_passwd missing (apt-get install mosquitto)"
)


def grants(acl: str, user: str) -> dict[str, set[str]]:
    """{"read": topics, "write": topics} of one user's section."""
    section = acl.split(f"\nuser {user}\n", 1)[1].split("\nuser ", 1)[0]
    out: dict[str, set[str]] = {"read": set(), "write": set()}
    for access, topic in re.findall(r"(?m)^topic (read|write) (\S+)$", section):
        out[access].add(topic)
    return out


def test_the_robot_writes_only_its_own_reports_and_reads_only_its_commands() -> None:
    fleet = FleetConfig(serial_number="G1-0007")
    acl = acl_text([fleet])
    robot = grants(acl, "G1-0007")
    prefix = "vda5050/v3/Unitree/G1-0007"
    assert robot["write"] == {
        f"{prefix}/{t}"
        for t in (
            "connection",
            "state",
            "factsheet",
            "visualization",
            "telemetry",
            "motionPackages/answers",
            "motionPackages/answers/#",
        )
    }
    commands = RobotTopics.of(fleet).fleet_publishes
    assert {"instantActions", "order", "zoneSet", "responses", "motionPackages"} <= set(commands)
    assert robot["read"] == {f"{prefix}/{t}" for t in commands}
    fleet_user = grants(acl, "fleet")
    assert fleet_user["write"] == robot["read"]
    assert fleet_user["read"] == robot["write"]


def test_the_acl_follows_the_configured_topic_layout() -> None:
    fleet = FleetConfig(
        interface_name="uagv", manufacturer="Acme", serial_number="R2", packages_topic="pkgs"
    )
    topics = RobotTopics.of(fleet)
    assert topics.prefix == "uagv/v3/Acme/R2"
    assert "topic write uagv/v3/Acme/R2/pkgs" in acl_text([fleet])
    assert "pkgs" in topics.fleet_publishes


def test_a_bad_fleet_user_name_is_refused() -> None:
    with pytest.raises(ProvisionError, match="only A-Z"):
        acl_text([FleetConfig()], fleet_user="fleet#1")


@needs_passwd
def test_provision_writes_hashed_passwords_and_private_credentials(tmp_path: Path) -> None:
    result = provision(tmp_path / "out", FleetConfig(), ["G1-0001", "G1-0002"])
    lines = result.passwd_file.read_text().splitlines()
    assert [line.split(":", 1)[0] for line in lines] == ["G1-0001", "G1-0002", "fleet"]
    for serial, path in result.robot_credentials.items():
        password = path.read_text().strip()
        assert len(password) >= 32
        assert password not in result.passwd_file.read_text(), f"{serial}'s password in clear"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(result.fleet_credential.stat().st_mode) == 0o600
    assert stat.S_IMODE(result.passwd_file.stat().st_mode) == 0o600
    assert all(line.split(":", 1)[1].startswith("$7$") for line in lines), "PBKDF2-SHA512"
    assert result.acl_file.read_text() == acl_text(
        [FleetConfig(serial_number="G1-0001"), FleetConfig(serial_number="G1-0002")]
    )


@needs_passwd
def test_provision_never_overwrites_and_changes_nothing_when_it_refuses(tmp_path: Path) -> None:
    provision(tmp_path, FleetConfig())
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(ProvisionError, match="exist"):
        provision(tmp_path, FleetConfig())
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_provision_refuses_a_bad_serial_or_a_fleet_user_named_like_a_robot(
    tmp_path: Path,
) -> None:
    with pytest.raises(ProvisionError, match="serial_number"):
        provision(tmp_path, FleetConfig(), ["G1/0001"])
    with pytest.raises(ProvisionError, match="must not be a robot"):
        provision(tmp_path, FleetConfig(), ["fleet"])
    assert not any(tmp_path.iterdir())


def test_provision_says_when_mosquitto_passwd_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ProvisionError, match="could not run"):
        provision(tmp_path, FleetConfig(), passwd_tool=str(tmp_path / "no-such-tool"))
    assert not (tmp_path / PASSWD_NAME).exists()
    assert not (tmp_path / ACL_NAME).exists()


@needs_passwd
def test_the_provision_command_prints_paths_never_passwords(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "edge.toml"
    config.write_text('[fleet]\nserial_number = "G1-0042"\n')
    out = tmp_path / "out"
    assert main(["broker", "provision", "--config", str(config), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    password = (out / "credentials" / "G1-0042" / "mqtt-password").read_text().strip()
    assert "user G1-0042" in printed
    assert password not in printed
    assert main(["broker", "provision", "--config", str(config), "--out", str(out)]) == 1
    assert "exist" in capsys.readouterr().err


def test_the_keygen_command_prints_the_public_key_and_keeps_the_secret_private(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["zmq", "keygen", "robot-G1-0001", "--dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    secret_file = tmp_path / "robot-G1-0001.key_secret"
    secret = re.search(r'secret-key = "(.+)"', secret_file.read_text())
    public = re.search(r'public-key = "(.+)"', (tmp_path / "robot-G1-0001.key").read_text())
    assert secret is not None
    assert public is not None
    assert public.group(1) in printed
    assert secret.group(1) not in printed
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert main(["zmq", "keygen", "robot-G1-0001", "--dir", str(tmp_path)]) == 1
