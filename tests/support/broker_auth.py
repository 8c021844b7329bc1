"""A mosquitto broker with the robot's shipped security settings and provisioned accounts.

Real: ``exoactor-edge broker provision`` (``daemon.fleet.broker_provision``, hashes by
``mosquitto_passwd``) makes the users of two robots, G1-0001 and G1-0002, and of the fleet;
mosquitto runs with ``shipped_settings`` (``systemd/mosquitto-local.conf`` as shipped, with the
test's own port, log and no persistence). Skips, saying why, without mosquitto.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aiomqtt
import pytest

from daemon.fleet.broker_provision import ProvisionResult, find_mosquitto_passwd, provision
from daemon.fleet.vda5050.config import BrokerConfig, FleetConfig
from tests.support.mosquitto import BrokerTls, MosquittoBroker, find_mosquitto, shipped_settings

ROBOT = "G1-0001"
OTHER_ROBOT = "G1-0002"


@dataclass
class Accounts:
    """A running broker and the accounts it knows (users: the serial numbers and "fleet")."""

    broker: MosquittoBroker
    provisioned: ProvisionResult

    def password_file(self, user: str) -> Path:
        if user == self.provisioned.fleet_user:
            return self.provisioned.fleet_credential
        return self.provisioned.robot_credentials[user]

    def broker_config(self, user: str) -> BrokerConfig:
        """How ``user`` reaches the broker (password read from its provisioned file)."""
        return BrokerConfig(
            host=self.broker.host,
            port=self.broker.port,
            keepalive_s=5,
            username=user,
            password_file=self.password_file(user),
            reconnect_initial_s=0.1,
            reconnect_max_s=1.0,
        )

    def password(self, user: str) -> str:
        return self.password_file(user).read_text(encoding="utf-8").strip()

    def client(self, user: str | None, identifier: str) -> aiomqtt.Client:
        return aiomqtt.Client(
            self.broker.host,
            self.broker.port,
            username=user,
            password=self.password(user) if user is not None else None,
            identifier=identifier,
            protocol=aiomqtt.ProtocolVersion.V5,
            timeout=5,
        )


def start_auth_broker(
    workdir: Path, fleet: FleetConfig | None = None, tls: BrokerTls | None = None
) -> Accounts:
    """Provision G1-0001, G1-0002 and the fleet; start mosquitto with the shipped settings.

    Args:
        workdir: holds the accounts and the broker's files.
        fleet: the topic layout (default: the shipped one, ``vda5050/v3/Unitree/...``).
        tls: make the listener a TLS one.
    """
    binary = find_mosquitto()
    if binary is None:
        pytest.skip("the mosquitto binary is not installed (apt-get install mosquitto)")
    if find_mosquitto_passwd() is None:
        pytest.skip("mosquitto_passwd is not installed (apt-get install mosquitto)")
    provisioned = provision(workdir / "accounts", fleet or FleetConfig(), [ROBOT, OTHER_ROBOT])
    settings = shipped_settings(
        password_file=provisioned.passwd_file, acl_file=provisioned.acl_file
    )
    (workdir / "broker").mkdir()
    broker = MosquittoBroker(workdir=workdir / "broker", binary=binary, settings=settings, tls=tls)
    broker.start()
    return Accounts(broker, provisioned)
