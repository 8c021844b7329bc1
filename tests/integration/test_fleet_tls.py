"""TLS to the fleet broker with a CA the test makes; a broker signed by another CA is refused.

Real: a certificate authority, server and client certificates made here with ``cryptography``
(``tests.support.tls_certs``), mosquitto with a TLS listener that requires a client certificate
plus the shipped password/ACL settings and provisioned accounts (``tests.support.broker_auth``),
the configuration loader reading ``[fleet.broker.tls]`` from TOML, the MQTT adapter
(aiomqtt/paho/OpenSSL), ``FleetService`` and ``FleetClient``. Faked: the control process and the
motion library behind ``FleetService`` (``tests.support.fleet_fakes``); the daemon end to end
is covered in ``test_daemon_auth_e2e.py``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from daemon.config import load_config
from daemon.fleet.fleet_mqtt import FleetService
from daemon.fleet.mqtt_adapter import MqttAdapter
from daemon.fleet.mqtt_inbox import Subscription
from daemon.fleet.vda5050.config import FleetConfig, TlsConfig
from daemon.fleet.vda5050.errors import BrokerTlsError
from daemon.fleet.vda5050.fleet_client import FleetClient
from tests.support.broker_auth import ROBOT, Accounts, start_auth_broker
from tests.support.fleet_fakes import FakeControlLink, FakeMotionLibrary
from tests.support.mosquitto import BrokerTls
from tests.support.tls_certs import Pki, make_pki

pytestmark = pytest.mark.integration


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path / "pki")


@pytest.fixture
def tls_broker(tmp_path: Path, pki: Pki) -> Iterator[Accounts]:
    tls = BrokerTls(pki.ca_file, pki.server_cert, pki.server_key, require_certificate=True)
    accounts = start_auth_broker(tmp_path, tls=tls)
    yield accounts
    accounts.broker.stop()


def robot_toml(tmp_path: Path, accounts: Accounts, pki: Pki) -> Path:
    path = tmp_path / "edge.toml"
    path.write_text(
        f"""
[fleet]
serial_number = "{ROBOT}"
[fleet.broker]
host = "127.0.0.1"
port = {accounts.broker.port}
username = "{ROBOT}"
password_file = "{accounts.password_file(ROBOT)}"
reconnect_initial_s = 0.1
reconnect_max_s = 0.5
[fleet.broker.tls]
ca_file = "{pki.ca_file}"
cert_file = "{pki.client_cert}"
key_file = "{pki.client_key}"
""",
        encoding="utf-8",
    )
    return path


def test_the_fleet_service_talks_to_the_fleet_over_mutual_tls_configured_in_toml(
    tmp_path: Path, tls_broker: Accounts, pki: Pki
) -> None:
    robot = load_config(robot_toml(tmp_path, tls_broker, pki), required=True).fleet
    assert robot.broker.tls == TlsConfig(
        ca_file=pki.ca_file, cert_file=pki.client_cert, key_file=pki.client_key
    )
    fleet_tls = TlsConfig(ca_file=pki.ca_file, cert_file=pki.client_cert, key_file=pki.client_key)
    fleet = replace(
        FleetConfig(serial_number=ROBOT),
        broker=replace(tls_broker.broker_config("fleet"), tls=fleet_tls),
    )

    async def scenario() -> None:
        async with (
            FleetService(config=robot, link=FakeControlLink(), library=FakeMotionLibrary()),
            FleetClient(config=fleet) as client,
        ):
            await client.wait_connection("ONLINE", 10.0)
            action = await client.instant_action("stateRequest")
            await client.wait_action(action, {"FINISHED"}, 10.0)

    asyncio.run(asyncio.wait_for(scenario(), 30))


class ErrorLogged(logging.Handler):
    """Sets ``event`` at the first ERROR record (the adapter logs from the event loop)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.event = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.event.set()


def test_a_broker_certificate_from_another_ca_is_refused_with_an_error_naming_the_ca(
    tmp_path: Path, tls_broker: Accounts, pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    other = make_pki(tmp_path / "other", name="other")
    broker = replace(
        tls_broker.broker_config(ROBOT),
        tls=TlsConfig(ca_file=other.ca_file, cert_file=pki.client_cert, key_file=pki.client_key),
    )

    async def scenario() -> MqttAdapter:
        logged = ErrorLogged()
        logger = logging.getLogger("daemon.fleet.mqtt_adapter")
        logger.addHandler(logged)
        adapter = MqttAdapter(
            broker=broker, client_id="wrong-ca", subscriptions=[Subscription("unused/topic")]
        )
        try:
            async with adapter:
                await logged.event.wait()
                assert not adapter.is_connected
        finally:
            logger.removeHandler(logged)
        return adapter

    with caplog.at_level(logging.ERROR, logger="daemon.fleet.mqtt_adapter"):
        adapter = asyncio.run(asyncio.wait_for(scenario(), 20))
    error = adapter.last_error
    assert isinstance(error, BrokerTlsError)
    assert error.source == f"127.0.0.1:{tls_broker.broker.port}"
    assert "not trusted" in error.detail
    assert str(other.ca_file) in error.detail
    assert adapter.connections == 0
    assert any(str(other.ca_file) in r.getMessage() for r in caplog.records)
