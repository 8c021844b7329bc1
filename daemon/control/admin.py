"""The daemon's local admin socket: ``exoactor-edge status | estop | reset`` on the robot.

A ZeroMQ REP socket on ``ipc://<run_dir>/admin.sock`` (file permissions keep it local to the
service user and root). Requests and answers are small JSON objects. The e-stop is forwarded to
the control process before anything else is done with the request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from types import TracebackType
from typing import Any

import zmq
import zmq.asyncio

from controller.estop_latch import EstopOrigin, ResetRequester
from daemon.control.control_link import CommandKind, ControlLink
from daemon.generation.activation import PackageActivator, answer_load_motion

log = logging.getLogger(__name__)

ADMIN_SOCKET = "admin.sock"


class AdminServer:
    """Answers local requests: status, estop, reset, enable, damp, load_motion."""

    def __init__(
        self,
        *,
        run_dir: Path,
        link: ControlLink,
        extra_status: Callable[[], dict[str, Any]] | None = None,
        activator: PackageActivator | None = None,
    ) -> None:
        self._path = run_dir / ADMIN_SOCKET
        self._link = link
        self._activator = activator
        self._extra_status = extra_status
        self._ctx = zmq.asyncio.Context.instance()
        self._socket: Any = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> AdminServer:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._path.unlink(missing_ok=True)
        self._socket = self._ctx.socket(zmq.REP)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.bind(f"ipc://{self._path}")
        self._path.chmod(0o660)
        self._task = asyncio.create_task(self._serve(), name="admin-socket")
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._socket is not None:
            self._socket.close(linger=0)
        self._path.unlink(missing_ok=True)

    async def _serve(self) -> None:
        while True:
            raw = await self._socket.recv()
            try:
                request = json.loads(raw)
                command = request["command"] if isinstance(request, dict) else None
            except (ValueError, KeyError):
                request, command = {}, None
            if command == "load_motion" and self._activator is not None:
                answer = await answer_load_motion(request, self._activator)
            else:
                answer = await self._answer(command)
            await self._socket.send(json.dumps(answer).encode())

    async def _answer(self, command: Any) -> dict[str, Any]:
        if command == "estop":
            await self._link.estop(EstopOrigin.LOCAL)
            return {"ok": True}
        kinds = {"reset": CommandKind.RESET_ESTOP, "enable": CommandKind.ENABLE,
                 "damp": CommandKind.DAMP}  # fmt: skip
        if command in kinds:
            # The admin socket is the robot side (a local socket, its directory's permissions).
            result = await self._link.command(kinds[command], requester=ResetRequester.ROBOT)
            return {"ok": result.accepted, "reason": result.reason}
        if command == "status":
            status = asdict(self._link.status())
            if self._extra_status is not None:
                status.update(self._extra_status())
            return {"ok": True, "status": status}
        return {"ok": False, "reason": f"unknown command {command!r}"}


async def admin_request(
    run_dir: Path, command: str, timeout_s: float = 3.0, **fields: Any
) -> dict[str, Any]:
    """Client side, for the command line. Raises ``TimeoutError`` when no daemon answers."""
    ctx = zmq.asyncio.Context.instance()
    socket = ctx.socket(zmq.REQ)
    socket.setsockopt(zmq.LINGER, 0)
    try:
        socket.connect(f"ipc://{run_dir / ADMIN_SOCKET}")
        await socket.send(json.dumps({"command": command, **fields}).encode())
        if not await socket.poll(int(timeout_s * 1000)):
            raise TimeoutError(f"no daemon answered on {run_dir / ADMIN_SOCKET}")
        answer: dict[str, Any] = json.loads(await socket.recv())
        return answer
    finally:
        socket.close(linger=0)
