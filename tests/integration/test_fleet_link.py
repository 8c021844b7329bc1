"""The robot's link to the fleet broker: capped reconnects, and link loss seen by the fleet.

The documented topology: the robot connects straight to the fleet broker (the on-board broker
serves on-board clients only), so the broker itself watches the robot's keepalive and hands
the fleet the robot's CONNECTION_BROKEN will when the link goes. A local broker bridged to the
fleet hid that (issue 13): the bridge, not the robot, was the fleet broker's client.

Real: mosquitto on loopback, the MQTT adapter, ``FleetService``, ``FleetClient`` (connected to
the broker directly, as the fleet is), a TCP relay between robot and broker that a test cuts
into a silent partition (``tests.support.tcp_link``: no FIN, no RST). Faked: the control
process and the motion library (in-memory fakes).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from daemon.fleet.fleet_mqtt import FleetService
from daemon.fleet.mqtt_adapter import Outgoing
from daemon.fleet.vda5050.config import BrokerConfig
from daemon.fleet.vda5050.fleet_client import FleetClient, action_status
from daemon.library.motion_library import IngestResult
from tests.support.fleet_fakes import FakeControlLink, FakeMotionLibrary, fake_package
from tests.support.mosquitto import MosquittoBroker
from tests.support.tcp_link import link_proxy

from .test_fleet_mqtt import assert_all_valid, fleet_config, rig, run

pytestmark = pytest.mark.integration


def test_after_a_broker_outage_reconnect_delays_stay_under_the_cap(
    fresh_mosquitto: MosquittoBroker,
) -> None:
    """With the shipped reconnect settings (0.5 s doubling, capped at 2 s), a 3 s outage
    ends ONLINE again and no wait between attempts exceeded the cap. (How long outage ->
    ONLINE takes is ``scripts/bench_reconnect.py``'s figure, not this test's.)"""
    shipped = BrokerConfig()

    async def body() -> None:
        broker = BrokerConfig(
            host=fresh_mosquitto.host,
            port=fresh_mosquitto.port,
            reconnect_initial_s=shipped.reconnect_initial_s,
            reconnect_max_s=shipped.reconnect_max_s,
        )
        async with rig(fresh_mosquitto, broker=broker) as r:
            fresh_mosquitto.stop(kill=True)
            await asyncio.sleep(3.0)
            await asyncio.to_thread(fresh_mosquitto.start)
            async with FleetClient(config=r.config) as fleet:
                await fleet.wait_connection("ONLINE", 6.0)
            delays = list(r.service.adapter.reconnect_delays_s)
            assert len(delays) >= 3, delays
            assert max(delays) <= shipped.reconnect_max_s
            assert r.service.adapter.connections == 2

    run(body(), 20.0)


def test_link_loss_shows_as_connection_broken_and_commands_meanwhile_never_run(
    mosquitto_broker: MosquittoBroker,
) -> None:
    """Issue 13: with a local broker bridged to the fleet, a 15 s cut never showed
    CONNECTION_BROKEN and commands sent meanwhile were lost without feedback. Straight to the
    fleet broker, the fleet sees the will within about 2x keepalive; a command it sends then is
    never executed late (the fleet knows the robot was gone); after the link heals the robot
    is ONLINE again and takes commands."""

    async def body() -> None:
        with link_proxy(mosquitto_broker.port) as link:
            robot_side = BrokerConfig(
                host=mosquitto_broker.host,
                port=link.port,
                keepalive_s=2,
                connect_timeout_s=2.0,
                reconnect_initial_s=0.2,
                reconnect_max_s=1.0,
            )
            config = fleet_config(mosquitto_broker, broker=robot_side)
            fleet_side = fleet_config(mosquitto_broker, interface_name=config.interface_name)
            link_fake = FakeControlLink()
            library = FakeMotionLibrary({"wave": 10})
            async with (
                FleetService(config=config, link=link_fake, library=library) as service,
                FleetClient(config=fleet_side) as fleet,
            ):
                await fleet.wait_connection("ONLINE", 3.0)
                link.cut()
                broken = await fleet.wait_connection("CONNECTION_BROKEN", 10.0)
                assert broken["serialNumber"] == config.serial_number
                lost = await fleet.instant_action("startMotion", {"packageId": "wave"})
                await asyncio.sleep(0.5)
                link.restore()
                await fleet.wait_connection("ONLINE", 8.0)
                state = await fleet.wait_state(lambda m: True, 3.0)
                assert action_status(state, lost) is None, "lost, and never run late"
                assert link_fake.calls == []
                assert service.is_healthy()
                assert service.adapter.connections >= 2
                action = await fleet.instant_action("startMotion", {"packageId": "wave"})
                await fleet.wait_action(action, {"FINISHED"}, 5.0)
                assert_all_valid(fleet)

    run(body(), 30.0)


def _connection_and_states(fleet: FleetClient) -> list[tuple[str, dict[str, Any]]]:
    return [(r.kind, r.message) for r in fleet.received if r.kind in ("connection", "state")]


def test_shutdown_publishes_a_final_state_then_offline(mosquitto_broker: MosquittoBroker) -> None:
    """Issue 13: on SIGTERM (the daemon leaves the service's context), a final state that says
    what became of each live action comes before OFFLINE, both retained; every task stops
    within its deadline."""

    async def body() -> None:
        config = fleet_config(mosquitto_broker)
        library = FakeMotionLibrary({"long": 1000})
        async with FleetClient(config=config) as fleet:
            async with FleetService(
                config=config, link=FakeControlLink(), library=library
            ) as service:
                await fleet.wait_connection("ONLINE", 3.0)
                motion = await fleet.instant_action("startMotion", {"packageId": "long"})
                await fleet.wait_action(motion, {"RUNNING"}, 3.0)
            await fleet.wait_connection("OFFLINE", 3.0)
            seen = _connection_and_states(fleet)
            offline = next(
                i for i, (k, m) in enumerate(seen) if m.get("connectionState") == "OFFLINE"
            )
            kind, final = seen[offline - 1]
            assert kind == "state"
            assert action_status(final, motion) == "FAILED"
            infos = {i["infoType"]: i["infoDescriptor"] for i in final["information"]}
            assert infos["serviceState"].startswith("stopping")
            assert_all_valid(fleet)
        report = service.shutdown_report
        assert report is not None
        assert report.late_tasks == ()
        assert report.is_final_state_published
        assert report.is_offline_published
        async with FleetClient(config=config) as late:  # retained: a later fleet learns it too
            await late.wait_connection("OFFLINE", 2.0)
            retained = await late.wait_state(lambda m: True, 2.0)
            assert retained["headerId"] == final["headerId"]

    run(body(), 15.0)


def test_shutdown_keeps_its_deadlines_with_a_stuck_task_and_a_dead_link(
    mosquitto_broker: MosquittoBroker,
) -> None:
    """A task that ignores its cancellation is left behind after its deadline (named in the
    report); with the link cut the farewell gives up after its own deadline instead of
    waiting ``publish_timeout_s`` per message. The service stops either way."""

    class StuckLibrary(FakeMotionLibrary):
        async def submit(self, data: bytes, *, source: str) -> IngestResult:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                await asyncio.sleep(3.0)  # a shutdown path that does not let go
            raise AssertionError("unreachable")

    async def body() -> None:
        with link_proxy(mosquitto_broker.port) as link:
            robot_side = BrokerConfig(
                host=mosquitto_broker.host, port=link.port, publish_timeout_s=5.0
            )
            config = fleet_config(mosquitto_broker, broker=robot_side)
            async with FleetService(
                config=config, link=FakeControlLink(), library=StuckLibrary()
            ) as service:
                assert await service.adapter.wait_connected(3.0)
                fleet_side = fleet_config(mosquitto_broker, interface_name=config.interface_name)
                async with FleetClient(config=fleet_side) as fleet:
                    await fleet.adapter.publish(
                        Outgoing(fleet_side.topics.packages, fake_package("x"), qos=1)
                    )
                    await asyncio.sleep(0.3)  # the upload task is now inside submit
                link.cut()
            report = service.shutdown_report
            assert report is not None
            assert report.late_tasks == ("fleet-uploads",)
            assert not report.is_final_state_published
            assert not report.is_offline_published

    run(body(), 15.0)
