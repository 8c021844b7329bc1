"""A thin MQTT 5 adapter over aiomqtt 2.x: one reconnecting connection with a small surface.

Why a wrapper: aiomqtt 3 is a rewrite (new message type, manual PUBACK, built-in reconnect),
so only this module touches aiomqtt (pinned ``>=2.5,<3``). What it adds to aiomqtt 2.x:

- MQTT 5 explicitly (aiomqtt's default is 3.1.1);
- reconnect forever with exponential backoff and jitter, capped at ``reconnect_max_s`` (2 s by
  default; aiomqtt 2 never reconnects), then
  re-subscribe and call ``on_connect`` after every connection (the fleet service republishes
  ``connection`` ONLINE, the factsheet and ``state`` there);
- a last will built fresh for each connection attempt;
- TCP_NODELAY on the client socket: paho leaves Nagle's algorithm on, which together with the
  broker's delayed ACKs was seen adding ~40 ms to a small command on loopback (~3 ms without);
- MQTT 5 message expiry, response topic and correlation data on publish;
- one inbox that outlives connections (``daemon.fleet.mqtt_inbox``): each message is seen the moment
  it is decoded (the fleet's e-stop fast lane), oversize payloads are refused at arrival and
  every subscription's lane is bounded, so a flood can neither delay an e-stop nor eat memory;
- MQTT 5 ``Maximum Packet Size`` in CONNECT, so the broker does not even send what is too big;
- TLS and username/password, with the password read from a file or systemd credential at each
  connection attempt and never logged.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import random
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import cast

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from daemon.fleet.broker_tls import build_tls_context, tls_failure
from daemon.fleet.mqtt_inbox import ArrivalQueue, Inbox, Incoming, Subscription
from daemon.fleet.vda5050.config import BrokerConfig
from daemon.fleet.vda5050.errors import BrokerCredentialError, BrokerTlsError
from daemon.system.aio import wait_event

log = logging.getLogger(__name__)

_NODELAY = ((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),)
_PACKET_OVERHEAD_BYTES = 64 * 1024
"""Room for the topic and MQTT 5 properties beside the largest accepted payload."""


@dataclass(frozen=True)
class Outgoing:
    """A message to publish."""

    topic: str
    payload: bytes
    qos: int = 0
    is_retained: bool = False
    expiry_s: int | None = None
    """MQTT 5 message expiry: the broker drops the message after this many seconds."""
    response_topic: str | None = None
    correlation: bytes | None = None


class Secret:
    """A string that does not show itself in ``repr``/``str`` (logs, tracebacks, dumps)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


def read_password(broker: BrokerConfig, environ: Mapping[str, str]) -> Secret | None:
    """The broker password from ``password_file`` or ``$CREDENTIALS_DIRECTORY/<credential>``.

    Raises:
        BrokerCredentialError: unreadable, empty, or ``CREDENTIALS_DIRECTORY`` unset. The error
            names the source, never the content.
    """
    source = broker.password_source
    if source is None:
        return None
    if broker.password_file is not None:
        path = broker.password_file
    else:
        directory = environ.get("CREDENTIALS_DIRECTORY")
        if not directory:
            raise BrokerCredentialError(
                source, "$CREDENTIALS_DIRECTORY is not set (LoadCredential= in the unit?)"
            )
        path = Path(directory) / str(broker.password_credential)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BrokerCredentialError(source, exc.strerror or type(exc).__name__) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BrokerCredentialError(source, "not UTF-8 text") from None
    text = text[:-2] if text.endswith("\r\n") else text.removesuffix("\n")
    if not text:
        raise BrokerCredentialError(source, "is empty")
    return Secret(text)


def backoff_delay_s(attempt: int, *, initial_s: float, max_s: float, rng: random.Random) -> float:
    """Delay before reconnect attempt ``attempt`` (0 = first retry after a loss).

    Exponential, capped, with "equal jitter" (uniform in the upper half): never shorter than
    half the step, so a fleet of robots that lost the same broker spreads its reconnects.
    """
    ceiling = min(max_s, initial_s * 2.0 ** min(attempt, 32))
    return rng.uniform(ceiling / 2.0, ceiling)


async def _bounded(publish: Awaitable[bool], timeout_s: float | None) -> bool:
    """``publish`` within ``timeout_s`` (cancelled after it; not ``wait_for``, which can
    swallow a cancellation of the caller, gh-86296)."""
    task = asyncio.ensure_future(publish)
    done, _ = await asyncio.wait({task}, timeout=timeout_s)
    if not done:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return False
    return bool(task.result())


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.critical("MQTT task %s died", task.get_name(), exc_info=task.exception())


class MqttAdapter:
    """One MQTT 5 connection that reconnects forever.

    Args:
        broker: Where and how to connect.
        client_id: The MQTT client identifier.
        subscriptions: Subscribed after every (re)connect.
        will: Builds the last will for each connection attempt (a fresh header each time).
        on_connect: Awaited (in its own task) after every connect and subscribe.
        on_disconnect: Called when a connection ends.
        name: Prefix of the task names (``<name>-connection``, ``<name>-on-connect``).
        environ: Where ``CREDENTIALS_DIRECTORY`` is looked up (default ``os.environ``).
        rng: Jitter source (tests pin it).
    """

    def __init__(
        self,
        *,
        broker: BrokerConfig,
        client_id: str,
        subscriptions: Sequence[Subscription] = (),
        will: Callable[[], Outgoing] | None = None,
        on_connect: Callable[[], Awaitable[None]] | None = None,
        on_disconnect: Callable[[], None] | None = None,
        name: str = "mqtt",
        environ: Mapping[str, str] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._broker = broker
        self._client_id = client_id
        self._subscriptions = tuple(subscriptions)
        self._will = will
        self._on_connect = on_connect
        self._on_disconnect = on_disconnect
        self._name = name
        self._environ = os.environ if environ is None else environ
        self._rng = rng or random.Random()
        self._client: aiomqtt.Client | None = None
        self._connected = asyncio.Event()
        self.inbox = Inbox(self._subscriptions)
        largest = max((s.max_bytes for s in self._subscriptions), default=0)
        self._max_packet_bytes = largest + _PACKET_OVERHEAD_BYTES
        self._task: asyncio.Task[None] | None = None
        self._on_connect_task: asyncio.Task[None] | None = None
        self.connections = 0
        """How many times a connection was established (1 after the first)."""
        self.reconnect_delays_s: collections.deque[float] = collections.deque(maxlen=64)
        """The newest delays waited between connection attempts (diagnostics, tests)."""
        self.last_error: Exception | None = None
        """Why the last connection attempt failed or the last connection ended (a
        ``BrokerTlsError`` for an untrusted broker); None once connected again."""

    async def __aenter__(self) -> MqttAdapter:
        self._task = asyncio.create_task(self._run(), name=f"{self._name}-connection")
        self._task.add_done_callback(_report_crash)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def is_connected(self) -> bool:
        return self._client is not None and self._connected.is_set()

    @property
    def has_tcp_nodelay(self) -> bool | None:
        """Whether the live socket has TCP_NODELAY set (None while disconnected)."""
        client = self._client
        # aiomqtt 2.x keeps its paho client private; this read-out is only for checks.
        sock = client._client.socket() if client is not None else None
        if not isinstance(sock, socket.socket):
            return None
        return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    async def wait_connected(self, timeout_s: float) -> bool:
        """True once connected; False if that did not happen within ``timeout_s``."""
        return await wait_event(self._connected, timeout_s)

    async def publish(self, message: Outgoing) -> bool:
        """Publish now; False if not connected or the broker did not acknowledge in time.

        Nothing is queued for later: after a reconnect ``on_connect`` republishes what matters.
        """
        client = self._client
        if client is None:
            return False
        properties = None
        if message.expiry_s or message.response_topic or message.correlation:
            properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            if message.expiry_s:
                properties.MessageExpiryInterval = int(message.expiry_s)
            if message.response_topic:
                properties.ResponseTopic = message.response_topic
            if message.correlation:
                properties.CorrelationData = message.correlation
        try:
            await client.publish(
                message.topic,
                message.payload,
                qos=message.qos,
                retain=message.is_retained,
                properties=properties,
                timeout=self._broker.publish_timeout_s,
            )
        except aiomqtt.MqttError as exc:
            log.debug("publish to %s failed: %s", message.topic, exc)
            return False
        return True

    async def messages(self) -> AsyncIterator[Incoming]:
        """Received messages, across reconnects: urgent first, then by subscription priority."""
        while True:
            yield await self.inbox.get()

    async def close(
        self, farewell: Sequence[Outgoing] = (), *, deadline_s: float | None = None
    ) -> int:
        """Publish ``farewell`` in order (if connected), disconnect cleanly (no will), stop.

        ``deadline_s`` bounds the farewell as a whole (a broker that stopped answering must not
        hold a shutdown for ``publish_timeout_s`` per message). Returns how many farewell
        messages the broker acknowledged (0..len(farewell)); a message not acknowledged stops
        the farewell (a later one must not overtake it)."""
        published = 0
        loop = asyncio.get_running_loop()
        end_s = None if deadline_s is None else loop.time() + deadline_s
        for message in farewell:
            remaining_s = None if end_s is None else end_s - loop.time()
            if remaining_s is not None and remaining_s <= 0:
                break
            if not await _bounded(self.publish(message), remaining_s):
                break
            published += 1
        on_connect, self._on_connect_task = self._on_connect_task, None
        if on_connect is not None:
            on_connect.cancel()
            await asyncio.gather(on_connect, return_exceptions=True)
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        return published

    # ------------------------------------------------------------------ internals
    async def _run(self) -> None:
        attempt = 0
        broker = self._broker
        while True:
            try:
                client = await self._make_client()
                async with client:
                    attempt = 0
                    await self._connected_with(client)
                    # Messages go to the inbox from the client's receive callback (see
                    # ArrivalQueue); iterating only waits for the connection to end.
                    async for _ in client.messages:
                        pass
            except aiomqtt.MqttError as exc:
                tls_error = tls_failure(exc, broker)
                self.last_error = tls_error or exc
                if tls_error is not None:
                    log.error("MQTT %s:%d: %s", broker.host, broker.port, tls_error)
                else:
                    log.warning("MQTT %s:%d: %s", broker.host, broker.port, exc)
            except (BrokerCredentialError, BrokerTlsError, ssl.SSLError, OSError) as exc:
                self.last_error = exc
                log.error("MQTT %s:%d: cannot connect: %s", broker.host, broker.port, exc)
            finally:
                self._lost()
            delay = backoff_delay_s(
                attempt,
                initial_s=broker.reconnect_initial_s,
                max_s=broker.reconnect_max_s,
                rng=self._rng,
            )
            attempt += 1
            self.reconnect_delays_s.append(delay)
            await asyncio.sleep(delay)

    async def _make_client(self) -> aiomqtt.Client:
        broker = self._broker
        password = await asyncio.to_thread(read_password, broker, self._environ)
        tls = None
        if broker.tls is not None:
            tls = await asyncio.to_thread(build_tls_context, broker.tls)
        will = None
        if self._will is not None:
            last = self._will()
            will = aiomqtt.Will(last.topic, last.payload, last.qos, last.is_retained)
        connect_properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        connect_properties.MaximumPacketSize = self._max_packet_bytes
        inbox = self.inbox
        return aiomqtt.Client(
            broker.host,
            broker.port,
            username=broker.username,
            password=password.reveal() if password is not None else None,
            identifier=self._client_id,
            protocol=aiomqtt.ProtocolVersion.V5,
            will=will,
            keepalive=broker.keepalive_s,
            timeout=broker.connect_timeout_s,
            clean_start=True,
            tls_context=tls,
            # aiomqtt applies these to the socket right after connecting (paho's own socket).
            socket_options=_NODELAY,
            properties=connect_properties,
            queue_type=cast(
                "type[asyncio.Queue[aiomqtt.Message]]", lambda maxsize: ArrivalQueue(inbox)
            ),
        )

    async def _connected_with(self, client: aiomqtt.Client) -> None:
        for subscription in self._subscriptions:
            await client.subscribe(subscription.topic, qos=subscription.qos)
        self._client = client
        self.last_error = None
        self.connections += 1
        self._connected.set()
        log.info(
            "MQTT connected to %s:%d as %s (connection %d)",
            self._broker.host,
            self._broker.port,
            self._client_id,
            self.connections,
        )
        if self._on_connect is not None:
            self._on_connect_task = asyncio.create_task(
                self._call_on_connect(self._on_connect), name=f"{self._name}-on-connect"
            )

    @staticmethod
    async def _call_on_connect(callback: Callable[[], Awaitable[None]]) -> None:
        await callback()

    def _lost(self) -> None:
        was_connected = self._client is not None
        self._client = None
        self._connected.clear()
        task, self._on_connect_task = self._on_connect_task, None
        if task is not None:
            task.cancel()
        if was_connected and self._on_disconnect is not None:
            self._on_disconnect()
