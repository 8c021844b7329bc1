"""A small VDA 5050 fleet controller for one robot: the logic behind ``scripts/fleet_sim.py``.

It is the other side of ``daemon.fleet.fleet_mqtt``: it sends instant actions and orders (QoS 1 with
a message expiry), uploads motion packages (answered on an MQTT 5 response topic with
correlation data), and records every state, connection, factsheet and telemetry message so
callers can wait for a condition::

    async with FleetClient(config=fleet_config) as fleet:
        action_id = await fleet.instant_action("startMotion", {"packageId": "wave"})
        await fleet.wait_action(action_id, {"FINISHED"}, timeout_s=30)

This module does I/O (through ``daemon.fleet.mqtt_adapter``); the rest of the package does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from types import TracebackType
from typing import Any

from daemon.fleet.mqtt_adapter import MqttAdapter, Outgoing
from daemon.fleet.mqtt_inbox import Incoming, Subscription
from daemon.fleet.vda5050.config import FleetConfig
from daemon.fleet.vda5050.errors import FleetTimeoutError
from daemon.fleet.vda5050.header import HeaderFactory
from daemon.fleet.vda5050.messages import (
    encode,
    instant_action,
    instant_actions_message,
    node_action,
    order_message,
    order_node,
)
from daemon.fleet.vda5050.state_readout import (
    action_progress,
    action_state,
    action_status,
    control_mode,
    errors_for,
    order_action_state,
    order_action_status,
    summarize_state,
)
from daemon.system.aio import wait_event, wait_future

log = logging.getLogger(__name__)

__all__ = [
    "FleetClient",
    "PackageAnswer",
    "Received",
    "action_progress",
    "action_state",
    "action_status",
    "control_mode",
    "errors_for",
    "order_action_state",
    "order_action_status",
    "summarize_state",
]

Message = dict[str, Any]

_HISTORY = 2000
"""Messages kept per topic kind (a long ``watch`` must not grow without bound)."""


@dataclass(frozen=True)
class Received:
    """One message the client received."""

    kind: str
    """``connection``, ``state``, ``factsheet``, ``telemetry`` or ``answer``."""
    topic: str
    message: Message
    is_retained: bool
    received_s: float
    """Event-loop time of arrival."""


@dataclass(frozen=True)
class PackageAnswer:
    """The robot's answer to an upload."""

    accepted: bool
    package_id: str | None
    code: str | None
    field: str | None
    detail: str
    message: Message


class FleetClient:
    """Fleet-side MQTT client for the robot that ``config`` describes.

    Args:
        config: The robot's fleet configuration (topics, identity, broker).
        client_id: This client's MQTT id (default: a unique ``fleet-sim-...``).
        connect_timeout_s: ``__aenter__`` raises ``FleetTimeoutError`` if not connected by then.
    """

    def __init__(
        self,
        *,
        config: FleetConfig,
        client_id: str | None = None,
        connect_timeout_s: float = 5.0,
    ) -> None:
        self._config = config
        self.topics = config.topics
        self._client_id = client_id or f"fleet-sim-{uuid.uuid4().hex[:12]}"
        self._connect_timeout_s = connect_timeout_s
        self._headers = HeaderFactory(
            manufacturer=config.manufacturer, serial_number=config.serial_number
        )
        self._response_topic = f"{self.topics.package_answers}/{self._client_id}"
        self._kinds = {
            self.topics.connection: "connection",
            self.topics.state: "state",
            self.topics.factsheet: "factsheet",
            self.topics.telemetry: "telemetry",
            self.topics.package_answers: "answer",
            self._response_topic: "answer",
        }
        self.received: list[Received] = []
        """Every message received, oldest first (bounded to the newest few thousand)."""
        self._offset = 0
        """How many old records were trimmed from the front of ``received``."""
        self._changed = asyncio.Event()
        self._answers: dict[bytes, asyncio.Future[PackageAnswer]] = {}
        self._ids = 0
        self.adapter = MqttAdapter(
            broker=config.broker,
            client_id=self._client_id,
            subscriptions=[Subscription(t, qos=1) for t in self._kinds],
            name="fleet-client",
        )
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> FleetClient:
        await self.adapter.__aenter__()
        self._reader = asyncio.create_task(self._read(), name="fleet-client-reader")
        if not await self.adapter.wait_connected(self._connect_timeout_s):
            await self.__aexit__(None, None, None)
            raise FleetTimeoutError("broker connection", self._connect_timeout_s)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        await self.adapter.close()

    # ------------------------------------------------------------------ commands
    async def instant_action(
        self, action_type: str, parameters: Mapping[str, Any] | None = None
    ) -> str:
        """Send one instant action; returns its actionId."""
        self._ids += 1
        action_id = f"{action_type}-{self._client_id}-{self._ids}"
        await self.instant_actions([instant_action(action_type, action_id, parameters)])
        return action_id

    async def instant_actions(self, actions: list[Message]) -> None:
        """Send a list of raw ``instantActions.actions`` entries in one message."""
        now = datetime.now(timezone.utc)
        await self.publish_raw(encode(instant_actions_message(self._headers, actions, now)))

    async def order(
        self,
        actions: Sequence[tuple[str, Mapping[str, Any] | None]],
        *,
        order_id: str | None = None,
        order_update_id: int = 0,
        node_id: str | None = None,
        sequence_id: int = 0,
    ) -> tuple[str, list[str]]:
        """Send a one-node order whose node carries ``actions`` (type, parameters) in turn.

        Args:
            actions: The node actions, run one after another.
            order_id: Default: a new unique one.
            order_update_id: 0 for a new order, higher for an update.
            node_id: The robot's station; default: ``lastNodeId`` from the newest state, else
                the configured ``station_node_id``.
            sequence_id: The node's sequenceId.

        Returns:
            The orderId and the actionIds, in order.
        """
        order_id = order_id or f"order-{self._client_id}-{uuid.uuid4().hex[:8]}"
        if node_id is None:
            latest = self.latest_state
            node_id = (latest or {}).get("lastNodeId") or self._config.station_node_id
        action_ids, entries = [], []
        for action_type, parameters in actions:
            self._ids += 1
            action_id = f"{action_type}-{self._client_id}-{self._ids}"
            action_ids.append(action_id)
            entries.append(node_action(action_type, action_id, parameters))
        node = order_node(str(node_id), entries, sequence_id=sequence_id)
        await self.send_order(order_id, order_update_id, [node])
        return order_id, action_ids

    async def send_order(
        self,
        order_id: str,
        order_update_id: int,
        nodes: list[Message],
        edges: list[Message] | None = None,
    ) -> None:
        """Publish an order message built from raw ``nodes`` and ``edges`` entries."""
        message = order_message(
            self._headers,
            order_id=order_id,
            order_update_id=order_update_id,
            nodes=nodes,
            edges=edges,
            now=datetime.now(timezone.utc),
        )
        await self.publish_raw(encode(message), topic=self.topics.order)

    async def wait_order_action(
        self, action_id: str, statuses: Collection[str], timeout_s: float
    ) -> Message:
        """The order action's ``actionStates`` entry once its status is one of ``statuses``."""
        state = await self.wait_state(
            lambda m: order_action_status(m, action_id) in statuses, timeout_s
        )
        return order_action_state(state, action_id) or {}

    async def emergency_stop(self, *, also_as_instant_action: bool = True) -> str:
        """The e-stop on the robot's own e-stop topic (read over a connection of its own,
        which a flood of instantActions cannot hold up), then as the standard instant action.
        Both carry the same actionId; the robot engages on the first. Returns the actionId."""
        self._ids += 1
        action_id = f"emergencyStop-{self._client_id}-{self._ids}"
        now = datetime.now(timezone.utc)
        message = instant_actions_message(
            self._headers, [instant_action("emergencyStop", action_id, None)], now
        )
        payload = encode(message)
        await self.publish_raw(payload, topic=self.topics.emergency_stop)
        if also_as_instant_action:
            await self.publish_raw(payload)
        return action_id

    async def publish_raw(self, payload: bytes, *, topic: str | None = None) -> None:
        """Publish bytes on the robot's instantActions topic (or ``topic``) as they are."""
        sent = await self.adapter.publish(
            Outgoing(
                topic or self.topics.instant_actions,
                payload,
                qos=1,
                expiry_s=self._config.command_expiry_s,
            )
        )
        if not sent:
            raise FleetTimeoutError(
                "acknowledgement of instantActions", self._config.broker.publish_timeout_s
            )

    async def upload(self, data: bytes, *, timeout_s: float = 30.0) -> PackageAnswer:
        """Upload one motion package and wait for the robot's answer."""
        correlation = uuid.uuid4().bytes
        future: asyncio.Future[PackageAnswer] = asyncio.get_running_loop().create_future()
        self._answers[correlation] = future
        try:
            sent = await self.adapter.publish(
                Outgoing(
                    self.topics.packages,
                    data,
                    qos=1,
                    expiry_s=self._config.command_expiry_s,
                    response_topic=self._response_topic,
                    correlation=correlation,
                )
            )
            if not sent:
                raise FleetTimeoutError(
                    "acknowledgement of the upload", self._config.broker.publish_timeout_s
                )
            answer = await wait_future(future, timeout_s)
            if answer is None:
                raise FleetTimeoutError("package answer", timeout_s)
            return answer
        finally:
            self._answers.pop(correlation, None)

    # ------------------------------------------------------------------ observations
    def messages_of(self, kind: str) -> list[Message]:
        return [r.message for r in self.received if r.kind == kind]

    @property
    def latest_state(self) -> Message | None:
        return self._latest("state")

    @property
    def latest_connection(self) -> Message | None:
        return self._latest("connection")

    @property
    def factsheet(self) -> Message | None:
        return self._latest("factsheet")

    async def wait_for(
        self, kind: str, predicate: Callable[[Message], bool], timeout_s: float
    ) -> Message:
        """The first message of ``kind`` (the newest one received so far, or a later one)
        for which ``predicate`` holds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        position = max(self._offset, self._last_position(kind))
        while True:
            for _, record in self._since(position):
                if record.kind == kind and predicate(record.message):
                    return record.message
            position = self._offset + len(self.received)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise FleetTimeoutError(kind, timeout_s)
            self._changed.clear()
            await wait_event(self._changed, remaining)

    async def wait_state(self, predicate: Callable[[Message], bool], timeout_s: float) -> Message:
        return await self.wait_for("state", predicate, timeout_s)

    async def wait_connection(self, connection_state: str, timeout_s: float) -> Message:
        return await self.wait_for(
            "connection", lambda m: m.get("connectionState") == connection_state, timeout_s
        )

    async def wait_action(
        self, action_id: str, statuses: Collection[str], timeout_s: float
    ) -> Message:
        """The action's state entry once its status is one of ``statuses``."""
        state = await self.wait_state(lambda m: action_status(m, action_id) in statuses, timeout_s)
        return action_state(state, action_id) or {}

    async def states(self) -> AsyncIterator[Message]:
        """Every state message from now on (the newest one first, if any)."""
        position = max(self._offset, self._last_position("state"))
        while True:
            for _, record in self._since(position):
                if record.kind == "state":
                    yield record.message
            position = self._offset + len(self.received)
            self._changed.clear()
            await self._changed.wait()

    # ------------------------------------------------------------------ internals
    def _latest(self, kind: str) -> Message | None:
        for record in reversed(self.received):
            if record.kind == kind:
                return record.message
        return None

    def _last_position(self, kind: str) -> int:
        """Absolute position of the newest message of ``kind`` (-1: none)."""
        for index in range(len(self.received) - 1, -1, -1):
            if self.received[index].kind == kind:
                return self._offset + index
        return -1

    def _since(self, position: int) -> list[tuple[int, Received]]:
        """Records from absolute ``position`` on (those already trimmed are gone)."""
        start = max(position - self._offset, 0)
        return [(self._offset + i, r) for i, r in enumerate(self.received[start:], start)]

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        async for incoming in self.adapter.messages():
            kind = self._kinds.get(incoming.topic)
            if kind is None:
                continue
            try:
                message = json.loads(incoming.payload)
            except ValueError:
                log.warning("not JSON on %s", incoming.topic)
                continue
            if not isinstance(message, dict):
                continue
            self._record(Received(kind, incoming.topic, message, incoming.is_retained, loop.time()))
            if kind == "answer":
                self._resolve_answer(incoming, message)

    def _record(self, record: Received) -> None:
        self.received.append(record)
        if len(self.received) > _HISTORY:
            # Waiters hold absolute positions (offset + index), which a trim does not move.
            del self.received[: _HISTORY // 2]
            self._offset += _HISTORY // 2
        self._changed.set()

    def _resolve_answer(self, incoming: Incoming, message: Message) -> None:
        future = self._answers.get(incoming.correlation or b"")
        if future is None or future.done():
            return
        future.set_result(
            PackageAnswer(
                accepted=bool(message.get("accepted")),
                package_id=message.get("packageId"),
                code=message.get("code"),
                field=message.get("field"),
                detail=str(message.get("detail") or ""),
                message=message,
            )
        )
