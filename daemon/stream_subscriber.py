"""The ZeroMQ SUB that receives SONIC producers' ``pose`` and ``command`` messages.

Existing SONIC producers (PICO teleoperation, the webcam example, the VLA) publish on a PUB
socket they bind; we connect a SUB to it, subscribed to both topics. Each message is stamped
with its arrival time (monotonic ns: the jitter buffer's clock samples), decoded, and handed
on. Nothing is logged here: a refused message goes to ``on_refusal`` (the daemon's one place
for refusals, ``daemon.stream_refusals``).

Async context manager; it owns one task (``sonic-stream-recv``). CONFLATE stays off: a message
carries a batch of frames, and conflating would drop whole batches. An exception raised by a
callback ends the task (the stream then goes stale, which the supervisor treats as a fault) and
is re-raised on exit.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Mapping
from types import TracebackType

import zmq
import zmq.asyncio
from zmq.auth.asyncio import AsyncioAuthenticator

from daemon.curve import load_server_keys, start_curve_server
from daemon.stream_config import StreamingConfig
from daemon.stream_messages import (
    PoseMessage,
    ProducerCommand,
    decode_command_message,
    decode_pose_message,
)
from daemon.stream_wire import StreamDecodeError

_LOG = logging.getLogger(__name__)


class StreamSubscriber:
    """SUB socket connected to a SONIC producer (see the module docstring)."""

    def __init__(
        self,
        *,
        config: StreamingConfig,
        on_pose: Callable[[PoseMessage, int], None],
        on_command: Callable[[ProducerCommand], None],
        on_refusal: Callable[[StreamDecodeError], None],
        context: zmq.asyncio.Context | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """Args:
        config: endpoint, limits, decoder settings, CURVE.
        on_pose: each accepted pose message and its arrival time (``time.monotonic_ns``);
            called on the event loop, must not block.
        on_command: each accepted producer command.
        on_refusal: each malformed message.
        context: ZeroMQ context (default: the process-wide instance; with CURVE, one of the
            subscriber's own, so its ZAP handler applies to this socket alone).
        environ: where ``CREDENTIALS_DIRECTORY`` is looked up (default ``os.environ``).
        """
        self._config = config
        self._on_pose = on_pose
        self._on_command = on_command
        self._on_refusal = on_refusal
        self._owns_context = context is None and config.curve is not None
        if context is not None:
            self._context = context
        elif self._owns_context:
            self._context = zmq.asyncio.Context()
        else:
            self._context = zmq.asyncio.Context.instance()
        self._environ = os.environ if environ is None else environ
        self._auth: AsyncioAuthenticator | None = None
        self._socket: zmq.asyncio.Socket | None = None
        self._task: asyncio.Task[None] | None = None
        self.messages = 0
        self.commands = 0
        self.refused = 0

    async def __aenter__(self) -> StreamSubscriber:
        """Connect. Raises ``CurveKeyError`` when a configured key cannot be read."""
        curve = self._config.curve
        keys = load_server_keys(curve, self._environ) if curve is not None else None
        sock = self._context.socket(zmq.SUB)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.CONFLATE, 0)
        sock.setsockopt(zmq.RCVHWM, self._config.receive_hwm)
        sock.setsockopt(zmq.MAXMSGSIZE, self._config.max_message_bytes)
        sock.setsockopt(zmq.SUBSCRIBE, self._config.decode.topic)
        sock.setsockopt(zmq.SUBSCRIBE, self._config.decode.command_topic)
        try:
            if keys is not None:
                self._auth = start_curve_server(self._context, sock, keys)
            sock.connect(self._config.endpoint)
        except zmq.ZMQError:
            sock.close(linger=0)
            self._close_auth()
            raise
        self._socket = sock
        self._task = asyncio.create_task(self._receive(sock), name="sonic-stream-recv")
        _LOG.info("SONIC stream input connected to %s", self._config.endpoint)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        task, self._task = self._task, None
        failure: BaseException | None = None
        if task is not None:
            task.cancel()
            await asyncio.wait([task])
            failure = None if task.cancelled() else task.exception()
        if self._socket is not None:
            self._socket.close(linger=0)
            self._socket = None
        self._close_auth()
        if failure is not None and exc is None:
            raise failure

    def _close_auth(self) -> None:
        if self._auth is not None:
            self._auth.stop()
            self._auth = None
        if self._owns_context:
            self._context.term()

    async def _receive(self, sock: zmq.asyncio.Socket) -> None:
        decode = self._config.decode
        while True:
            frame = await sock.recv(copy=False)
            received_ns = time.monotonic_ns()
            data = frame.buffer
            try:
                if bytes(data[: len(decode.command_topic)]) == decode.command_topic:
                    command = decode_command_message(data, decode)
                    self.commands += 1
                    self._on_command(command)
                    continue
                message = decode_pose_message(data, decode)
            except StreamDecodeError as error:
                self.refused += 1
                self._on_refusal(error)
                continue
            self.messages += 1
            self._on_pose(message, received_ns)
