"""ZeroMQ upload endpoint for motion packages, and the client ``exoactor-edge send`` uses.

Protocol (one request, one answer; a DEALER or a REQ client):

- request: ``[b"", package]`` from a DEALER (a REQ socket adds the empty delimiter itself); the
  package is the motion-package wire message (``estimators.package``);
- answer: ``[b"", json]`` with ``{"accepted": true, "package_id": ID}`` (plus
  ``"already_stored": true`` when that very package was stored before: ids are immutable) or
  ``{"accepted": false, "code": CODE, "field": FIELD, "detail": TEXT}``; ``code`` is the stable
  ``PackageErrorCode`` value, or ``malformed`` (not one payload frame), ``store_full``,
  ``store_io``, ``track_build_failed``, ``internal_error``.

The server is a ROUTER (several clients, answers routed by identity) bound to ``tcp://`` and/or
``ipc://`` endpoints, with ``ZMQ_MAXMSGSIZE``: libzmq disconnects a peer that sends a larger
frame, so an oversized upload gets no answer and the client times out (the client's error says
so). CURVE (``daemon.system.curve``) is optional and needs a client allow-list: the server's secret
key is read from a file or systemd credential when the server starts, and a ZAP handler
(pyzmq's ``AsyncioAuthenticator``) refuses unknown keys and plaintext clients; the client
reports such a refusal as ``UploadRefusedError`` instead of waiting for an answer that cannot
come. Answers are JSON: a few hundred bytes that any language and ``jq`` can read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import zmq
import zmq.asyncio
from zmq.auth.asyncio import AsyncioAuthenticator
from zmq.utils.monitor import parse_monitor_message

from daemon.library.motion_library import IngestResult, MotionLibrary
from daemon.system.curve import (
    CurveClientKeys,
    CurveConfig,
    CurveServerKeys,
    apply_client_keys,
    handshake_refusal,
    load_server_keys,
    start_curve_server,
)

_LOG = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5560"
MALFORMED = "malformed"
INTERNAL_ERROR = "internal_error"
_MAX_ANSWER_BYTES = 64 * 1024


@dataclass(frozen=True)
class IngestConfig:
    """The upload endpoint."""

    endpoints: tuple[str, ...] = (DEFAULT_ENDPOINT,)
    """``tcp://HOST:PORT`` and/or ``ipc:///run/exoactor-edge/ingest.sock``; ``tcp://...:*``
    binds a free port (see ``IngestServer.bound_endpoints``)."""
    max_message_bytes: int = 64 * 1024 * 1024
    """``ZMQ_MAXMSGSIZE``; keep it at ``PackageConfig.max_bytes``."""
    max_in_flight: int = 4
    """Uploads answered concurrently; more wait in ZeroMQ's queue."""
    receive_hwm: int = 16
    shutdown_grace_s: float = 2.0
    """On exit, time given to uploads being stored to finish and be answered."""
    curve: CurveConfig | None = None
    """CURVE with a client allow-list; the secret key is read when the server starts."""

    def __post_init__(self) -> None:
        if not self.endpoints:
            raise ValueError("ingest.endpoints must name at least one endpoint")
        for endpoint in self.endpoints:
            if not endpoint.startswith(("tcp://", "ipc://", "inproc://")):
                raise ValueError(f"ingest endpoint {endpoint!r}: use tcp://, ipc:// or inproc://")
        if self.max_message_bytes < 1024:
            raise ValueError("ingest.max_message_bytes must be >= 1024")
        if self.max_in_flight < 1 or self.receive_hwm < 1:
            raise ValueError("ingest.max_in_flight and receive_hwm must be >= 1")
        if self.shutdown_grace_s < 0:
            raise ValueError("ingest.shutdown_grace_s must be >= 0")


class UploadError(Exception):
    """An upload got no usable answer.

    Attributes:
        endpoint: where it was sent.
        detail: what went wrong.
    """

    def __init__(self, endpoint: str, detail: str) -> None:
        super().__init__(f"upload to {endpoint}: {detail}")
        self.endpoint = endpoint
        self.detail = detail


class UploadTimeoutError(UploadError):
    """No answer in time. Attributes: ``timeout_s`` as well."""

    def __init__(self, endpoint: str, timeout_s: float) -> None:
        super().__init__(
            endpoint,
            f"no answer within {timeout_s:g} s (is the daemon running? an upload larger than "
            "the robot's ingest.max_message_bytes is dropped by ZeroMQ without an answer)",
        )
        self.timeout_s = timeout_s


class UploadRefusedError(UploadError):
    """The server refused the connection in the security handshake (CURVE key or mechanism)."""


# ---------------------------------------------------------------------- sans-I/O answer format


def encode_answer(result: IngestResult) -> bytes:
    """The JSON answer for an ``IngestResult``."""
    body: dict[str, Any]
    if result.accepted:
        body = {"accepted": True, "package_id": result.package_id}
        if result.already_stored:
            body["already_stored"] = True
    else:
        body = {
            "accepted": False,
            "code": result.code,
            "field": result.field,
            "detail": result.detail,
        }
    return json.dumps(body, separators=(",", ":")).encode()


def decode_answer(data: bytes, *, endpoint: str = "") -> IngestResult:
    """Parse an answer. Raises ``UploadError`` when it is not one."""
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):
        raise UploadError(endpoint, "the answer is not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("accepted"), bool):
        raise UploadError(endpoint, "the answer has no boolean 'accepted'")
    if body["accepted"]:
        package_id = body.get("package_id")
        if not isinstance(package_id, str):
            raise UploadError(endpoint, "an accepted answer without a package_id")
        return IngestResult(
            accepted=True, package_id=package_id, already_stored=body.get("already_stored") is True
        )
    code, field_name, detail = body.get("code"), body.get("field"), body.get("detail", "")
    if not isinstance(code, str) or not isinstance(detail, str):
        raise UploadError(endpoint, "a rejection without a code")
    if field_name is not None and not isinstance(field_name, str):
        raise UploadError(endpoint, "a rejection with a non-string field")
    return IngestResult(accepted=False, code=code, field=field_name, detail=detail)


def split_request(frames: list[bytes]) -> tuple[list[bytes], bytes | None]:
    """ROUTER frames -> (envelope to answer to, payload or None when malformed)."""
    if not frames:
        return [], None
    identity, rest = frames[0], frames[1:]
    if len(rest) == 2 and rest[0] == b"":
        return [identity, b""], rest[1]
    if len(rest) == 1 and rest[0] != b"":
        return [identity], rest[0]
    delimiter = [b""] if rest and rest[0] == b"" else []
    return [identity, *delimiter], None


# ---------------------------------------------------------------------- server


class IngestServer:
    """The ROUTER upload endpoint (async context manager); see the module docstring."""

    def __init__(
        self,
        *,
        library: MotionLibrary,
        config: IngestConfig,
        context: zmq.asyncio.Context | None = None,
        source: str = "zmq",
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """Args:
        library: where uploads go (``MotionLibrary.submit``).
        config: endpoints, limits, CURVE.
        context: a ZeroMQ context to use; by default the server makes (and ends) its own, so
            its ZAP handler cannot affect other sockets.
        source: the ``source`` passed to ``submit`` (for the log).
        environ: where ``CREDENTIALS_DIRECTORY`` is looked up (default ``os.environ``).
        """
        self._library = library
        self._config = config
        self._given_context = context
        self._source = source
        self._environ = os.environ if environ is None else environ
        self._context: zmq.asyncio.Context | None = None
        self._socket: zmq.asyncio.Socket | None = None
        self._auth: AsyncioAuthenticator | None = None
        self._serve_task: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(config.max_in_flight)
        self._bound: tuple[str, ...] = ()
        self._uploads = 0

    @property
    def bound_endpoints(self) -> tuple[str, ...]:
        """The endpoints as bound (a ``*`` port resolved to the real one)."""
        return self._bound

    async def __aenter__(self) -> IngestServer:
        """Bind the endpoints. Raises ``CurveKeyError`` when a configured key cannot be read."""
        cfg = self._config
        keys = load_server_keys(cfg.curve, self._environ) if cfg.curve is not None else None
        self._context = self._given_context or zmq.asyncio.Context()
        try:
            sock = self._context.socket(zmq.ROUTER)
            self._socket = sock
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.MAXMSGSIZE, cfg.max_message_bytes)
            sock.setsockopt(zmq.RCVHWM, cfg.receive_hwm)
            if keys is not None:
                self._auth = start_curve_server(self._context, sock, keys)
            bound = []
            for endpoint in cfg.endpoints:
                sock.bind(endpoint)
                bound.append(sock.getsockopt_string(zmq.LAST_ENDPOINT))
            self._bound = tuple(bound)
        except zmq.ZMQError:
            self._close()
            raise
        self._serve_task = asyncio.create_task(self._serve(sock), name="ingest-zmq-serve")
        _LOG.info("motion package uploads on %s", ", ".join(self._bound))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._serve_task is not None:
            self._serve_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._serve_task
            self._serve_task = None
        if self._handlers:
            _, pending = await asyncio.wait(self._handlers, timeout=self._config.shutdown_grace_s)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        self._close()

    def _close(self) -> None:
        if self._socket is not None:
            self._socket.close(linger=0)
            self._socket = None
        if self._auth is not None:
            self._auth.stop()
            self._auth = None
        if self._context is not None and self._given_context is None:
            self._context.term()
        self._context = None

    async def _serve(self, sock: zmq.asyncio.Socket) -> None:
        while True:
            await self._slots.acquire()
            try:
                frames = await sock.recv_multipart()
            except BaseException:
                self._slots.release()
                raise
            self._uploads += 1
            task = asyncio.create_task(
                self._handle(sock, frames), name=f"ingest-zmq-upload-{self._uploads}"
            )
            self._handlers.add(task)
            task.add_done_callback(self._handler_done)

    def _handler_done(self, task: asyncio.Task[None]) -> None:
        self._handlers.discard(task)
        self._slots.release()

    async def _handle(self, sock: zmq.asyncio.Socket, frames: list[bytes]) -> None:
        envelope, payload = split_request(frames)
        if not envelope:
            return
        if payload is None:
            result = IngestResult(
                accepted=False,
                code=MALFORMED,
                field="message",
                detail="expected exactly one non-empty payload frame after the envelope",
            )
        else:
            result = await self._submit(payload)
        try:
            await sock.send_multipart([*envelope, encode_answer(result)])
        except zmq.ZMQError as exc:
            _LOG.warning("cannot answer an upload: %s", exc, extra={"CAUSE": "ingest_send"})

    async def _submit(self, payload: bytes) -> IngestResult:
        try:
            return await self._library.submit(payload, source=self._source)
        except Exception:
            # The network boundary: a bug in validation must cost one upload an answer of
            # "internal_error", never the endpoint itself.
            _LOG.exception("package upload failed unexpectedly", extra={"CAUSE": INTERNAL_ERROR})
            return IngestResult(
                accepted=False, code=INTERNAL_ERROR, field=None, detail="see the robot's log"
            )


# ---------------------------------------------------------------------- client


def _client_socket(
    context: zmq.asyncio.Context, endpoint: str, curve: CurveClientKeys | None
) -> tuple[zmq.asyncio.Socket, zmq.asyncio.Socket]:
    """The DEALER, connected, and a monitor socket that reports its handshake's outcome."""
    sock = context.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.MAXMSGSIZE, _MAX_ANSWER_BYTES)
    if curve is not None:
        apply_client_keys(sock, curve)
    monitor = sock.get_monitor_socket(
        zmq.EVENT_HANDSHAKE_FAILED_AUTH
        | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
        | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
    )
    sock.connect(endpoint)
    return sock, monitor


async def _refusal(monitor: zmq.asyncio.Socket) -> str:
    """Wait for a handshake failure on ``monitor`` and say what it means."""
    while True:
        event = parse_monitor_message(await monitor.recv_multipart())
        reason = handshake_refusal(int(event["event"]))
        if reason is not None:
            return reason


async def upload(
    endpoint: str,
    data: bytes,
    timeout_s: float = 10.0,
    *,
    curve: CurveClientKeys | None = None,
    context: zmq.asyncio.Context | None = None,
) -> IngestResult:
    """Send one package to an ``IngestServer`` and return its answer.

    Args:
        endpoint: e.g. ``tcp://robot:5560`` or ``ipc:///run/exoactor-edge/ingest.sock``.
        data: the package wire message.
        timeout_s: how long to wait for the answer (storing a large package takes a while).
        curve: client keys when the server uses CURVE.
        context: a ZeroMQ context; by default a private one is made and ended.

    Raises:
        UploadRefusedError: the server refused this client in the security handshake.
        UploadTimeoutError: no answer in time.
        UploadError: the answer is not a valid answer.
    """
    ctx = context or zmq.asyncio.Context()
    sock, monitor = _client_socket(ctx, endpoint, curve)
    answer = asyncio.ensure_future(sock.recv_multipart())
    refused = asyncio.ensure_future(_refusal(monitor))
    try:
        await sock.send_multipart([b"", data], copy=len(data) < zmq.COPY_THRESHOLD)
        done, _ = await asyncio.wait(
            {answer, refused}, timeout=timeout_s, return_when="FIRST_COMPLETED"
        )
        if answer in done:
            frames = answer.result()
        elif refused in done:
            raise UploadRefusedError(endpoint, refused.result())
        else:
            raise UploadTimeoutError(endpoint, timeout_s)
    finally:
        for pending in (answer, refused):
            pending.cancel()
        await asyncio.gather(answer, refused, return_exceptions=True)
        sock.disable_monitor()
        monitor.close(linger=0)
        sock.close(linger=0)
        if context is None:
            ctx.term()
    return decode_answer(frames[-1], endpoint=endpoint)


def upload_sync(endpoint: str, data: bytes, timeout_s: float = 10.0, **kwargs: Any) -> IngestResult:
    """``upload`` for synchronous callers (the command line)."""
    return asyncio.run(upload(endpoint, data, timeout_s, **kwargs))


__all__ = [
    "DEFAULT_ENDPOINT",
    "CurveClientKeys",
    "CurveConfig",
    "CurveServerKeys",
    "IngestConfig",
    "IngestServer",
    "UploadError",
    "UploadRefusedError",
    "UploadTimeoutError",
    "decode_answer",
    "encode_answer",
    "split_request",
    "upload",
    "upload_sync",
]
