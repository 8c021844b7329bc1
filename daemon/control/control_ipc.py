"""``ControlLink`` over ZeroMQ ``ipc://`` to a supervised control process.

``ControlProcess`` spawns ``controller.process`` (a fresh interpreter, ``spawn`` start method:
nothing of the daemon's asyncio state is inherited), restarts it when it dies, with backoff,
and counts restarts. ``ZmqControlLink`` is the async client: an e-stop goes out on its own
(synchronous) socket the moment it is asked for; commands wait for the control process's
acknowledgement; heartbeats go out every ``heartbeat_period_s`` from a thread of their own
(``daemon.control.heartbeat``: never starved by a busy event loop, withheld when the loop stalls or
a health check fails) so the control process can hold, then damp, if the daemon is unwell. A
latched e-stop survives a restart because the latch lives in a file, and one that is not on
disk yet is carried over by the daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import pickle
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Any

import zmq
import zmq.asyncio

from controller.estop_latch import EstopOrigin, ResetRequester
from controller.ipc import COMMAND_SOCKET, ESTOP_SOCKET, STATUS_SOCKET, endpoint
from controller.ipc.wire import WireError, encode_track, pack, unpack
from controller.process.main import ControlProcessSettings
from controller.safety import SupervisorStart
from daemon.control.control_link import (
    CommandKind,
    CommandResult,
    ControlStatus,
    ModeEvent,
    TimingFigures,
)
from daemon.control.heartbeat import HeartbeatThread
from daemon.system.aio import wait_future
from estimators.track import ReferenceTrack

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LinkConfig:
    heartbeat_period_s: float = 0.1
    command_timeout_s: float = 5.0
    status_stale_s: float = 1.0
    """No status for this long means the control process is not alive (for READY/watchdog)."""
    restart_backoff_s: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0)


class ControlProcess:
    """Starts ``python -m controller.process`` and restarts it when it dies."""

    def __init__(self, settings: ControlProcessSettings, config: LinkConfig) -> None:
        self._settings = settings
        self._config = config
        self._process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._is_stopping = False
        self._carried_estop: EstopOrigin | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def is_alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        run_dir = Path(self._settings.run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        settings_file = run_dir / "control-settings.pickle"
        start = SupervisorStart(is_restart=self.restarts > 0, carried_estop=self._carried_estop)
        settings = replace(self._settings, parent_pid=os.getpid(), start=start)
        fd = os.open(settings_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            pickle.dump(settings, f)
        env = dict(os.environ)
        # numpy's BLAS worker threads are not real-time: none in the control process.
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = "1"
        env.pop("NOTIFY_SOCKET", None)  # only the daemon talks to systemd
        self._process = subprocess.Popen(
            [sys.executable, "-m", "controller.process", str(settings_file)], env=env
        )
        log.info("control process started (pid %s)", self._process.pid)
        if start.carried_estop is not None:
            log.critical("the e-stop (%s) was not on disk when the control process died: "
                         "the new one starts in ESTOP", start.carried_estop.value)  # fmt: skip
        elif start.is_restart:
            log.error("control process restarted: it starts damped; enable to continue")

    def carry_estop(self, origin: EstopOrigin) -> None:
        """An e-stop was sent: until the control process reports it durable, a restart
        starts in ESTOP (the daemon's memory backs a latch that may not be on disk yet)."""
        if self._carried_estop is None:
            self._carried_estop = origin

    def note_status(self, status: ControlStatus) -> None:
        """Follow the latch: an e-stop on disk needs no carrying; one not on disk does."""
        if status.is_estopped and status.is_latch_durable:
            self._carried_estop = None
        elif status.is_estopped:
            self._carried_estop = self._carried_estop or _origin_of(status)

    def note_reset(self) -> None:
        """A reset was accepted: the e-stop is cleared (and its release is on disk)."""
        self._carried_estop = None

    async def supervise(self) -> None:
        """Restart the control process whenever it dies (until ``stop``)."""
        delays = self._config.restart_backoff_s
        attempt = 0
        while not self._is_stopping:
            await asyncio.sleep(0.05)
            if self._is_stopping or self.is_alive():
                continue
            code = self._process.returncode if self._process is not None else None
            delay = delays[min(attempt, len(delays) - 1)]
            attempt += 1
            log.error("control process died (exit code %s); restarting in %.1f s", code, delay)
            await asyncio.sleep(delay)
            if not self._is_stopping:
                self.restarts += 1
                self.start()

    def kill(self) -> None:
        """For fault tests: kill the control process without a word."""
        if self._process is not None:
            self._process.kill()

    async def stop(self, timeout_s: float) -> None:
        """Wait for an orderly exit (after a shutdown command), then terminate."""
        self._is_stopping = True
        process = self._process
        if process is None:
            return
        try:
            await asyncio.to_thread(process.wait, timeout_s)
        except subprocess.TimeoutExpired:
            log.error("control process did not stop in %.1f s; terminating", timeout_s)
            process.terminate()
            await asyncio.to_thread(process.wait, 1.0)


class ZmqControlLink:
    """The daemon's ``ControlLink`` to a ``ControlProcess``; an async context manager."""

    def __init__(self, *, process: ControlProcess, run_dir: str, config: LinkConfig) -> None:
        self._process = process
        self._run_dir = run_dir
        self._config = config
        self._ctx = zmq.asyncio.Context()
        self._sync_ctx = zmq.Context()
        self._estop: Any = None
        self._commands: Any = None
        self._status_sub: Any = None
        self._pending: dict[int, asyncio.Future[CommandResult]] = {}
        self._ids = itertools.count(1)
        self._status = ControlStatus(is_alive=False)
        self._status_at = 0.0
        self._status_pid: int | None = None
        self._subscribers: list[asyncio.Queue[ModeEvent]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._command_lock = asyncio.Lock()
        self._health_checks: list[Callable[[], bool]] = []
        self._heartbeat: HeartbeatThread | None = None
        self.last_estop_written_ns = 0

    def add_health_check(self, check: Callable[[], bool]) -> None:
        """While any check is False the heartbeat is withheld (the robot holds, then damps).

        Checks run on the heartbeat thread: they must only read state."""
        self._health_checks.append(check)

    def _is_healthy(self) -> bool:
        return all(check() for check in self._health_checks)

    async def __aenter__(self) -> ZmqControlLink:
        self._connect()
        self._tasks = [
            asyncio.create_task(self._read_status(), name="control-status"),
            asyncio.create_task(self._read_acks(), name="control-acks"),
        ]
        self._heartbeat = HeartbeatThread(
            endpoint=endpoint(self._run_dir, COMMAND_SOCKET),
            loop=asyncio.get_running_loop(),
            is_healthy=self._is_healthy,
            period_s=self._config.heartbeat_period_s,
        )
        self._heartbeat.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._heartbeat is not None:
            await asyncio.to_thread(self._heartbeat.stop)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for socket in (self._estop, self._commands, self._status_sub):
            if socket is not None:
                socket.close(linger=0)
        self._ctx.term()
        self._sync_ctx.term()

    def _connect(self) -> None:
        def socket(kind: int, name: str) -> Any:
            s = self._ctx.socket(kind)
            s.setsockopt(zmq.LINGER, 0)
            s.connect(endpoint(self._run_dir, name))
            return s

        # A plain (synchronous) socket: the e-stop is sent from inside a message callback,
        # at once, without a trip through the event loop.
        self._estop = self._sync_ctx.socket(zmq.PUSH)
        self._estop.setsockopt(zmq.LINGER, 0)
        self._estop.setsockopt(zmq.SNDHWM, 16)
        self._estop.connect(endpoint(self._run_dir, ESTOP_SOCKET))
        self._commands = socket(zmq.DEALER, COMMAND_SOCKET)
        self._status_sub = socket(zmq.SUB, STATUS_SOCKET)
        self._status_sub.setsockopt(zmq.SUBSCRIBE, b"")

    # ------------------------------------------------------------------ ControlLink
    async def estop(self, origin: EstopOrigin) -> None:
        self.estop_now(origin)

    def estop_now(self, origin: EstopOrigin, message_id: str = "") -> bool:
        """Send the e-stop without awaiting anything (the fleet's fast lane calls this from a
        message callback). False when the socket refused it (queue full: the control process
        is not reading; it is then either dead and restarts in ESTOP, or already stopping)."""
        self._process.carry_estop(origin)
        # The send time orders it against a reset already queued on the command socket.
        fields = {"kind": "estop", "source": origin.value, "sent_ns": time.monotonic_ns()}
        if message_id:
            fields["id"] = message_id
        message = pack(fields)
        try:
            self._estop.send(message, zmq.NOBLOCK)
        except zmq.ZMQError as exc:
            log.critical("e-stop could not be queued to the control process: %s", exc)
            return False
        return True

    async def command(
        self,
        kind: CommandKind,
        *,
        start_frame: int = 0,
        requester: ResetRequester = ResetRequester.FLEET,
    ) -> CommandResult:
        message: dict[str, Any] = {"kind": kind.value, "sent_ns": time.monotonic_ns()}
        if kind is CommandKind.START_TRACK:
            message["start_frame"] = start_frame
        if kind is CommandKind.RESET_ESTOP:
            message["requester"] = requester.value
        result = await self._request(message)
        if kind is CommandKind.RESET_ESTOP and result.accepted:
            self._process.note_reset()
        return result

    async def load_track(self, package_id: str, track: ReferenceTrack) -> CommandResult:
        encoded = await asyncio.to_thread(encode_track, track)
        return await self._request({"kind": "load_track", "track": encoded})

    async def shutdown(self) -> CommandResult:
        return await self._request({"kind": "shutdown"})

    def status(self) -> ControlStatus:
        # A snapshot from a predecessor (restarted since) says nothing about the new process.
        alive = (
            self._process.is_alive()
            and self._status_pid == self._process.pid
            and time.monotonic() - self._status_at < self._config.status_stale_s
        )
        if alive != self._status.is_alive or self._status.restarts != self._process.restarts:
            self._status = replace(self._status, is_alive=alive, restarts=self._process.restarts)
        return self._status

    async def events(self) -> AsyncIterator[ModeEvent]:
        queue: asyncio.Queue[ModeEvent] = asyncio.Queue(maxsize=1000)
        self._subscribers.append(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers.remove(queue)

    # ------------------------------------------------------------------ internals
    async def _request(self, message: dict[str, Any]) -> CommandResult:
        command_id = next(self._ids)
        message["id"] = command_id
        future: asyncio.Future[CommandResult] = asyncio.get_running_loop().create_future()
        self._pending[command_id] = future
        try:
            await self._commands.send(pack(message))
            # not wait_for: it can swallow a cancellation on 3.10/3.11 (CPython gh-86296)
            result = await wait_future(future, self._config.command_timeout_s)
        finally:
            self._pending.pop(command_id, None)
        if result is None:
            future.cancel()
            return CommandResult(False, "the control process did not answer in time")
        return result

    async def _read_acks(self) -> None:
        while True:
            data = await self._commands.recv()
            try:
                ack = unpack(data)
            except WireError:
                log.error("undecodable answer from the control process")
                continue
            future = self._pending.get(ack.get("id"))  # type: ignore[arg-type]
            if future is not None and not future.done():
                future.set_result(
                    CommandResult(
                        bool(ack.get("accepted")),
                        str(ack.get("reason", "")),
                        str(ack.get("code") or ""),
                    )
                )

    async def _read_status(self) -> None:
        while True:
            data = await self._status_sub.recv()
            try:
                message = unpack(data)
            except WireError:
                continue
            self._status_at = time.monotonic()
            self._status_pid = message.get("pid", self._process.pid)
            if message["kind"] == "event":
                self.last_estop_written_ns = int(message.get("estop_written_ns", 0))
                event = ModeEvent(
                    int(message["tick"]),
                    str(message["mode"]),
                    str(message["cause"]),
                    int(message.get("detail", -1)),
                )
                for queue in self._subscribers:
                    if not queue.full():
                        queue.put_nowait(event)
            elif message["kind"] == "status":
                self.last_estop_written_ns = int(message.get("estop_written_ns", 0))
                self._status = _status_from(message, self._process.restarts)
                self._process.note_status(self._status)


def _status_from(message: dict[str, Any], restarts: int) -> ControlStatus:
    timing = message.get("timing") or {}
    return ControlStatus(
        is_alive=True,
        mode=str(message["mode"]),
        last_cause=str(message["last_cause"]),
        is_estopped=bool(message["is_estopped"]),
        loaded_package=message.get("loaded_package"),
        track_frame=int(message["track_frame"]),
        track_frames=int(message["track_frames"]),
        is_paused=bool(message["is_paused"]),
        ticks=int(message["ticks"]),
        state_age_ms=float(message["state_age_ms"]),
        timing=TimingFigures(**timing) if timing else TimingFigures(),
        tracking_rms_rad=float(message.get("tracking_rms_rad", 0.0)),
        restarts=restarts,
        estop_origin=str(message.get("estop_origin", "")),
        is_latch_durable=bool(message.get("is_latch_durable", True)),
        latch_error=str(message.get("latch_error", "")),
        robot=dict(message.get("robot") or {}),
        stream=dict(message.get("stream") or {}),
    )


def _origin_of(status: ControlStatus) -> EstopOrigin:
    try:
        return EstopOrigin(status.estop_origin)
    except ValueError:
        return EstopOrigin.UNKNOWN
