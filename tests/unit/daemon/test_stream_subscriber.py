"""The SONIC stream SUB: pose and command topics on one socket, refusals handed on, not logged.

Real: ZeroMQ PUB/SUB sockets on tcp 127.0.0.1 (free port) and ipc in tmp_path, the decoders.
Faked: the producer (the test publishes what a v1/v3 producer and SONIC's command sender send).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
import zmq
import zmq.asyncio

from daemon.stream_config import StreamingConfig
from daemon.stream_messages import (
    PoseMessage,
    ProducerCommand,
    pack_command_message,
    pack_pose_message,
)
from daemon.stream_subscriber import StreamSubscriber
from daemon.stream_wire import StreamDecodeError, StreamErrorCode
from tests.support.sonic_producer import publish_until, v1_fields, v3_fields

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(coro, timeout=20))


def scenario(endpoint_for: Callable[[zmq.asyncio.Socket], str]) -> None:
    poses: list[tuple[PoseMessage, int]] = []
    commands: list[ProducerCommand] = []
    errors: list[StreamDecodeError] = []

    async def body() -> None:
        ctx = zmq.asyncio.Context()
        pub = ctx.socket(zmq.PUB)
        pub.setsockopt(zmq.LINGER, 0)
        try:
            config = StreamingConfig(endpoint=endpoint_for(pub))
            async with StreamSubscriber(
                config=config,
                on_pose=lambda m, t: poses.append((m, t)),
                on_command=commands.append,
                on_refusal=errors.append,
                context=ctx,
            ) as sub:
                before = time.monotonic_ns()
                await publish_until(pub, pack_pose_message(3, v3_fields(5)), lambda: bool(poses))
                message, received_ns = poses[0]
                assert message.version == 3
                assert message.n_frames == 5
                assert before <= received_ns <= time.monotonic_ns()
                start = pack_command_message(start=True, stop=False, planner=False)
                await publish_until(pub, start, lambda: bool(commands))
                assert commands[0] == ProducerCommand(start=True, stop=False, planner=False)
                # A bad message is handed on as a refusal; the stream goes on.
                await publish_until(pub, b"pose" + b"\0" * 10, lambda: bool(errors))
                assert errors[0].code is StreamErrorCode.TRUNCATED
                count = len(poses)
                await publish_until(
                    pub, pack_pose_message(1, v1_fields(2)), lambda: len(poses) > count
                )
                assert poses[-1][0].version == 1
                assert sub.refused >= 1
                assert sub.commands >= 1
        finally:
            pub.close()
            ctx.term()

    run(body())


def test_pose_and_command_topics_over_tcp(caplog: pytest.LogCaptureFixture) -> None:
    def bind_tcp(pub: zmq.asyncio.Socket) -> str:
        port = pub.bind_to_random_port("tcp://127.0.0.1")
        return f"tcp://127.0.0.1:{port}"

    with caplog.at_level(logging.DEBUG):
        scenario(bind_tcp)
    assert not [r for r in caplog.records if "refused" in r.getMessage()], (
        "the subscriber logs no refusals itself: daemon.stream_refusals does, once per cause"
    )


def test_pose_and_command_topics_over_ipc(tmp_path: Path) -> None:
    def bind_ipc(pub: zmq.asyncio.Socket) -> str:
        endpoint = f"ipc://{tmp_path}/pose.sock"
        pub.bind(endpoint)
        return endpoint

    scenario(bind_ipc)


def test_an_exception_in_the_callback_surfaces_on_exit() -> None:
    def explode(message: PoseMessage, received_ns: int) -> None:
        raise RuntimeError("consumer bug")

    async def body() -> None:
        ctx = zmq.asyncio.Context()
        pub = ctx.socket(zmq.PUB)
        pub.setsockopt(zmq.LINGER, 0)
        try:
            port = pub.bind_to_random_port("tcp://127.0.0.1")
            config = StreamingConfig(endpoint=f"tcp://127.0.0.1:{port}")
            async with StreamSubscriber(
                config=config,
                on_pose=explode,
                on_command=lambda _: None,
                on_refusal=lambda _: None,
                context=ctx,
            ) as sub:
                await publish_until(
                    pub, pack_pose_message(1, v1_fields()), lambda: sub.messages > 0
                )
        finally:
            pub.close()
            ctx.term()

    with pytest.raises(RuntimeError, match="consumer bug"):
        run(body())
