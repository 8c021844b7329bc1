"""Only the fleet can move the robot or clear its e-stop, against the real running service.

Real: ``exoactor-edge run`` as a subprocess (its control process, MuJoCo physics with the
built-in G1 model, ZeroMQ ipc sockets, the systemd notify protocol on a datagram socket the
test binds), its broker password read as a systemd credential (``$CREDENTIALS_DIRECTORY``),
mosquitto with the shipped security settings and accounts from ``exoactor-edge broker
provision`` (``tests.support.broker_auth``), fleet and intruder clients speaking VDA 5050 over
MQTT 5 (``FleetClient``). Nothing is faked; only the robot is simulated.

Intruders: an anonymous client, the user of another robot (G1-0002) and the robot's own user
(whose password sits on the robot). Their commands are acknowledged by the broker and dropped
(ACL); a ``stateRequest`` from the fleet afterwards, answered FINISHED, shows the service has
handled everything that reached it before, and the robot's mode shows nothing moved.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import aiomqtt
import pytest

from daemon.control.admin import admin_request
from daemon.fleet.vda5050.config import FleetConfig
from daemon.fleet.vda5050.fleet_client import FleetClient, action_state
from estimators.demo_motion import make_demo_package
from tests.support.broker_auth import OTHER_ROBOT, ROBOT, Accounts, start_auth_broker
from tests.support.mosquitto import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXE = Path(sys.executable).with_name("exoactor-edge")
NOT_AUTHORIZED = 135


@dataclass
class Service:
    work: Path
    accounts: Accounts
    process: subprocess.Popen[bytes]

    async def mode(self) -> str:
        answer = await admin_request(self.work / "run", "status", timeout_s=5.0)
        return str(answer["status"]["mode"])

    def fleet_config(self, user: str) -> FleetConfig:
        """G1-0001's topics, reached as ``user``."""
        return replace(FleetConfig(serial_number=ROBOT), broker=self.accounts.broker_config(user))


def write_config(work: Path, port: int) -> Path:
    config = work / "edge.toml"
    config.write_text(
        f"""
[daemon]
run_dir = "{work / "run"}"
state_dir = "{work / "state"}"
heartbeat_timeout_s = 0.5
[safety]
estop_latch_path = "{work / "state" / "estop.json"}"
[safety.supervisor]
ramp_time_s = 1.0
[fleet]
serial_number = "{ROBOT}"
[fleet.broker]
host = "127.0.0.1"
port = {port}
username = "{ROBOT}"
password_credential = "mqtt-password"
reconnect_initial_s = 0.2
reconnect_max_s = 1.0
[ingest]
endpoints = ["tcp://127.0.0.1:{free_port()}"]
[robot]
use_official_model = false
""",
        encoding="utf-8",
    )
    return config


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    accounts = start_auth_broker(tmp_path)
    credentials = tmp_path / "credentials"
    credentials.mkdir(mode=0o700)
    shutil.copy(accounts.password_file(ROBOT), credentials / "mqtt-password")
    config = write_config(tmp_path, accounts.broker.port)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.settimeout(0.5)
    env = dict(
        os.environ,
        NOTIFY_SOCKET=str(tmp_path / "notify.sock"),
        WATCHDOG_USEC="1000000",
        CREDENTIALS_DIRECTORY=str(credentials),
    )
    env.pop("WATCHDOG_PID", None)
    with (tmp_path / "daemon.log").open("wb") as log:
        process = subprocess.Popen(
            [str(EXE), "run", "--config", str(config)], stderr=log, stdout=log, env=env
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "daemon.log").read_text()
            assert time.monotonic() < deadline, "no READY=1 within 60 s"
            try:
                if b"READY=1" in notify.recv(4096):
                    break
            except TimeoutError:
                continue
        yield Service(tmp_path, accounts, process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        notify.close()
        accounts.broker.stop()


def never_seen(fleet: FleetClient, action_ids: list[str]) -> bool:
    """True when no state message the fleet received mentions any of ``action_ids``."""
    return all(
        action_state(state, action_id) is None
        for state in fleet.messages_of("state")
        for action_id in action_ids
    )


async def handled_everything_sent_before(fleet: FleetClient) -> None:
    marker = await fleet.instant_action("stateRequest")
    await fleet.wait_action(marker, {"FINISHED"}, 10.0)


def test_intruders_can_neither_start_motion_nor_clear_an_estop_but_the_fleet_can(
    service: Service,
) -> None:
    async def scenario() -> None:
        with pytest.raises(aiomqtt.MqttCodeError) as refused:
            async with aiomqtt.Client(
                "127.0.0.1",
                service.accounts.broker.port,
                identifier="anonymous",
                protocol=aiomqtt.ProtocolVersion.V5,
            ):
                pass
        assert refused.value.rc == NOT_AUTHORIZED

        async with (
            FleetClient(config=service.fleet_config("fleet")) as fleet,
            FleetClient(config=service.fleet_config(OTHER_ROBOT)) as other_robot,
            FleetClient(config=service.fleet_config(ROBOT)) as robot_user,
        ):
            await fleet.wait_connection("ONLINE", 15.0)
            answer = await fleet.upload(make_demo_package(duration_s=4.0))
            assert answer.accepted, answer
            package = {"packageId": answer.package_id}

            intruders = (other_robot, robot_user)
            starts = [await c.instant_action("startMotion", package) for c in intruders]
            await handled_everything_sent_before(fleet)
            assert await service.mode() == "PASSIVE"
            assert never_seen(fleet, starts)

            await fleet.instant_action("emergencyStop")
            await fleet.wait_state(
                lambda m: m["safetyState"]["activeEmergencyStop"] != "NONE", 10.0
            )
            resets = [await c.instant_action("resetEmergencyStop") for c in intruders]
            await handled_everything_sent_before(fleet)
            assert await service.mode() == "ESTOP"
            assert never_seen(fleet, resets)

            reset = await fleet.instant_action("resetEmergencyStop")
            await fleet.wait_action(reset, {"FINISHED"}, 10.0)
            start = await fleet.instant_action("startMotion", package)
            await fleet.wait_action(start, {"RUNNING"}, 15.0)
            assert await service.mode() == "TRACK"

    asyncio.run(asyncio.wait_for(scenario(), 90))
