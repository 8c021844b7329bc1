"""Where received MQTT messages land: bounded lanes, a fast lane, and refusal at arrival.

Every message is handled the moment the MQTT client decodes it (inside its receive callback,
before any queue), so a flood can neither hide an e-stop nor eat the daemon's memory:

1. its subscription's ``on_arrival`` runs first, on the raw payload. The fleet uses it to
   recognise an ``emergencyStop`` and send it to the control process right there, ahead of
   every queue; an urgent message is then also kept in a small lane of its own, read first;
2. a payload larger than the subscription's ``max_bytes`` is not kept: an empty payload with
   the original size goes on, so the sender still gets a specific refusal;
3. each subscription has a bounded lane (``capacity`` unread messages); beyond it the newest
   message is dropped and counted, and a warning is logged at most every few seconds.

The inbox outlives connections: what arrived before a reconnect is still read after it.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiomqtt

log = logging.getLogger(__name__)

_LOG_EVERY_S = 5.0


@dataclass(frozen=True)
class Incoming:
    """A received message."""

    topic: str
    payload: bytes
    is_retained: bool
    response_topic: str | None = None
    correlation: bytes | None = None
    size_bytes: int = -1
    """The payload's size as received (``payload`` is empty when it was over the limit)."""
    is_urgent: bool = False
    """The subscription's ``on_arrival`` acted on it already (the fleet: an e-stop sent)."""

    @property
    def is_oversize(self) -> bool:
        return self.size_bytes > len(self.payload)


ArrivalHook = Callable[[Incoming], bool]
"""Runs in the MQTT client's receive callback with the whole payload; must be quick and must
not raise. True marks the message urgent."""


@dataclass(frozen=True)
class Subscription:
    topic: str
    """A topic filter (wildcards allowed)."""
    qos: int = 1
    priority: int = 1
    """Lower is read first."""
    capacity: int = 256
    """Unread messages of this subscription beyond which new ones are dropped at arrival."""
    max_bytes: int = 1024 * 1024
    """Larger payloads are not kept (refused at arrival, see ``Incoming.is_oversize``)."""
    on_arrival: ArrivalHook | None = None


@dataclass
class LaneCounters:
    received: int = 0
    dropped: int = 0
    oversize: int = 0
    urgent: int = 0


@dataclass
class _Lane:
    subscription: Subscription
    waiting: collections.deque[Incoming] = field(default_factory=collections.deque)
    counters: LaneCounters = field(default_factory=LaneCounters)
    unlogged_drops: int = 0
    logged_at: float = float("-inf")


class Inbox:
    """Bounded per-subscription lanes plus an urgent lane; see the module docstring.

    Args:
        subscriptions: One lane each; a message matching none goes to the last one.
        urgent_capacity: Urgent messages kept beyond their lane's bound (an e-stop flood is
            acted on at arrival either way; only its reporting is bounded).
    """

    def __init__(self, subscriptions: Sequence[Subscription], *, urgent_capacity: int = 64) -> None:
        if not subscriptions:
            raise ValueError("an inbox needs at least one subscription")
        self._lanes = sorted(
            (_Lane(s) for s in subscriptions), key=lambda lane: lane.subscription.priority
        )
        self._exact = {
            lane.subscription.topic: lane
            for lane in self._lanes
            if "+" not in lane.subscription.topic and "#" not in lane.subscription.topic
        }
        self._urgent: collections.deque[Incoming] = collections.deque()
        self._urgent_capacity = urgent_capacity
        self._ready = asyncio.Event()

    def counters(self) -> dict[str, LaneCounters]:
        """Per subscription topic: received, dropped, oversize, urgent (live objects)."""
        return {lane.subscription.topic: lane.counters for lane in self._lanes}

    def waiting(self) -> int:
        return len(self._urgent) + sum(len(lane.waiting) for lane in self._lanes)

    async def get(self) -> Incoming:
        """The next message: urgent ones first, then by subscription priority."""
        while True:
            if self._urgent:
                return self._urgent.popleft()
            for lane in self._lanes:
                if lane.waiting:
                    return lane.waiting.popleft()
            self._ready.clear()
            await self._ready.wait()

    def arrive(self, message: aiomqtt.Message) -> None:
        """The MQTT client decoded ``message`` (runs in its receive callback)."""
        topic = message.topic.value
        lane = self._lane_for(message, topic)
        sub, counters = lane.subscription, lane.counters
        counters.received += 1
        payload = message.payload
        data = bytes(payload) if isinstance(payload, (bytes, bytearray)) else b""
        incoming = _incoming(message, topic, data)
        is_urgent = sub.on_arrival is not None and sub.on_arrival(incoming)
        if len(data) > sub.max_bytes:
            counters.oversize += 1
            incoming = _replace(incoming, payload=b"")
        if is_urgent:
            counters.urgent += 1
            incoming = _replace(incoming, is_urgent=True)
            if len(self._urgent) < self._urgent_capacity:
                self._urgent.append(incoming)
                self._ready.set()
                return
        if len(lane.waiting) >= sub.capacity:
            self._drop(lane)
            return
        lane.waiting.append(incoming)
        self._ready.set()

    def _lane_for(self, message: aiomqtt.Message, topic: str) -> _Lane:
        lane = self._exact.get(topic)
        if lane is not None:
            return lane
        for candidate in self._lanes:
            if message.topic.matches(candidate.subscription.topic):
                return candidate
        return self._lanes[-1]

    def _drop(self, lane: _Lane) -> None:
        lane.counters.dropped += 1
        lane.unlogged_drops += 1
        now = time.monotonic()
        if now - lane.logged_at >= _LOG_EVERY_S:
            log.warning(
                "MQTT inbox: %d message(s) on %s dropped (%d unread, the limit; %d dropped "
                "since start)",
                lane.unlogged_drops,
                lane.subscription.topic,
                len(lane.waiting),
                lane.counters.dropped,
            )
            lane.unlogged_drops = 0
            lane.logged_at = now


class ArrivalQueue(asyncio.Queue[Any]):
    """aiomqtt's incoming-message queue, used as a callback into an ``Inbox``.

    aiomqtt 2.x puts each decoded message into the queue of the ``queue_type`` it was given,
    from the client's receive callback. This one hands it to the inbox at once and keeps
    nothing, so aiomqtt's own message iterator only waits (for a disconnect, which ends it).
    """

    def __init__(self, inbox: Inbox) -> None:
        super().__init__()
        self._inbox = inbox

    def put_nowait(self, item: Any) -> None:
        # An exception here would travel up paho's receive path and drop the connection (and
        # with it every later message, e-stops included): the boundary is here.
        try:
            self._inbox.arrive(item)
        except Exception:
            log.exception("MQTT inbox: a received message could not be taken")


def _incoming(message: aiomqtt.Message, topic: str, data: bytes) -> Incoming:
    props = message.properties
    response_topic = getattr(props, "ResponseTopic", None) if props is not None else None
    correlation = getattr(props, "CorrelationData", None) if props is not None else None
    return Incoming(
        topic,
        data,
        bool(message.retain),
        response_topic if isinstance(response_topic, str) else None,
        bytes(correlation) if isinstance(correlation, (bytes, bytearray)) else None,
        len(data),
    )


def _replace(incoming: Incoming, **changes: Any) -> Incoming:
    return dataclasses.replace(incoming, **changes)
