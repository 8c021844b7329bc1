"""The e-stop relay: a small process that turns any message on the fleet's e-stop topic into an
e-stop at the control process, independent of the daemon.

Why a process of its own: the daemon's event loop also reads instantActions, uploads and
everything else. Under a flood, a broker drops messages for a subscriber that does not keep up
(from all of its subscriptions alike), and a busy event loop (and its GIL) delays the rest. The
relay has one MQTT connection subscribed to one topic, a thread that does nothing but read it,
real-time priority where permitted (below the control loop), and a ZeroMQ PUSH straight into the
control process's e-stop socket. It keeps working while the daemon is busy or stuck.

For every message it (1) sends the e-stop to the control process, at once, whatever the content;
(2) forwards topic and payload to the daemon (``report_endpoint``), which reports the action
states on the fleet's state topic. It dies with the daemon (``PR_SET_PDEATHSIG``); the daemon
restarts it if it dies, and holds the robot meanwhile.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import pickle
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import zmq
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from controller.estop_latch import EstopOrigin, estop_message_id
from controller.ipc.wire import pack
from daemon.fleet.broker_tls import build_tls_context
from daemon.fleet.mqtt_adapter import read_password
from daemon.fleet.vda5050.config import BrokerConfig

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
_REPORT_HWM = 64
"""Reports waiting for the daemon beyond this are dropped (the e-stop itself is not)."""


@dataclass(frozen=True)
class RelaySettings:
    broker: BrokerConfig
    client_id: str
    topic: str
    estop_endpoint: str
    """The control process's e-stop socket (ZeroMQ PULL; any message there engages)."""
    report_endpoint: str
    """The daemon's PULL socket for what arrived (action-state reporting)."""
    max_message_bytes: int = 65536
    """Larger payloads still engage the e-stop but are not forwarded for reporting."""
    fifo_priority: int | None = 50
    """SCHED_FIFO priority (below the control loop's); None: the default scheduler."""
    parent_pid: int | None = None
    environ: tuple[tuple[str, str], ...] = ()
    """``CREDENTIALS_DIRECTORY`` and friends, as the daemon sees them."""


class Relay:
    """The MQTT client and the two sockets; ``on_message`` is the whole job."""

    def __init__(self, settings: RelaySettings) -> None:
        self._settings = settings
        self._ctx: zmq.Context[Any] = zmq.Context()
        self._estop = self._push(settings.estop_endpoint, 16)
        self._report = self._push(settings.report_endpoint, _REPORT_HWM)
        self.relayed = 0
        self.client = self._make_client()

    def _push(self, address: str, hwm: int) -> zmq.Socket[bytes]:
        sock: zmq.Socket[bytes] = self._ctx.socket(zmq.PUSH)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.SNDHWM, hwm)
        sock.connect(address)
        return sock

    def _make_client(self) -> mqtt.Client:
        settings, broker = self._settings, self._settings.broker
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            protocol=mqtt.MQTTv5,
        )
        if broker.username is not None:
            password = read_password(broker, dict(settings.environ))
            client.username_pw_set(broker.username, password.reveal() if password else None)
        if broker.tls is not None:
            client.tls_set_context(build_tls_context(broker.tls))
        client.reconnect_delay_set(min_delay=1, max_delay=2)
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        return client

    def run(self) -> None:
        """Relay until the daemon is gone (PR_SET_PDEATHSIG kills us at once; the parent check
        below is the belt to those braces) or SIGTERM (default action: we hold no state)."""
        broker = self._settings.broker
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.MaximumPacketSize = self._settings.max_message_bytes + 64 * 1024
        self.client.connect_async(
            broker.host, broker.port, keepalive=broker.keepalive_s, clean_start=True,
            properties=properties,
        )  # fmt: skip
        self.client.loop_start()  # paho's own thread reads the socket and calls on_message
        parent = self._settings.parent_pid
        while parent is None or os.getppid() == parent:
            time.sleep(0.5)
        log.error("e-stop relay: the daemon is gone; stopping")
        self.client.loop_stop()

    def close(self) -> None:
        self.client.disconnect()
        self._estop.close(linger=0)
        self._report.close(linger=0)
        self._ctx.term()

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                    properties: Any) -> None:  # fmt: skip
        if reason.is_failure:
            log.error("e-stop relay: broker refused the connection: %s", reason)
            return
        sock = client.socket()
        if isinstance(sock, socket.socket):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.subscribe(self._settings.topic, qos=1)
        log.info("e-stop relay connected; listening on %s", self._settings.topic)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        # First the e-stop, whatever the message says: nothing before it may fail.
        message_id = estop_message_id(bytes(message.payload))
        estop = {"kind": "estop", "source": EstopOrigin.FLEET.value,
                 "sent_ns": time.monotonic_ns(), "id": message_id}  # fmt: skip
        try:
            self._estop.send(pack(estop), zmq.NOBLOCK)
        except zmq.ZMQError as exc:
            log.critical("e-stop relay: the control process did not take the e-stop: %s", exc)
        self.relayed += 1
        size = len(message.payload)
        payload = message.payload if size <= self._settings.max_message_bytes else b""
        retained = b"1" if message.retain else b"0"
        # The daemon busy or restarting: the e-stop went out, only a report is lost.
        with contextlib.suppress(zmq.ZMQError):
            self._report.send_multipart(
                [message.topic.encode(), payload, retained, str(size).encode()], zmq.NOBLOCK
            )


def run_relay(settings: RelaySettings) -> int:
    logging.basicConfig(level=logging.INFO, format="estop-relay: %(levelname)s %(message)s")
    _die_with_parent(settings.parent_pid)
    if settings.fifo_priority is not None:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(settings.fifo_priority))
        except OSError as exc:
            log.warning("SCHED_FIFO %d refused (%s): default scheduling", settings.fifo_priority,
                        exc.strerror)  # fmt: skip
    relay = Relay(settings)
    try:
        relay.run()
    finally:
        relay.close()
    return 0


def _die_with_parent(parent_pid: int | None) -> None:
    libc_name = ctypes.util.find_library("c")
    if libc_name is not None:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if parent_pid is not None and os.getppid() != parent_pid:
        raise SystemExit("estop-relay: the daemon is gone")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m daemon.fleet.estop_relay SETTINGS_FILE", file=sys.stderr)  # noqa: T201
        return 2
    # Run as ``-m``, this module is ``__main__``: the pickled class is the importable one.
    from daemon.fleet import estop_relay

    settings = pickle.loads(Path(args[0]).read_bytes())  # written by the daemon, mode 0600
    if not isinstance(settings, estop_relay.RelaySettings):
        print("estop-relay: not a settings file", file=sys.stderr)  # noqa: T201
        return 2
    return estop_relay.run_relay(settings)


if __name__ == "__main__":
    sys.exit(main())
