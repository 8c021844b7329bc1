"""The shipped broker configuration authenticates every client and confines each to its topics.

Real: mosquitto 2 on loopback started with the security and limit settings of
``systemd/mosquitto-local.conf`` as shipped (only its port, persistence and log lines are the
test's own), accounts made by ``exoactor-edge broker provision`` (``mosquitto_passwd``
hashes), MQTT 5 clients (aiomqtt/paho). Two robots are provisioned, G1-0001 and G1-0002: the
second one's user is the "foreign authenticated client". Nothing is faked.

A denied publish is acknowledged by mosquitto and silently dropped, so "nothing arrived" is
proved with a marker: the intruder's publish is acknowledged first, then an allowed client
publishes a marker; the broker routes in order of arrival, so a subscriber whose first message
is the marker never got the intruder's.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from daemon.fleet.vda5050.config import FleetConfig
from tests.support.broker_auth import OTHER_ROBOT, ROBOT, Accounts, start_auth_broker
from tests.support.mosquitto import SHIPPED_CONFIG

pytestmark = pytest.mark.integration

PREFIX = f"vda5050/v3/Unitree/{ROBOT}"
NOT_AUTHORIZED = 135


@pytest.fixture
def accounts(tmp_path: Path) -> Iterator[Accounts]:
    started = start_auth_broker(tmp_path)
    yield started
    started.broker.stop()


def run(coroutine: Coroutine[Any, Any, None]) -> None:
    asyncio.run(asyncio.wait_for(coroutine, 30))


async def first_payloads(client: aiomqtt.Client, until: bytes) -> list[bytes]:
    """Payloads received up to and including the first one equal to ``until``."""
    payloads: list[bytes] = []
    async for message in client.messages:
        assert isinstance(message.payload, bytes)
        payloads.append(message.payload)
        if message.payload == until:
            return payloads
    raise AssertionError("the subscription ended")


@contextlib.asynccontextmanager
async def connected(accounts: Accounts, *users: str) -> AsyncIterator[list[aiomqtt.Client]]:
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(accounts.client(user, f"{user}-{i}"))
            for i, user in enumerate(users)
        ]
        yield clients


# ---------------------------------------------------------------------- the shipped file


def test_the_shipped_configuration_refuses_anonymous_clients_and_matches_the_package_limit() -> (
    None
):
    text = SHIPPED_CONFIG.read_text(encoding="utf-8")
    settings = dict(
        line.split(None, 1) for line in text.splitlines() if line and not line.startswith("#")
    )
    assert settings["allow_anonymous"] == "false"
    assert "password_file" in settings
    assert "acl_file" in settings
    assert re.search(r"(?m)^listener 1883 127\.0\.0\.1$", text)
    limit = FleetConfig().max_package_bytes
    assert int(settings["message_size_limit"]) == limit
    assert int(settings["max_packet_size"]) > limit


# ---------------------------------------------------------------------- authentication


def test_anonymous_and_wrong_password_clients_are_refused_at_connect(accounts: Accounts) -> None:
    async def scenario() -> None:
        with pytest.raises(aiomqtt.MqttCodeError) as anonymous:
            async with accounts.client(None, "anonymous"):
                pass
        assert anonymous.value.rc == NOT_AUTHORIZED
        wrong = aiomqtt.Client(
            accounts.broker.host,
            accounts.broker.port,
            username="fleet",
            password="guess",
            identifier="guesser",
            protocol=aiomqtt.ProtocolVersion.V5,
        )
        with pytest.raises(aiomqtt.MqttCodeError) as guessed:
            async with wrong:
                pass
        assert guessed.value.rc == NOT_AUTHORIZED

    run(scenario())


# ---------------------------------------------------------------------- authorisation


def test_only_the_fleet_user_reaches_a_robots_command_topics(accounts: Accounts) -> None:
    """Another robot's user and the robot's own user cannot command it; the fleet can."""

    async def scenario() -> None:
        async with connected(accounts, ROBOT, OTHER_ROBOT, ROBOT, "fleet") as clients:
            observer, other_robot, robot_itself, fleet = clients
            for topic in ("instantActions", "order", "motionPackages"):
                await observer.subscribe(f"{PREFIX}/{topic}", qos=1)
            for intruder in (other_robot, robot_itself):
                for topic in ("instantActions", "order", "motionPackages"):
                    await intruder.publish(f"{PREFIX}/{topic}", b"intruder", qos=1)
            await fleet.publish(f"{PREFIX}/order", b"order", qos=1)
            await fleet.publish(f"{PREFIX}/motionPackages", b"package", qos=1)
            await fleet.publish(f"{PREFIX}/instantActions", b"marker", qos=1)
            assert await first_payloads(observer, b"marker") == [b"order", b"package", b"marker"]

    run(scenario())


def test_a_robot_publishes_only_its_own_state_which_only_the_fleet_reads(
    accounts: Accounts,
) -> None:
    async def scenario() -> None:
        async with connected(accounts, ROBOT, OTHER_ROBOT, "fleet") as clients:
            robot, other_robot, fleet = clients
            await fleet.subscribe(f"{PREFIX}/state", qos=1)
            await fleet.subscribe(f"{PREFIX}/connection", qos=1)
            await other_robot.subscribe(f"{PREFIX}/state", qos=1)
            await other_robot.subscribe(f"vda5050/v3/Unitree/{OTHER_ROBOT}/instantActions", qos=1)
            await other_robot.publish(f"{PREFIX}/state", b"forged state", qos=1)
            await robot.publish(f"vda5050/v3/Unitree/{OTHER_ROBOT}/state", b"forged", qos=1)
            await robot.publish(f"{PREFIX}/state", b"state", qos=1)
            await robot.publish(f"{PREFIX}/connection", b"ONLINE", qos=1)
            assert await first_payloads(fleet, b"ONLINE") == [b"state", b"ONLINE"]
            # The other robot subscribed to G1-0001's state too, but may not read it.
            marker = f"vda5050/v3/Unitree/{OTHER_ROBOT}/instantActions"
            await fleet.publish(marker, b"marker", qos=1)
            assert await first_payloads(other_robot, b"marker") == [b"marker"]

    run(scenario())


def test_package_answers_go_only_under_the_robots_answer_topic(accounts: Accounts) -> None:
    """An upload's MQTT 5 response topic elsewhere would let the robot's user write anywhere."""

    async def scenario() -> None:
        async with connected(accounts, ROBOT, "fleet") as clients:
            robot, fleet = clients
            answers = f"{PREFIX}/motionPackages/answers"
            await fleet.subscribe(f"{answers}/#", qos=1)
            await fleet.subscribe(f"{PREFIX}/instantActions", qos=1)  # not readable by fleet
            await robot.publish(f"{PREFIX}/instantActions", b"not an answer", qos=1)
            await robot.publish(f"{answers}/fleet-sim-1", b"answer", qos=1)
            assert await first_payloads(fleet, b"answer") == [b"answer"]

    run(scenario())


# ---------------------------------------------------------------------- size limit


def test_a_payload_over_the_daemons_package_limit_never_reaches_the_robot(
    accounts: Accounts,
) -> None:
    limit = FleetConfig().max_package_bytes

    async def scenario() -> None:
        async with connected(accounts, ROBOT, "fleet") as clients:
            robot, fleet = clients
            await robot.subscribe(f"{PREFIX}/motionPackages", qos=1)
            # QoS 0: mosquitto 2.0.11 drops the connection of a QoS 1 publisher it refuses.
            await fleet.publish(f"{PREFIX}/motionPackages", b"x" * (limit + 1), qos=0)
            await fleet.publish(f"{PREFIX}/motionPackages", b"y" * limit, qos=1)
            await fleet.publish(f"{PREFIX}/motionPackages", b"marker", qos=1)
            received = await first_payloads(robot, b"marker")
            assert [len(p) for p in received] == [limit, len(b"marker")]

    run(scenario())
