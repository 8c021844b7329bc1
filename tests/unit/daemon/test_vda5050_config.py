"""Fleet configuration, the broker password sources, and the reconnect backoff.

Real: the config dataclasses, ``read_password`` on files in tmp_path, ``backoff_delay_s``.
Nothing is faked; no broker is needed.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from daemon.fleet.mqtt_adapter import Secret, backoff_delay_s, read_password
from daemon.fleet.vda5050.config import BrokerConfig, FleetConfig, TlsConfig
from daemon.fleet.vda5050.errors import BrokerCredentialError, FleetConfigError

SECRET = "hunter2-do-not-print"


def test_topics_follow_the_vda5050_layout() -> None:
    topics = FleetConfig(
        interface_name="fleetA", manufacturer="Unitree", serial_number="G1_7"
    ).topics
    assert topics.prefix == "fleetA/v3/Unitree/G1_7"
    assert topics.instant_actions == "fleetA/v3/Unitree/G1_7/instantActions"
    assert topics.connection.endswith("/connection")
    assert topics.state.endswith("/state")
    assert topics.factsheet.endswith("/factsheet")
    assert topics.packages == "fleetA/v3/Unitree/G1_7/motionPackages"
    assert topics.package_answers == "fleetA/v3/Unitree/G1_7/motionPackages/answers"


def test_client_id_defaults_to_the_robot_identity() -> None:
    assert FleetConfig(serial_number="S1").client_id == "Unitree-S1-edge"
    assert FleetConfig(broker=BrokerConfig(client_id="x")).client_id == "x"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"serial_number": "G1/7"}, "serial_number"),
        ({"serial_number": "G1 7"}, "serial_number"),
        ({"manufacturer": "Uni+tree"}, "manufacturer"),
        ({"interface_name": ""}, "interface_name"),
        ({"state_interval_s": 31.0}, "state_interval_s"),
        ({"state_interval_s": 0.0}, "state_interval_s"),
        ({"min_state_interval_s": 40.0}, "min_state_interval_s"),
        ({"telemetry_rate_hz": -1.0}, "telemetry_rate_hz"),
        ({"command_expiry_s": 0}, "command_expiry_s"),
        ({"max_package_bytes": 0}, "max_package_bytes"),
        ({"package_answers_topic": "a/#"}, "package_answers_topic"),
    ],
)
def test_bad_fleet_values_are_refused_with_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(FleetConfigError) as caught:
        FleetConfig(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"port": 0}, "broker.port"),
        ({"host": ""}, "broker.host"),
        ({"keepalive_s": 0}, "broker.keepalive_s"),
        ({"reconnect_initial_s": 2.0, "reconnect_max_s": 1.0}, "broker.reconnect_max_s"),
        ({"password_file": Path("p")}, "broker.username"),
        (
            {"username": "u", "password_file": Path("p"), "password_credential": "c"},
            "broker.password_file",
        ),
        ({"username": "u", "password_credential": "../etc"}, "broker.password_credential"),
    ],
)
def test_bad_broker_values_are_refused_with_the_field(
    kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(FleetConfigError) as caught:
        BrokerConfig(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_tls_client_certificate_needs_its_key() -> None:
    with pytest.raises(FleetConfigError):
        TlsConfig(cert_file=Path("c.pem"))


def test_password_from_a_file_drops_one_trailing_newline(tmp_path: Path) -> None:
    path = tmp_path / "pw"
    path.write_text(SECRET + "\n")
    password = read_password(BrokerConfig(username="u", password_file=path), {})
    assert password is not None
    assert password.reveal() == SECRET
    assert SECRET not in repr(password)
    assert SECRET not in str(password)
    assert SECRET not in repr(BrokerConfig(username="u", password_file=path))


def test_password_from_a_systemd_credential(tmp_path: Path) -> None:
    (tmp_path / "mqtt-password").write_text(SECRET)
    broker = BrokerConfig(username="u", password_credential="mqtt-password")
    password = read_password(broker, {"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert password is not None
    assert password.reveal() == SECRET


def test_no_password_configured_means_none() -> None:
    assert read_password(BrokerConfig(), {}) is None


@pytest.mark.parametrize("content", [b"", b"\n", b"\xff" + SECRET.encode()])
def test_unusable_password_files_name_the_source_never_the_content(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "pw"
    path.write_bytes(content)
    with pytest.raises(BrokerCredentialError) as caught:
        read_password(BrokerConfig(username="u", password_file=path), {})
    assert caught.value.source == str(path)
    assert SECRET not in str(caught.value)


def test_missing_credentials_directory_is_explained() -> None:
    broker = BrokerConfig(username="u", password_credential="mqtt")
    with pytest.raises(BrokerCredentialError) as caught:
        read_password(broker, {})
    assert caught.value.source == "credential:mqtt"
    assert "CREDENTIALS_DIRECTORY" in caught.value.detail


def test_missing_password_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(BrokerCredentialError):
        read_password(BrokerConfig(username="u", password_file=tmp_path / "none"), {})


def test_backoff_doubles_to_its_cap_with_jitter_in_the_upper_half() -> None:
    rng = random.Random(5)
    ceilings = [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    for attempt, ceiling in enumerate(ceilings):
        for _ in range(50):
            delay = backoff_delay_s(attempt, initial_s=0.5, max_s=10.0, rng=rng)
            assert ceiling / 2 <= delay <= ceiling
    assert backoff_delay_s(10_000, initial_s=0.5, max_s=10.0, rng=rng) <= 10.0


def test_the_default_reconnect_delay_is_capped_at_two_seconds() -> None:
    """Issue 13: backoff grew to 30 s, so the robot came back 5.4-5.7 s after a 6-8 s outage."""
    broker = BrokerConfig()
    assert broker.reconnect_max_s == 2.0
    rng = random.Random(1)
    delays = [
        backoff_delay_s(a, initial_s=broker.reconnect_initial_s, max_s=2.0, rng=rng)
        for a in range(40)
    ]
    assert max(delays) <= 2.0
    assert min(delays[3:]) >= 1.0, "capped, still jittered in the upper half"


def test_backoff_jitter_spreads_robots_apart() -> None:
    delays = {
        backoff_delay_s(3, initial_s=1.0, max_s=60.0, rng=random.Random(s)) for s in range(20)
    }
    assert len(delays) == 20


def test_secret_never_shows_itself() -> None:
    assert "x" not in f"{Secret('x')!r}{Secret('x')}"
