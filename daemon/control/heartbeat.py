"""The daemon's heartbeat to the control process, sent from a thread of its own.

The control process holds, then damps, when the heartbeat stops (``heartbeat_timeout_s``).
Sent from the event loop, a heartbeat would starve behind a flood of messages while the daemon
is in fact healthy; sent from a thread, it goes out on time whatever the loop is doing. It is
*withheld* on purpose when the daemon is not healthy:

- the event loop has not run a callback for ``max_loop_stall_s`` (a blocking call, a hang);
- a critical task is down (``is_healthy`` False: e.g. the fleet's message reader died and is
  being restarted, so e-stops might be ignored meanwhile).

Each change between sending and withholding is logged once, with the reason.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import zmq

from controller.ipc.wire import pack

log = logging.getLogger(__name__)


class HeartbeatThread:
    """Sends ``{"kind": "heartbeat"}`` to the control process's command socket.

    Args:
        endpoint: The control process's command socket (ZeroMQ ROUTER).
        loop: The daemon's event loop, whose liveness gates the heartbeat.
        is_healthy: Extra gate, read from this thread (must only read state).
        period_s: Time between heartbeats.
        max_loop_stall_s: An event loop silent for longer than this withholds the heartbeat.
    """

    def __init__(
        self,
        *,
        endpoint: str,
        loop: asyncio.AbstractEventLoop,
        is_healthy: Callable[[], bool] = lambda: True,
        period_s: float = 0.1,
        max_loop_stall_s: float = 1.0,
    ) -> None:
        self._endpoint = endpoint
        self._loop = loop
        self._is_healthy = is_healthy
        self._period_s = period_s
        self._max_stall_s = max_loop_stall_s
        self._loop_seen_at = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent = 0
        self.withheld = 0
        self.withheld_reason = ""

    def start(self) -> None:
        self._loop_seen_at = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="control-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None

    def _run(self) -> None:
        ctx: zmq.Context[Any] = zmq.Context.instance()
        socket = ctx.socket(zmq.DEALER)
        socket.setsockopt(zmq.LINGER, 0)
        socket.setsockopt(zmq.SNDHWM, 4)  # a dead control process must not pile them up
        socket.connect(self._endpoint)
        beat = pack({"kind": "heartbeat"})
        try:
            while not self._stop.wait(self._period_s):
                reason = self._reason_to_withhold()
                self._report(reason)
                if reason:
                    self.withheld += 1
                    continue
                try:
                    socket.send(beat, zmq.NOBLOCK)
                    self.sent += 1
                except zmq.Again:
                    pass  # the control process is not reading (restarting): nothing to do
        finally:
            socket.close(linger=0)

    def _reason_to_withhold(self) -> str:
        try:
            self._loop.call_soon_threadsafe(self._mark_loop_alive)
        except RuntimeError:
            return "the event loop is closed"
        stall_s = time.monotonic() - self._loop_seen_at
        if stall_s > self._max_stall_s:
            return f"the event loop has not run for {stall_s:.1f} s"
        if not self._is_healthy():
            return "a critical daemon task is down"
        return ""

    def _mark_loop_alive(self) -> None:
        self._loop_seen_at = time.monotonic()

    def _report(self, reason: str) -> None:
        if reason == self.withheld_reason:
            return
        if reason:
            log.critical("heartbeat to the control process withheld: %s (it holds)", reason)
        else:
            log.warning("heartbeat to the control process resumed")
        self.withheld_reason = reason
