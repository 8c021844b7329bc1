"""systemd's notify protocol (``sd_notify(3)``), standard library only, plus the watchdog pinger.

A datagram of ``KEY=VALUE`` lines to the ``AF_UNIX``/``SOCK_DGRAM`` socket named by
``$NOTIFY_SOCKET`` (a leading ``@`` means Linux's abstract namespace). Without
``NOTIFY_SOCKET`` (not under systemd, or ``Type=`` is not ``notify``) every call is a no-op, so
the daemon calls it unconditionally. The unit uses ``NotifyAccess=main``: only the daemon's
main process may notify; the control process is a child and never calls this.

The watchdog (``WatchdogSec=`` -> ``$WATCHDOG_USEC``) is pinged at half its interval, as
``sd_watchdog_enabled(3)`` recommends, and only while ``is_healthy()`` says the control loop is
making progress: an event loop that is alive while the control loop is stuck must not keep the
service "healthy". A failed send is logged once and never raised: systemd's bookkeeping must
not take the robot down.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Mapping
from types import TracebackType

_LOG = logging.getLogger(__name__)


def _always_healthy() -> bool:
    return True


def _one_line(text: str) -> str:
    return " ".join(text.splitlines())


class SdNotifier:
    """Sends READY / STATUS / WATCHDOG / STOPPING to systemd (async context manager)."""

    def __init__(
        self,
        *,
        notify_socket: str | None,
        watchdog_usec: int | None = None,
        is_healthy: Callable[[], bool] = _always_healthy,
    ) -> None:
        """Args:
        notify_socket: ``$NOTIFY_SOCKET`` (a path, or ``@name`` for the abstract namespace);
            None disables notifications.
        watchdog_usec: ``$WATCHDOG_USEC``; None or 0 disables the watchdog pinger.
        is_healthy: whether the control loop has made progress recently (the daemon checks the
            control process's tick counter and state age); pings stop while it is False.
        """
        self._address = self._parse_address(notify_socket)
        self._watchdog_usec = watchdog_usec if watchdog_usec and watchdog_usec > 0 else None
        self._is_healthy = is_healthy
        self._task: asyncio.Task[None] | None = None
        self._has_warned = False
        self.sent: int = 0
        """Datagrams sent (for tests and the status command)."""

    @classmethod
    def from_environment(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        is_healthy: Callable[[], bool] = _always_healthy,
    ) -> SdNotifier:
        """Build from ``NOTIFY_SOCKET``, ``WATCHDOG_USEC`` and ``WATCHDOG_PID``.

        The watchdog is enabled only when ``WATCHDOG_PID`` is unset or this process's pid, as
        ``sd_watchdog_enabled(3)`` does (a child that inherited the variables must not ping).
        """
        env = os.environ if environ is None else environ
        usec: int | None = None
        raw_usec, raw_pid = env.get("WATCHDOG_USEC"), env.get("WATCHDOG_PID")
        if raw_usec and raw_usec.isdigit():
            usec = int(raw_usec)
            if raw_pid and (not raw_pid.isdigit() or int(raw_pid) != os.getpid()):
                usec = None
        return cls(
            notify_socket=env.get("NOTIFY_SOCKET") or None,
            watchdog_usec=usec,
            is_healthy=is_healthy,
        )

    @staticmethod
    def _parse_address(notify_socket: str | None) -> str | None:
        if not notify_socket:
            return None
        if notify_socket.startswith("@"):
            return "\0" + notify_socket[1:]
        if notify_socket.startswith("/"):
            return notify_socket
        # systemd >= 254 also speaks vsock (``vsock:CID:PORT``), for VMs; not for a robot.
        _LOG.warning("NOTIFY_SOCKET %r is not a unix socket; notifications are off", notify_socket)
        return None

    @property
    def is_enabled(self) -> bool:
        return self._address is not None

    @property
    def watchdog_timeout_s(self) -> float | None:
        """systemd's watchdog timeout, or None when the watchdog is off."""
        return None if self._watchdog_usec is None else self._watchdog_usec / 1e6

    @property
    def watchdog_interval_s(self) -> float | None:
        """How often the pinger pings: half the timeout."""
        timeout = self.watchdog_timeout_s
        return None if timeout is None else timeout / 2.0

    # ------------------------------------------------------------------ notifications

    def notify(self, *assignments: str) -> bool:
        """Send ``KEY=VALUE`` lines in one datagram. Returns whether it was sent."""
        if self._address is None or not assignments:
            return False
        # A socket per message, as libsystemd does: nothing to keep open or to leak, and the
        # cost (a few microseconds) is nothing at one ping per second.
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                # A datagram socket can block when the receiver's queue is full; drop instead.
                sock.setblocking(False)
                sock.sendto("\n".join(assignments).encode(), self._address)
        except OSError as exc:
            if not self._has_warned:
                _LOG.warning("sd_notify to %r failed: %s", self._address, exc)
                self._has_warned = True
            return False
        self.sent += 1
        return True

    def ready(self, status: str | None = None) -> bool:
        """``READY=1`` (with a status line): the control process runs and state is fresh."""
        return self.notify("READY=1", *self._status(status))

    def status(self, text: str) -> bool:
        """``STATUS=...``, shown by ``systemctl status`` (mode and package)."""
        return self.notify(*self._status(text))

    def watchdog(self) -> bool:
        """``WATCHDOG=1``: one ping. Prefer the pinger task, which checks ``is_healthy``."""
        return self.notify("WATCHDOG=1")

    def stopping(self, status: str | None = None) -> bool:
        """``STOPPING=1`` at the start of an orderly shutdown."""
        return self.notify("STOPPING=1", *self._status(status))

    def extend_timeout(self, seconds: float) -> bool:
        """``EXTEND_TIMEOUT_USEC``: more start/stop time (e.g. a first TensorRT engine build)."""
        return self.notify(f"EXTEND_TIMEOUT_USEC={max(0, round(seconds * 1e6))}")

    @staticmethod
    def _status(text: str | None) -> tuple[str, ...]:
        return () if text is None else (f"STATUS={_one_line(text)}",)

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> SdNotifier:
        interval = self.watchdog_interval_s
        if self.is_enabled and interval is not None:
            self._task = asyncio.create_task(self._ping(interval), name="sd-watchdog")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait([task])

    async def _ping(self, interval_s: float) -> None:
        was_healthy = True
        while True:
            healthy = self._is_healthy()
            if healthy:
                self.watchdog()
            elif was_healthy:
                _LOG.error(
                    "control loop not progressing: watchdog pings stopped",
                    extra={"CAUSE": "watchdog"},
                )
            was_healthy = healthy
            await asyncio.sleep(interval_s)
