"""The MQTT adapter's socket-free parts: inbox priority, bounds, the arrival hook, oversize
refusal, message conversion, and publishing while disconnected.

Real: ``MqttAdapter`` and aiomqtt's ``Message`` type. Nothing connects: no broker is running
and the adapter is never entered, so no socket is opened.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from daemon.fleet.mqtt_adapter import MqttAdapter, Outgoing
from daemon.fleet.mqtt_inbox import ArrivalQueue, Incoming, Subscription
from daemon.fleet.vda5050.config import BrokerConfig


def adapter(capacity: int = 1000, on_arrival: Any = None, max_bytes: int = 1024) -> MqttAdapter:
    return MqttAdapter(
        broker=BrokerConfig(),
        client_id="t",
        subscriptions=[
            Subscription(
                "robot/instantActions",
                priority=0,
                capacity=capacity,
                max_bytes=max_bytes,
                on_arrival=on_arrival,
            ),
            Subscription("robot/motionPackages", priority=1, capacity=capacity),
        ],
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
            mqtt.inbox.arrive(message("robot/motionPackages", bytes([index])))
        mqtt.inbox.arrive(message("robot/instantActions", b"estop"))
        received = await drain(mqtt, 6)
        assert [m.topic for m in received][:2] == ["robot/instantActions", "robot/motionPackages"]
        assert [m.payload for m in received[1:]] == [bytes([i]) for i in range(5)]  # FIFO

    asyncio.run(body())


def test_every_lane_is_bounded_and_drops_are_counted() -> None:
    async def body() -> None:
        mqtt = adapter(capacity=2)
        for index in range(4):
            mqtt.inbox.arrive(message("robot/motionPackages", bytes([index])))
            mqtt.inbox.arrive(message("robot/instantActions", bytes([index])))
        counters = mqtt.inbox.counters()
        assert (
            counters["robot/instantActions"].received,
            counters["robot/instantActions"].dropped,
        ) == (4, 2)
        assert counters["robot/motionPackages"].dropped == 2
        received = await drain(mqtt, 4)
        assert [m.payload for m in received] == [b"\0", b"\1", b"\0", b"\1"], "newest dropped"
        assert mqtt.inbox.waiting() == 0

    asyncio.run(body())


def test_the_arrival_hook_sees_every_message_first_and_urgent_ones_skip_a_full_lane() -> None:
    seen: list[bytes] = []

    def on_arrival(incoming: Incoming) -> bool:
        seen.append(incoming.payload)
        return b"emergencyStop" in incoming.payload

    async def body() -> None:
        mqtt = adapter(capacity=1, on_arrival=on_arrival)
        for index in range(3):
            mqtt.inbox.arrive(message("robot/instantActions", bytes([index])))
        mqtt.inbox.arrive(message("robot/instantActions", b'{"actionType":"emergencyStop"}'))
        assert len(seen) == 4, "the hook runs before any bound applies"
        received = await drain(mqtt, 2)
        assert received[0].is_urgent
        assert b"emergencyStop" in received[0].payload
        assert received[1].payload == b"\0"

    asyncio.run(body())


def test_an_oversize_payload_is_not_kept_but_its_size_is() -> None:
    seen: list[int] = []

    async def body() -> None:
        mqtt = adapter(max_bytes=16, on_arrival=lambda m: seen.append(len(m.payload)) or False)
        mqtt.inbox.arrive(message("robot/instantActions", b"y" * 1000))
        (received,) = await drain(mqtt, 1)
        assert received.payload == b""
        assert received.size_bytes == 1000
        assert received.is_oversize
        assert seen == [1000], "the hook still scans the whole payload (an e-stop inside counts)"
        assert mqtt.inbox.counters()["robot/instantActions"].oversize == 1

    asyncio.run(body())


def test_response_topic_and_correlation_data_are_carried_over() -> None:
    async def body() -> None:
        mqtt = adapter()
        properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        properties.ResponseTopic = "fleet/answers/me"
        properties.CorrelationData = b"\x01\x02"
        mqtt.inbox.arrive(message("robot/motionPackages", b"pkg", properties))
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


def test_a_failing_arrival_hook_never_reaches_the_mqtt_client() -> None:
    """An exception in the arrival path would drop the connection inside paho: it is caught."""

    def broken(incoming: Incoming) -> bool:
        raise RuntimeError("injected")

    mqtt = adapter(on_arrival=broken)
    queue = ArrivalQueue(mqtt.inbox)
    queue.put_nowait(message("robot/instantActions", b"x"))  # must not raise
    assert mqtt.inbox.waiting() == 0
