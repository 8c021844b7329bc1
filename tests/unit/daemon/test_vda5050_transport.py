"""The MQTT adapter's socket-free parts: inbox priority and overflow, message conversion, and
publishing while disconnected.

Real: ``MqttAdapter`` and aiomqtt's ``Message`` type. Nothing connects: no broker is running
and the adapter is never entered, so no socket is opened.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from daemon.mqtt_adapter import Incoming, MqttAdapter, Outgoing, Subscription
from daemon.vda5050.config import BrokerConfig


def adapter(max_inbox: int = 1000) -> MqttAdapter:
    return MqttAdapter(
        broker=BrokerConfig(),
        client_id="t",
        subscriptions=[
            Subscription("robot/instantActions", priority=0),
            Subscription("robot/motionPackages", priority=1),
        ],
        max_inbox=max_inbox,
    )


def message(topic: str, payload: bytes = b"x", properties: Properties | None = None) -> Any:
    return aiomqtt.Message(topic, payload, 1, False, 1, properties)


async def drain(mqtt: MqttAdapter, count: int) -> list[Incoming]:
    received: list[Incoming] = []

    async def take() -> None:
        async for incoming in mqtt.messages():
            received.append(incoming)
            if len(received) == count:
                return

    await asyncio.wait_for(take(), 1.0)
    return received


def test_instant_actions_overtake_queued_uploads() -> None:
    async def body() -> None:
        mqtt = adapter()
        for index in range(5):
            mqtt._deliver(message("robot/motionPackages", bytes([index])))
        mqtt._deliver(message("robot/instantActions", b"estop"))
        received = await drain(mqtt, 6)
        assert [m.topic for m in received][:2] == ["robot/instantActions", "robot/motionPackages"]
        assert [m.payload for m in received[1:]] == [bytes([i]) for i in range(5)]  # FIFO

    asyncio.run(body())


def test_full_inbox_drops_uploads_but_never_instant_actions() -> None:
    async def body() -> None:
        mqtt = adapter(max_inbox=2)
        for _ in range(4):
            mqtt._deliver(message("robot/motionPackages"))
        mqtt._deliver(message("robot/instantActions", b"estop"))
        assert mqtt.dropped_messages == 2
        received = await drain(mqtt, 3)
        assert received[0].payload == b"estop"

    asyncio.run(body())


def test_response_topic_and_correlation_data_are_carried_over() -> None:
    async def body() -> None:
        mqtt = adapter()
        properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        properties.ResponseTopic = "fleet/answers/me"
        properties.CorrelationData = b"\x01\x02"
        mqtt._deliver(message("robot/motionPackages", b"pkg", properties))
        (received,) = await drain(mqtt, 1)
        assert (received.response_topic, received.correlation) == ("fleet/answers/me", b"\x01\x02")
        assert not received.is_retained

    asyncio.run(body())


def test_publish_while_disconnected_reports_false_and_queues_nothing() -> None:
    async def body() -> None:
        mqtt = adapter()
        assert not mqtt.is_connected
        assert mqtt.has_tcp_nodelay is None
        assert await mqtt.publish(Outgoing("robot/state", b"{}", qos=1)) is False
        assert await mqtt.wait_connected(0.01) is False

    asyncio.run(body())
