"""The e-stop relay process: any message on the e-stop topic reaches the control process's e-stop
socket, whatever it holds, and a dead relay is restarted.

Real: mosquitto on loopback, the relay as its own process (``python -m daemon.fleet.estop_relay``,
started and supervised by ``EstopRelayProcess``), ZeroMQ ipc sockets. The control process's
e-stop socket is a PULL socket bound by the test (the real one is tested in
``test_control_server`` and end to end in ``test_estop_faults``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import zmq
import zmq.asyncio
from paho.mqtt.enums import CallbackAPIVersion

from controller.ipc.wire import unpack
from daemon.fleet.estop_lane import EstopRelayProcess, report_endpoint
from daemon.fleet.estop_relay import RelaySettings
from daemon.fleet.vda5050.config import BrokerConfig
from tests.support.mosquitto import MosquittoBroker

pytestmark = pytest.mark.integration

TOPIC = "relaytest/v3/Unitree/G1-0001/emergencyStop"


def publish(broker: MosquittoBroker, payload: bytes) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect(broker.host, broker.port)
    client.loop_start()
    client.publish(TOPIC, payload, qos=1).wait_for_publish(2.0)
    client.disconnect()
    client.loop_stop()


async def next_estop(pull: Any, timeout_s: float = 5.0) -> dict[str, Any]:
    assert await pull.poll(int(timeout_s * 1000)), "no e-stop reached the control socket"
    message: dict[str, Any] = unpack(await pull.recv())
    return message


def test_any_message_engages_and_a_killed_relay_comes_back(
    mosquitto_broker: MosquittoBroker, tmp_path: Path
) -> None:
    async def body() -> None:
        ctx = zmq.asyncio.Context()
        control = ctx.socket(zmq.PULL)
        control_endpoint = f"ipc://{tmp_path / 'control-estop'}"
        control.bind(control_endpoint)
        settings = RelaySettings(
            broker=BrokerConfig(host=mosquitto_broker.host, port=mosquitto_broker.port),
            client_id="relay-test-estop",
            topic=TOPIC,
            estop_endpoint=control_endpoint,
            report_endpoint=report_endpoint(tmp_path),
            max_message_bytes=1024,
            fifo_priority=None,
        )
        try:
            async with EstopRelayProcess(settings=settings, run_dir=tmp_path) as relay:
                reports = relay.reports()
                await _until_subscribed(mosquitto_broker, control, b"probe")
                await next_estop(control)
                await asyncio.wait_for(reports.__anext__(), 5.0)
                for payload in (b'{"actions": [{"actionType": "emergencyStop"}]}',
                                b"\xff garbage", b"", b"y" * 5000):  # fmt: skip
                    await asyncio.to_thread(publish, mosquitto_broker, payload)
                    estop = await next_estop(control)
                    assert estop["kind"] == "estop"
                    assert estop["source"] == "fleet"
                    report = await asyncio.wait_for(reports.__anext__(), 5.0)
                    assert report.is_urgent
                    assert report.size_bytes == len(payload)
                    assert report.payload == (payload if len(payload) <= 1024 else b"")
                pid = relay.pid
                assert pid is not None
                os.kill(pid, signal.SIGKILL)
                deadline = time.monotonic() + 5.0
                while relay.pid == pid or not relay.is_healthy():
                    assert time.monotonic() < deadline, "the relay was not restarted"
                    await asyncio.sleep(0.02)
                assert relay.restarts == 1
                await _until_subscribed(mosquitto_broker, control, b"after restart")
                assert (await next_estop(control))["kind"] == "estop"
        finally:
            control.close(0)
            ctx.term()

    asyncio.run(asyncio.wait_for(body(), 40.0))


async def _until_subscribed(broker: MosquittoBroker, control: Any, payload: bytes) -> None:
    """Publish until the relay (which may still be connecting) relays; QoS 1, not retained."""
    for _ in range(50):
        await asyncio.to_thread(publish, broker, payload)
        if await control.poll(200):
            return
    raise AssertionError("the relay never relayed")
