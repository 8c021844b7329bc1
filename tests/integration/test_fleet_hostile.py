"""The fleet interface under hostile input and bad days, over a real broker.

Real: mosquitto on loopback, the MQTT adapter (aiomqtt/paho) with its arrival hook and bounded
lanes, ``FleetService`` with its task supervisor, ``FleetClient``, a flooding MQTT client (paho,
in a thread of the test). Faked: the control process (``FakeControlLink``) and the motion
library. Each test uses its own topic prefix. No timing thresholds: the figures are in
``scripts/bench_estop.py``.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from daemon.fleet.vda5050.fleet_client import action_status, errors_for
from daemon.fleet.vda5050.header import iso_timestamp
from tests.support.fleet_fakes import FakeControlLink, fake_package
from tests.support.mosquitto import MosquittoBroker

from .test_fleet_mqtt import rig, run

pytestmark = pytest.mark.integration


def message(serial: str, kind: str, action_id: str, *, stamp: datetime | None = None) -> bytes:
    return json.dumps({
        "headerId": 1, "timestamp": iso_timestamp(stamp or datetime.now(timezone.utc)),
        "version": "3.0.0", "manufacturer": "Unitree", "serialNumber": serial,
        "actions": [{"actionId": action_id, "actionType": kind, "blockingType": "NONE"}],
    }).encode()  # fmt: skip


def flood(broker: MosquittoBroker, topic: str, payloads: list[bytes], *, retain: bool = False
          ) -> None:  # fmt: skip
    """Publish every payload at QoS 0, as fast as paho can (in this thread)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        for payload in payloads:
            info = client.publish(topic, payload, qos=0 if not retain else 1, retain=retain)
            if retain:
                info.wait_for_publish(2.0)
        while client.want_write():
            time.sleep(0.01)
        time.sleep(0.1)
    finally:
        client.disconnect()
        client.loop_stop()


def hostile(serial: str, count: int) -> list[bytes]:
    stale = datetime.now(timezone.utc) - timedelta(hours=1)
    kinds = [
        lambda i: b"[" * 60_000,
        lambda i: b"\xff\xfe garbage",
        lambda i: b'{"headerId": 1e400, "actions": [' + b"9" * 5000 + b"]}",
        lambda i: message(serial, "startPause", f"stale{i}", stamp=stale),
        lambda i: message("SOMEONE-ELSE", "startMotion", f"other{i}"),
        lambda i: b"x" * 100_000,  # over max_message_bytes
        lambda i: message(serial, "stateRequest", f"s{i}"),
    ]
    return [kinds[i % len(kinds)](i) for i in range(count)]


def test_a_flood_of_hostile_messages_is_bounded_and_the_service_keeps_answering(
    mosquitto_broker: MosquittoBroker,
) -> None:
    """Deep nesting (once a RecursionError that killed the fleet task), garbage, huge numbers,
    oversize, stale and misaddressed commands: every lane stays bounded, no handler escapes,
    and afterwards commands and the e-stop still work."""

    async def body() -> None:
        async with rig(mosquitto_broker, telemetry_rate_hz=0.0) as r:
            topic = r.config.topics.instant_actions
            payloads = hostile(r.config.serial_number, 3_000)
            peak = 0

            async def watch_inbox() -> None:
                nonlocal peak
                while True:
                    peak = max(peak, r.service.adapter.inbox.waiting())
                    await asyncio.sleep(0.001)

            watcher = asyncio.create_task(watch_inbox())
            await asyncio.to_thread(flood, mosquitto_broker, topic, payloads)
            await asyncio.sleep(0.5)
            watcher.cancel()
            counters = r.service.adapter.inbox.counters()[topic]
            assert counters.received > 0
            assert counters.oversize > 0, "100 KB payloads are refused at arrival"
            assert peak <= 256 + 64, "the instantActions lane is bounded"
            assert r.service.counters.handler_failures == 0, "every input has a typed answer"
            assert r.service.is_healthy()
            # The service still answers commands, and the e-stop still stops.
            action = await r.fleet.instant_action("startPause")
            assert (await r.fleet.wait_action(action, {"FINISHED"}, 3.0))["actionStatus"]
            estop = await r.fleet.instant_action("emergencyStop")
            await r.fleet.wait_action(estop, {"FINISHED"}, 3.0)
            assert r.link.mode == "ESTOP"

    run(body(), 60.0)


def test_stale_and_future_commands_are_refused_with_an_error_but_an_estop_engages(
    mosquitto_broker: MosquittoBroker,
) -> None:
    async def body() -> None:
        async with rig(mosquitto_broker, telemetry_rate_hz=0.0) as r:
            serial, now = r.config.serial_number, datetime.now(timezone.utc)
            cases = {
                "hour-old": now - timedelta(hours=1),
                "day-old": now - timedelta(days=1),
                "future": now + timedelta(hours=1),
            }
            for action_id, stamp in cases.items():
                await r.fleet.publish_raw(message(serial, "startPause", action_id, stamp=stamp))
                await r.fleet.wait_action(action_id, {"FAILED"}, 3.0)
                state = r.fleet.latest_state
                assert state is not None
                (error,) = errors_for(state, action_id)
                assert error["errorType"] == "validationError"
                assert "stale" in error["errorDescription"] or "future" in error["errorDescription"]
            assert r.link.names() == [], "nothing reached the control process"
            old = now - timedelta(days=1)
            await r.fleet.publish_raw(message(serial, "emergencyStop", "old-estop", stamp=old))
            await r.fleet.wait_action("old-estop", {"FINISHED"}, 3.0)
            state = r.fleet.latest_state
            assert state is not None
            assert r.link.mode == "ESTOP", "an e-stop is engaged whatever its timestamp"
            assert state["safetyState"]["activeEmergencyStop"] != "NONE"

    run(body(), 20.0)


def test_retained_instant_actions_never_run_and_are_reported_once(
    mosquitto_broker: MosquittoBroker,
) -> None:
    async def body() -> None:
        async with rig(mosquitto_broker, telemetry_rate_hz=0.0) as setup:
            config = setup.config
        topic = config.topics.instant_actions
        retained = message(config.serial_number, "startPause", "retained-pause")
        await asyncio.to_thread(flood, mosquitto_broker, topic, [retained], retain=True)
        try:
            link = FakeControlLink()
            async with rig(mosquitto_broker, link=link, interface_name=config.interface_name,
                           telemetry_rate_hz=0.0) as r:  # fmt: skip
                state = await r.fleet.wait_state(
                    lambda s: any("retained" in e["errorDescription"] for e in s["errors"]), 3.0
                )
                assert action_status(state, "retained-pause") is None
                assert not state["paused"], "the retained startPause was not executed"
                assert r.service.counters.retained_refused == 1
        finally:
            await asyncio.to_thread(flood, mosquitto_broker, topic, [b""], retain=True)

    run(body(), 20.0)


def test_a_dead_fleet_task_is_restarted_and_the_service_is_unhealthy_meanwhile(
    mosquitto_broker: MosquittoBroker,
) -> None:
    async def body() -> None:
        async with rig(mosquitto_broker, telemetry_rate_hz=0.0) as r:
            inbox = r.service.adapter.inbox
            original_get = inbox.get
            health: list[bool] = []

            async def die_once() -> Any:
                inbox.get = original_get  # type: ignore[method-assign]
                raise RuntimeError("injected: the message reader dies")

            inbox.get = die_once  # type: ignore[method-assign]
            # Wake the reader so it calls the injected get.
            await r.fleet.instant_action("stateRequest")
            deadline = time.monotonic() + 5.0
            while r.service.tasks.restarts().get("fleet-messages", 0) == 0:
                health.append(r.service.is_healthy())
                assert time.monotonic() < deadline, "the dead task was not noticed"
                await asyncio.sleep(0.005)
            while not r.service.is_healthy():
                health.append(False)
                assert time.monotonic() < deadline, "the task was not restarted"
                await asyncio.sleep(0.005)
            assert False in health, "unhealthy while the reader was down"
            action = await r.fleet.instant_action("startPause")
            await r.fleet.wait_action(action, {"FINISHED"}, 3.0)

    run(body(), 20.0)


def test_a_stuck_handler_is_cancelled_and_its_task_restarted(
    mosquitto_broker: MosquittoBroker,
) -> None:
    async def body() -> None:
        async with rig(mosquitto_broker, telemetry_rate_hz=0.0) as r:
            service = r.service
            service.tasks.config = type(service.tasks.config)(stuck_after_s=0.2)
            release = asyncio.Event()
            original = service._on_instant_actions

            async def hang(incoming: Any) -> list[Any]:
                service._on_instant_actions = original  # type: ignore[method-assign]
                await release.wait()
                return []

            service._on_instant_actions = hang  # type: ignore[method-assign]
            await r.fleet.instant_action("stateRequest")
            deadline = time.monotonic() + 5.0
            while service.tasks.restarts().get("fleet-messages", 0) == 0:
                assert time.monotonic() < deadline, "the stuck task was not noticed"
                await asyncio.sleep(0.01)
            assert "stuck" in next(iter(service.tasks.failures().values()), "stuck")
            action = await r.fleet.instant_action("startPause")
            await r.fleet.wait_action(action, {"FINISHED"}, 3.0)
            release.set()

    run(body(), 20.0)


def test_uploads_over_the_limit_are_never_held(mosquitto_broker: MosquittoBroker) -> None:
    """100 x 6 MiB once grew the daemon by 580 MB. The broker here has no size limit of its
    own: the robot's MQTT 5 Maximum Packet Size keeps them from being sent at all, and the
    inbox would refuse them at arrival; a normal upload still works afterwards."""

    async def body() -> None:
        async with rig(mosquitto_broker, telemetry_rate_hz=0.0, max_package_bytes=1024**2) as r:
            topic = r.config.topics.packages
            big = [b"\0" * (6 * 1024**2)] * 20
            await asyncio.to_thread(flood, mosquitto_broker, topic, big)
            await asyncio.sleep(0.3)
            counters = r.service.adapter.inbox.counters()[topic]
            assert counters.received == counters.oversize, "whatever arrived was refused"
            assert r.service.adapter.inbox.waiting() == 0
            answer = await r.fleet.upload(fake_package("wave2", 10))
            assert answer.accepted, answer

    run(body(), 60.0)
