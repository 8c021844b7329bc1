"""The daemon's side of the e-stop relay (``daemon.fleet.estop_relay``): start it, keep it running,
and hand what it relayed to the fleet service for reporting.

The relay engages the e-stop by itself; the daemon only reports (action states on the fleet's
state topic). A dead relay is restarted with backoff; until it runs again ``is_healthy`` is
False, and the daemon withholds the control process's heartbeat (the robot holds): the most
robust path to a stop is down, so nothing moves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any

import zmq
import zmq.asyncio

from daemon.fleet.estop_relay import RelaySettings
from daemon.fleet.mqtt_inbox import Incoming

log = logging.getLogger(__name__)

REPORT_SOCKET = "estop-relay-report"
_RESTART_BACKOFF_S = (0.2, 0.5, 1.0, 2.0)


def report_endpoint(run_dir: Path) -> str:
    return f"ipc://{run_dir / REPORT_SOCKET}"


class EstopRelayProcess:
    """Runs ``python -m daemon.fleet.estop_relay`` as a supervised child; an async context manager.

    Args:
        settings: What the relay connects to (``parent_pid`` is filled in here).
        run_dir: Where its settings file and the report socket live.
    """

    def __init__(self, *, settings: RelaySettings, run_dir: Path) -> None:
        self._settings = settings
        self._run_dir = run_dir
        self._ctx = zmq.asyncio.Context()
        self._reports: Any = None
        self._process: subprocess.Popen[bytes] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._is_stopping = False
        self.restarts = 0

    async def __aenter__(self) -> EstopRelayProcess:
        self._run_dir.mkdir(parents=True, exist_ok=True)
        self._reports = self._ctx.socket(zmq.PULL)
        self._reports.setsockopt(zmq.LINGER, 0)
        self._reports.setsockopt(zmq.RCVHWM, 64)
        socket_path = self._run_dir / REPORT_SOCKET
        socket_path.unlink(missing_ok=True)  # left by a crashed predecessor
        self._reports.bind(report_endpoint(self._run_dir))
        self._start()
        self._supervisor = asyncio.create_task(self._supervise(), name="estop-relay-supervisor")
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._is_stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                await asyncio.to_thread(process.wait, 2.0)
            except subprocess.TimeoutExpired:
                process.kill()
        if self._reports is not None:
            self._reports.close(linger=0)
        self._ctx.term()

    def is_healthy(self) -> bool:
        """True while the relay process runs (readable from another thread)."""
        process = self._process
        return process is not None and process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def reports(self) -> AsyncIterator[Incoming]:
        """What the relay received (it has already sent the e-stop for each)."""
        while True:
            frames = await self._reports.recv_multipart()
            if len(frames) != 4:
                continue
            topic, payload, retained, size = frames
            try:
                size_bytes = int(size)
            except ValueError:
                size_bytes = len(payload)
            yield Incoming(
                topic.decode(errors="replace"),
                bytes(payload),
                retained == b"1",
                size_bytes=size_bytes,
                is_urgent=True,
            )

    def _start(self) -> None:
        settings = replace(self._settings, parent_pid=os.getpid())
        settings_file = self._run_dir / "estop-relay-settings.pickle"
        fd = os.open(settings_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            pickle.dump(settings, f)
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)  # only the daemon talks to systemd
        self._process = subprocess.Popen(
            [sys.executable, "-m", "daemon.fleet.estop_relay", str(settings_file)], env=env
        )
        log.info("e-stop relay started (pid %s) on %s", self._process.pid, settings.topic)

    async def _supervise(self) -> None:
        attempt = 0
        while not self._is_stopping:
            await asyncio.sleep(0.05)
            process = self._process
            if process is None or process.poll() is None:
                continue
            delay = _RESTART_BACKOFF_S[min(attempt, len(_RESTART_BACKOFF_S) - 1)]
            attempt += 1
            log.critical(
                "e-stop relay died (exit code %s); restarting in %.1f s (the robot holds)",
                process.returncode,
                delay,
            )
            await asyncio.sleep(delay)
            if not self._is_stopping:
                self.restarts += 1
                self._start()
