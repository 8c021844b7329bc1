"""A small threaded HTTP/1.1 server on loopback for the fake cloud services, and fault plans.

Each fake service is a ``FakeService``: ``handle(request) -> FakeResponse``. The server runs in
a daemon thread (``http.server.ThreadingHTTPServer``, one thread per connection) so fakes
answer while the code under test runs on its own event loop, and records every request it saw.
Faults are queued per service (``inject``) and consumed by the requests they match.
"""

from __future__ import annotations

import enum
import json
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)


class FaultKind(enum.Enum):
    HTTP_ERROR = "http_error"
    """Answer ``status`` with the provider's error body (``code``, ``message``)."""
    RATE_LIMITED = "rate_limited"
    """429 with ``Retry-After: retry_after_s`` (Kling: code 1303 when ``code`` says so)."""
    AUTH_FAILURE = "auth_failure"
    """Refuse the credentials as the provider does (Gemini 400 API_KEY_INVALID, OpenAI 401,
    Kling 401/1000)."""
    EXPIRED_TOKEN = "expired_token"
    """Kling: 401 with code 1004, whatever the token."""
    SLOW = "slow"
    """Wait ``delay_s`` before answering normally."""
    MALFORMED_JSON = "malformed_json"
    """200 with a body that is not JSON."""
    NO_IMAGE = "no_image"
    """Gemini: an answer with a text part and no image."""
    BLOCKED = "blocked"
    """Gemini: ``promptFeedback.blockReason``; OpenAI: a refusal."""
    TASK_FAILED = "task_failed"
    """Kling / estimation: the remote task ends in ``failed``."""


@dataclass
class Fault:
    """One injected misbehaviour.

    Args:
        kind: what happens.
        times: requests it applies to (None: every matching request).
        path_contains: only requests whose path contains this (e.g. "/files/" for downloads).
        method: only requests with this method.
        status: HTTP status for HTTP_ERROR.
        code: provider error code (Kling 1303 with RATE_LIMITED, ...).
        message: provider error message.
        retry_after_s: the Retry-After header for RATE_LIMITED / HTTP_ERROR.
        delay_s: how long SLOW waits.
    """

    kind: FaultKind
    times: int | None = 1
    path_contains: str = ""
    method: str = ""
    status: int = 500
    code: str | int | None = None
    message: str = "injected fault"
    retry_after_s: float | None = None
    delay_s: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        return (not self.method or self.method == method) and self.path_contains in path


@dataclass(frozen=True)
class FakeRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    """Lower-cased names."""
    body: bytes
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FakeResponse:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


def json_response(status: int, value: Any, headers: dict[str, str] | None = None) -> FakeResponse:
    return FakeResponse(
        status, json.dumps(value).encode(), {"Content-Type": "application/json", **(headers or {})}
    )


class FakeService:
    """Base of a fake provider: request log, fault queue, a lock for the service's state."""

    name = "fake"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[FakeRequest] = []
        self._faults: list[Fault] = []
        self.base_url = ""

    def inject(self, *faults: Fault) -> None:
        with self.lock:
            self._faults.extend(faults)

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()

    def take_fault(self, request: FakeRequest, *kinds: FaultKind) -> Fault | None:
        """The first queued fault of one of ``kinds`` that matches, consumed once."""
        with self.lock:
            for fault in self._faults:
                if fault.kind in kinds and fault.matches(request.method, request.path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def dispatch(self, request: FakeRequest) -> FakeResponse:
        with self.lock:
            self.requests.append(request)
        delay = 0.0
        slow = self.take_fault(request, FaultKind.SLOW)
        if slow is not None:
            delay = slow.delay_s
        malformed = self.take_fault(request, FaultKind.MALFORMED_JSON)
        if malformed is not None:
            response = FakeResponse(200, b'{"oops": not json', {"Content-Type": "application/json"})
        else:
            response = self.handle(request)
        response.delay_s += delay
        return response

    def handle(self, request: FakeRequest) -> FakeResponse:
        raise NotImplementedError


class FakeHttpServer:
    """Serves one ``FakeService`` on ``127.0.0.1`` in a background thread."""

    def __init__(self, service: FakeService, *, port: int = 0) -> None:
        self.service = service
        self._stopping = threading.Event()
        handler = _handler_class(service, self._stopping)
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},  # shutdown() waits up to one interval
            name=f"fake-{service.name}",
            daemon=True,
        )
        host, bound = self._server.server_address[:2]
        self.base_url = f"http://{host!s}:{bound}"
        service.base_url = self.base_url

    def start(self) -> FakeHttpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler_class(service: FakeService, stopping: threading.Event) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes; without this, Nagle's algorithm holds the
            # body until the client's delayed ACK (40 ms per request on Linux).
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = FakeRequest(
                method=self.command,
                path=parts.path,
                query={k: v[0] for k, v in parse_qs(parts.query).items()},
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            response = service.dispatch(request)
            if response.delay_s > 0 and stopping.wait(response.delay_s):
                return  # the server stops: drop the connection
            try:
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout, cancellation)

        do_GET = _serve  # noqa: N815 - http.server's naming
        do_POST = _serve  # noqa: N815
        do_PUT = _serve  # noqa: N815
        do_DELETE = _serve  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("fake %s: %s", service.name, format % args)

    return Handler
