"""The SONIC stream SUB: pose and command topics on one socket, refusals returned, not logged.

Real: ZeroMQ PUB/SUB sockets on tcp 127.0.0.1 (free port) and ipc in tmp_path, the decoders.
Faked: the producer (the test publishes what a v1/v3 producer and SONIC's command sender send).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import zmq

from daemon.inputs.stream_config import StreamingConfig
from daemon.inputs.stream_messages import pack_command_message, pack_pose_message
from daemon.inputs.stream_subscriber import (
    Command,
    Pose,
    Received,
    Refused,
    StreamReceiver,
    fifo_permitted,
)
from daemon.inputs.stream_wire import StreamErrorCode
from tests.support.sonic_producer import v1_fields, v3_fields


def publish_until_received(
    pub: zmq.Socket[bytes], receiver: StreamReceiver, message: bytes, *, limit_s: float = 10
) -> Received:
    """Publish every 10 ms until the receiver has something: PUB/SUB loses messages until the
    SUB has joined."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        pub.send(message)
        if receiver.poll(10):
            return receiver.receive()
    raise TimeoutError("the receiver never received")


def scenario(endpoint_for: Callable[[zmq.Socket[bytes]], str]) -> None:
    ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    pub = ctx.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    receiver = StreamReceiver(config=StreamingConfig(endpoint=endpoint_for(pub)))
    receiver.open()
    try:
        before = time.monotonic_ns()
        pose = publish_until_received(pub, receiver, pack_pose_message(3, v3_fields(5)))
        assert isinstance(pose, Pose)
        assert pose.message.version == 3
        assert pose.message.n_frames == 5
        assert before <= pose.received_ns <= time.monotonic_ns()
        start = pack_command_message(start=True, stop=False, planner=False)
        command = publish_until_received(pub, receiver, start)
        assert isinstance(command, Command)
        assert command.command.start
        refused = publish_until_received(pub, receiver, b"pose" + b"\0" * 10)
        assert isinstance(refused, Refused)
        assert refused.error.code is StreamErrorCode.TRUNCATED
        again = publish_until_received(pub, receiver, pack_pose_message(1, v1_fields(2)))
        assert isinstance(again, Pose)
        assert again.message.version == 1
        assert (receiver.messages, receiver.commands, receiver.refused) == (2, 1, 1)
    finally:
        receiver.close()
        pub.close()
        ctx.term()


def test_pose_and_command_topics_over_tcp(caplog: pytest.LogCaptureFixture) -> None:
    def bind_tcp(pub: zmq.Socket[bytes]) -> str:
        port = pub.bind_to_random_port("tcp://127.0.0.1")
        return f"tcp://127.0.0.1:{port}"

    with caplog.at_level(logging.DEBUG):
        scenario(bind_tcp)
    assert not [r for r in caplog.records if "refused" in r.getMessage()], (
        "the receiver logs no refusals itself: daemon.inputs.stream_refusals does, once per cause"
    )


def test_pose_and_command_topics_over_ipc(tmp_path: Path) -> None:
    def bind_ipc(pub: zmq.Socket[bytes]) -> str:
        endpoint = f"ipc://{tmp_path}/pose.sock"
        pub.bind(endpoint)
        return endpoint

    scenario(bind_ipc)


def test_receiving_before_open_is_a_programming_error() -> None:
    receiver = StreamReceiver(config=StreamingConfig())
    assert not receiver.poll(0)
    with pytest.raises(RuntimeError, match="before open"):
        receiver.receive()


def test_a_priority_for_the_io_thread_is_set_only_where_permitted() -> None:
    """libzmq aborts the process when it may not set an I/O thread's policy: the receiver
    probes first, and opens either way."""
    receiver = StreamReceiver(config=StreamingConfig(), io_priority=1)
    receiver.open()
    try:
        assert not receiver.poll(0)
    finally:
        receiver.close()
    assert isinstance(fifo_permitted(1), bool)
