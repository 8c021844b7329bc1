"""The heartbeat thread: on time while the daemon is healthy, withheld while it is not.

Real: the thread, a ZeroMQ ROUTER on an ipc socket in tmp_path (as the control process binds
it), an asyncio event loop. Faked: the health check (a flag) and a stalled loop (a blocking
sleep inside a callback).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import zmq

from controller.ipc.wire import unpack
from daemon.control.heartbeat import HeartbeatThread


def count_beats(router: zmq.Socket[bytes], seconds: float) -> int:
    beats, end = 0, time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        if router.poll(int(left * 1000) + 1):
            _, payload = router.recv_multipart()
            assert unpack(payload)["kind"] == "heartbeat"
            beats += 1
    return beats


def test_beats_while_healthy_and_withholds_when_unhealthy_or_the_loop_stalls(
    tmp_path: Path,
) -> None:
    ctx = zmq.Context.instance()
    router = ctx.socket(zmq.ROUTER)
    address = f"ipc://{tmp_path / 'commands'}"
    router.bind(address)
    healthy = [True]

    async def body() -> None:
        heart = HeartbeatThread(
            endpoint=address,
            loop=asyncio.get_running_loop(),
            is_healthy=lambda: healthy[0],
            period_s=0.02,
            max_loop_stall_s=0.2,
        )
        heart.start()
        try:
            assert await asyncio.to_thread(count_beats, router, 0.3) >= 3
            healthy[0] = False
            await asyncio.to_thread(count_beats, router, 0.1)  # drain what was in flight
            assert await asyncio.to_thread(count_beats, router, 0.3) == 0
            assert "task is down" in heart.withheld_reason
            healthy[0] = True
            assert await asyncio.to_thread(count_beats, router, 0.3) >= 3
            # A blocked event loop: no heartbeat while it is blocked (the thread sees it).
            time.sleep(0.5)  # noqa: ASYNC251 - the point: block the loop
            assert "event loop" in heart.withheld_reason
        finally:
            heart.stop()

    try:
        asyncio.run(body())
    finally:
        router.close(0)
