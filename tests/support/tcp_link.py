"""A TCP link that a test can cut: a loopback relay between a client and a server (the robot
and the fleet broker), in a thread of its own so in-process and subprocess clients can use it.

``cut()`` is a network partition as MQTT sees it: nothing passes in either direction any more,
yet no connection is closed (no FIN, no RST), so each side learns of the loss only from its own
keepalive; connection attempts meanwhile are accepted and then get no answer (as a SYN into a
dead link gets none). ``restore()`` lets new connections through again and drops the ones that
were held during the cut (their peer has long given them up).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Iterator

from tests.support.mosquitto import HOST, free_port

_CHUNK = 65536


class LinkProxy:
    """Relays ``listen_port`` on loopback to ``upstream_port``.

    Args:
        upstream_port: Where the server listens (on loopback).
        listen_port: The port clients connect to; default a free one.
    """

    def __init__(self, *, upstream_port: int, listen_port: int | None = None) -> None:
        self.upstream_port = upstream_port
        self.port = listen_port or free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="link-proxy")
        self._server: asyncio.base_events.Server | None = None
        self._is_cut = False
        self._held: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.connections = 0
        """Connections accepted (the robot's reconnects show here)."""

    @property
    def is_cut(self) -> bool:
        return self._is_cut

    def start(self) -> None:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        future.result(5.0)

    def cut(self) -> None:
        """Partition the link (see the module docstring)."""
        self._is_cut = True

    def restore(self) -> None:
        """Heal it: held connections are dropped, new ones pass."""
        self._is_cut = False
        asyncio.run_coroutine_threadsafe(self._drop_held(), self._loop).result(5.0)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(5.0)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5.0)
        self._loop.close()

    # ------------------------------------------------------------------ internals
    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._accept, HOST, self.port)

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        await self._drop_held()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _drop_held(self) -> None:
        held, self._held = self._held, set()
        for writer in held:
            _reset(writer)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self._is_cut:
            self._held.add(writer)
            await _discard(reader)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(HOST, self.upstream_port)
        except OSError:
            _reset(writer)
            return
        self._held.update((writer, up_writer))
        pumps = [
            asyncio.ensure_future(self._pump(reader, up_writer)),
            asyncio.ensure_future(self._pump(up_reader, writer)),
        ]
        self._tasks.update(pumps)
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for pump in pumps:
            pump.cancel()
            self._tasks.discard(pump)
        for side in (writer, up_writer):
            if side in self._held:
                self._held.discard(side)
                side.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):  # a side was reset: the other one follows
            while True:
                data = await reader.read(_CHUNK)
                if not data:
                    return
                if self._is_cut:
                    continue  # lost in the partition
                writer.write(data)
                await writer.drain()


async def _discard(reader: asyncio.StreamReader) -> None:
    with contextlib.suppress(OSError, asyncio.CancelledError):
        while await reader.read(_CHUNK):
            pass


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0): the peer's side is gone."""
    sock = writer.get_extra_info("socket")
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.close()


@contextlib.contextmanager
def link_proxy(upstream_port: int) -> Iterator[LinkProxy]:
    proxy = LinkProxy(upstream_port=upstream_port)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
