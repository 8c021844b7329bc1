"""The stream relay's own, synchronous connection to the control process.

Like the heartbeat thread (``daemon.control.heartbeat``), the stream relay talks to the control
process over sockets of its own rather than through the event loop's ``ZmqControlLink``: a DEALER on
the command socket (stream commands, each answered with an ack) and a PUSH on the e-stop socket (a
producer's e-stop, sent at once). It runs on the relay's thread only; the messages are those of
``controller.process.stream_commands``.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import zmq

from controller.estop_latch import EstopOrigin
from controller.ipc import COMMAND_SOCKET, ESTOP_SOCKET, endpoint
from controller.ipc.wire import WireError, encode_array, pack, unpack
from daemon.control.control_link import CommandResult


@dataclass(frozen=True)
class StreamChunk:
    """New frames of one stream for the control process (``controller.process.stream_commands``).

    ``arrays``: ``q_hw`` (N, 29), ``hand_q`` (N, 2, 7), ``hand_state`` (N, 2), and where the
    protocol has them ``smpl_joints`` (N, 24, 3), ``root_quat_wxyz`` (N, 4), ``token`` (N, 64).
    """

    session: int
    frame_index: npt.NDArray[np.int64]
    arrays: dict[str, npt.NDArray[Any]]
    received_ns: int
    """When the daemon received the message (``time.monotonic_ns``)."""
    is_open: bool = False
    """The first frames of a new stream: engage it (from HOLD, or ``take_over`` a package)."""
    take_over: bool = False
    protocol: int = 0
    catch_up: bool = True
    heading_increment_rad: float = 0.0


class StreamControlClient:
    """Stream commands and the producer's e-stop, from one thread (not thread-safe)."""

    def __init__(self, run_dir: str, *, timeout_s: float = 1.0) -> None:
        self._context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        self._commands = self._context.socket(zmq.DEALER)
        self._commands.setsockopt(zmq.LINGER, 0)
        self._commands.connect(endpoint(run_dir, COMMAND_SOCKET))
        self._estop = self._context.socket(zmq.PUSH)
        self._estop.setsockopt(zmq.LINGER, 0)
        self._estop.setsockopt(zmq.SNDHWM, 16)
        self._estop.connect(endpoint(run_dir, ESTOP_SOCKET))
        self._timeout_s = timeout_s
        self._ids = itertools.count(1)

    def close(self) -> None:
        self._commands.close(linger=0)
        self._estop.close(linger=0)
        self._context.term()

    def frames(self, chunk: StreamChunk) -> CommandResult:
        message: dict[str, Any] = {
            "kind": "stream_frames",
            "session": chunk.session,
            "open": chunk.is_open,
            "take_over": chunk.take_over,
            "protocol": chunk.protocol,
            "received_ns": chunk.received_ns,
            "catch_up": chunk.catch_up,
            "heading_increment": chunk.heading_increment_rad,
            "frame_index": encode_array(chunk.frame_index),
        }
        for name, array in chunk.arrays.items():
            message[name] = encode_array(array)
        return self._request(message)

    def close_stream(self, session: int) -> CommandResult:
        """End the stream on purpose (the robot blends to rest and holds)."""
        return self._request({"kind": "stream_close", "session": session})

    def fault(self, session: int) -> CommandResult:
        """The stream faulted: hold now, damp after the supervisor's timeout."""
        return self._request({"kind": "stream_fault", "session": session})

    def estop(self, message_id: str) -> bool:
        """The producer's e-stop, at once. False when it could not be queued.

        ``message_id`` names this request: the daemon also sends it through ``ZmqControlLink``
        (which carries it across a control-process restart), and the copy engages only once.
        """
        message = pack({"kind": "estop", "source": EstopOrigin.PRODUCER.value,
                        "sent_ns": time.monotonic_ns(), "id": message_id})  # fmt: skip
        try:
            self._estop.send(message, zmq.NOBLOCK)
        except zmq.ZMQError:
            return False
        return True

    def _request(self, message: dict[str, Any]) -> CommandResult:
        command_id = next(self._ids)
        message["id"] = command_id
        self._commands.send(pack(message))
        deadline = time.monotonic() + self._timeout_s
        while (remaining := deadline - time.monotonic()) > 0:
            if not self._commands.poll(int(remaining * 1000) + 1, zmq.POLLIN):
                break
            try:
                ack = unpack(self._commands.recv())
            except WireError:
                continue
            if ack.get("id") == command_id:
                return CommandResult(bool(ack.get("accepted")), str(ack.get("reason", "")),
                                     str(ack.get("code") or ""))  # fmt: skip
        return CommandResult(False, "the control process did not answer in time", "no_answer")
