"""The ZeroMQ SUB that receives SONIC producers' ``pose`` and ``command`` messages.

Existing SONIC producers (PICO teleoperation, the webcam example, the VLA) publish on a PUB
socket they bind; we connect a SUB to it, subscribed to both topics. Each message is stamped
with its arrival time (monotonic ns: the jitter buffer's clock samples) and decoded. Nothing is
logged here: a refused message is returned as a ``Refused`` (``daemon.inputs.stream_refusals``
logs).

Synchronous on purpose: it is read by the stream relay's thread (``daemon.inputs.stream_relay``), at
real-time priority where permitted, not by the event loop. The socket has a ZeroMQ context of
its own, whose I/O thread gets the same priority, so a busy machine delays neither. With CURVE
the ZAP handler is a thread of that context too. CONFLATE stays off: a message carries a batch
of frames, and conflating would drop whole batches.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import zmq
from zmq.auth.thread import ThreadAuthenticator

from daemon.inputs.stream_config import StreamingConfig
from daemon.inputs.stream_messages import (
    PoseMessage,
    ProducerCommand,
    decode_command_message,
    decode_pose_message,
)
from daemon.inputs.stream_wire import StreamDecodeError
from daemon.system.curve import load_server_keys, start_curve_server_thread

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pose:
    message: PoseMessage
    received_ns: int


@dataclass(frozen=True)
class Command:
    command: ProducerCommand


@dataclass(frozen=True)
class Refused:
    error: StreamDecodeError


Received = Pose | Command | Refused


def fifo_permitted(priority: int) -> bool:
    """Whether a thread of this process may take SCHED_FIFO ``priority`` (tried on a probe
    thread, which then ends)."""
    permitted: list[bool] = []

    def probe() -> None:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
        except OSError:
            permitted.append(False)
        else:
            permitted.append(True)

    thread = threading.Thread(target=probe, name="fifo-probe")
    thread.start()
    thread.join()
    return permitted == [True]


class StreamReceiver:
    """SUB socket connected to a SONIC producer (see the module docstring).

    Args:
        config: endpoint, limits, decoder settings, CURVE.
        io_priority: SCHED_FIFO priority for the context's I/O thread; None leaves it as is.
        environ: where ``CREDENTIALS_DIRECTORY`` is looked up (default ``os.environ``).
    """

    def __init__(
        self,
        *,
        config: StreamingConfig,
        io_priority: int | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._config = config
        self._io_priority = io_priority
        self._environ = os.environ if environ is None else environ
        self._context: zmq.Context[zmq.Socket[bytes]] | None = None
        self._socket: zmq.Socket[bytes] | None = None
        self._auth: ThreadAuthenticator | None = None
        self.messages = 0
        self.commands = 0
        self.refused = 0

    def open(self) -> None:
        """Connect. Raises ``CurveKeyError`` when a configured key cannot be read."""
        curve = self._config.curve
        keys = load_server_keys(curve, self._environ) if curve is not None else None
        context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        if self._io_priority is not None and fifo_permitted(self._io_priority):
            # Before the first socket: the I/O thread starts with its policy. (libzmq aborts
            # the process when it may not set it, hence the probe.)
            context.set(zmq.THREAD_SCHED_POLICY, os.SCHED_FIFO)
            context.set(zmq.THREAD_PRIORITY, self._io_priority)
        sock = context.socket(zmq.SUB)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.CONFLATE, 0)
        sock.setsockopt(zmq.RCVHWM, self._config.receive_hwm)
        sock.setsockopt(zmq.MAXMSGSIZE, self._config.max_message_bytes)
        sock.setsockopt(zmq.SUBSCRIBE, self._config.decode.topic)
        sock.setsockopt(zmq.SUBSCRIBE, self._config.decode.command_topic)
        try:
            if keys is not None:
                self._auth = start_curve_server_thread(context, sock, keys)
            sock.connect(self._config.endpoint)
        except zmq.ZMQError:
            sock.close(linger=0)
            self._stop_auth()
            context.term()
            raise
        self._context, self._socket = context, sock
        _LOG.info("SONIC stream input connected to %s", self._config.endpoint)

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close(linger=0)
            self._socket = None
        self._stop_auth()
        if self._context is not None:
            self._context.term()
            self._context = None

    def _stop_auth(self) -> None:
        if self._auth is not None:
            self._auth.stop()
            self._auth = None

    def poll(self, timeout_ms: int) -> bool:
        """True when a message is waiting (after at most ``timeout_ms``)."""
        sock = self._socket
        return sock is not None and bool(sock.poll(timeout_ms, zmq.POLLIN))

    def receive(self) -> Received:
        """The next message, decoded (call after ``poll`` said one is waiting)."""
        if self._socket is None:
            raise RuntimeError("StreamReceiver.receive before open")
        frame: Any = self._socket.recv(copy=False)
        received_ns = time.monotonic_ns()
        data = frame.buffer
        decode = self._config.decode
        try:
            if bytes(data[: len(decode.command_topic)]) == decode.command_topic:
                command = decode_command_message(data, decode)
                self.commands += 1
                return Command(command)
            message = decode_pose_message(data, decode)
        except StreamDecodeError as error:
            self.refused += 1
            return Refused(error)
        self.messages += 1
        return Pose(message, received_ns)
