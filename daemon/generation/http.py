"""One provider's HTTP requests, with retries and safe error reasons.

Policy (the same for every provider; a provider adds its own cases through ``classify``):

- 2xx: accepted (the caller still checks the body);
- 429 and 5xx: retried with exponential backoff and jitter, waiting at least what the provider
  asked for (``Retry-After`` in seconds or as an HTTP date, or OpenAI's ``retry-after-ms``);
  a wait longer than ``RetryConfig.max_retry_after_s`` fails at once;
- 401/403: an authentication error, not retried; any other 4xx: not retried;
- no answer (connect error, reset, read timeout): retried when the request is idempotent,
  i.e. repeating it cannot create a second paid job at the provider.

Request headers (where the keys are) are built per attempt by the caller and never logged;
log lines name the method, the URL without its query, the status and the provider's request id.
Cancelling the awaiting task cancels the request in flight.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import httpx

from daemon.generation.config import RetryConfig
from daemon.generation.credentials import Secret, scrub
from daemon.generation.errors import ErrorKind, GenerationError
from daemon.generation.progress import Stage, StageReporter

log = logging.getLogger(__name__)

_EXCERPT_CHARS = 200
_REQUEST_ID_HEADERS = ("x-request-id", "x-goog-request-id", "request-id", "x-kling-request-id")

Classifier = Callable[[httpx.Response], "GenerationError | None"]
"""Maps an answer to None (accepted) or the error it means (``is_retryable`` decides)."""


@dataclass(frozen=True)
class Request:
    """One logical request; ``what`` names it in errors ("create video task")."""

    method: str
    url: str
    what: str
    json_body: Any = None
    content: bytes | None = None
    params: Mapping[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    is_idempotent: bool = True
    """False for requests that start paid work: they are not repeated after a lost answer."""
    is_redirect_followed: bool = False
    """Only for requests without credentials: httpx keeps custom key headers on a redirect."""


def retry_after_s(response: httpx.Response, *, now: float | None = None) -> float | None:
    """The delay the provider asked for, from ``retry-after-ms`` or ``Retry-After``."""
    value = response.headers.get("retry-after-ms")
    if value is not None:
        try:
            return max(0.0, float(value) / 1000.0)
        except ValueError:
            pass
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = datetime.now(timezone.utc).timestamp() if now is None else now
    return max(0.0, when.timestamp() - current)


def provider_message(response: httpx.Response, secrets: Iterable[Secret] = ()) -> tuple[str, str]:
    """(code, message) from a JSON error body in the shapes Gemini, OpenAI, Kling and the
    estimation API use; the message shortened and scrubbed. Empty strings when absent."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    error = body.get("error")
    if isinstance(error, dict):
        code = error.get("status") or error.get("code") or error.get("type") or ""
        message = error.get("message", "")
    else:
        code, message = body.get("code", ""), body.get("message", "")
    text = scrub(str(message), secrets)
    if len(text) > _EXCERPT_CHARS:
        text = text[: _EXCERPT_CHARS - 3] + "..."
    return str(code), text


def json_object(
    response: httpx.Response, *, stage: Stage, provider: str, what: str
) -> dict[str, Any]:
    """The answer's JSON object, or a BAD_RESPONSE error that says what was wrong."""
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        raise GenerationError(
            stage,
            ErrorKind.BAD_RESPONSE,
            f"{provider} answered {what} with HTTP {response.status_code} and a body that is "
            f"not JSON ({len(response.content)} bytes)",
            provider=provider,
            status=response.status_code,
        ) from None
    if not isinstance(body, dict):
        raise GenerationError(
            stage,
            ErrorKind.BAD_RESPONSE,
            f"{provider} answered {what} with JSON that is not an object",
            provider=provider,
            status=response.status_code,
        )
    return body


class ProviderHttp:
    """Sends one provider's requests with the retry policy above.

    Args:
        client: the shared ``httpx.AsyncClient``.
        stage: the stage these requests serve (for errors and progress).
        provider: short provider name for messages ("gemini").
        retry: the retry policy.
        timeout: connect and read limits of one request.
        auth_headers: builds the authentication headers for each attempt (so a refreshed
            token is used on a retry).
        secrets: every secret this provider uses, scrubbed from provider texts.
        sleep: ``asyncio.sleep`` (tests pass a recorder).
    """

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        stage: Stage,
        provider: str,
        retry: RetryConfig,
        timeout: httpx.Timeout,
        auth_headers: Callable[[], Mapping[str, str]] = dict,
        secrets: Iterable[Secret] = (),
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.stage = stage
        self.provider = provider
        self.timeout = timeout
        self._retry = retry
        self._auth_headers = auth_headers
        self.secrets = tuple(secrets)
        self._sleep = sleep
        self._random = random.Random()

    def error(self, kind: ErrorKind, reason: str, **fields: Any) -> GenerationError:
        """An error of this provider's stage."""
        return GenerationError(self.stage, kind, reason, provider=self.provider, **fields)

    def classify(self, response: httpx.Response, what: str) -> GenerationError | None:
        """The common status policy (see the module docstring)."""
        status = response.status_code
        if 200 <= status < 300:
            return None
        code, message = provider_message(response, self.secrets)
        detail = f" ({code}: {message})" if message else (f" ({code})" if code else "")
        reason = f"{self.provider} answered {what} with HTTP {status}{detail}"
        if status == 429:
            return self.error(
                ErrorKind.RATE_LIMITED,
                reason,
                status=status,
                code=code or None,
                is_retryable=True,
                retry_after_s=retry_after_s(response),
            )
        if status >= 500:
            return self.error(
                ErrorKind.HTTP_STATUS,
                reason,
                status=status,
                code=code or None,
                is_retryable=True,
                retry_after_s=retry_after_s(response),
            )
        kind = ErrorKind.AUTH if status in (401, 403) else ErrorKind.HTTP_STATUS
        return self.error(kind, reason, status=status, code=code or None)

    async def send(
        self,
        request: Request,
        reporter: StageReporter,
        *,
        classify: Classifier | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        """Send ``request``, retrying as the policy allows; the accepted response.

        Raises:
            GenerationError: the final error (``attempts`` set).
        """
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            reporter.attempt(attempt)
            error = await self._attempt(request, classify, timeout or self.timeout)
            if isinstance(error, httpx.Response):
                return error
            if not error.is_retryable or attempt >= self._retry.max_attempts:
                raise error.gave_up(attempt, time.monotonic() - started)
            asked = error.retry_after_s
            if asked is not None and asked > self._retry.max_retry_after_s:
                error.reason += (
                    f"; asked to retry after {asked:g} s, more than the allowed "
                    f"{self._retry.max_retry_after_s:g} s"
                )
                raise error.gave_up(attempt, time.monotonic() - started)
            delay = self.backoff_s(attempt, asked)
            log.info(
                "%s: retry %d of %s in %.2f s: %s",
                self.stage.value,
                attempt,
                request.what,
                delay,
                error.reason,
            )
            reporter.retrying(error.reason, delay)
            await self._sleep(delay)

    def backoff_s(self, attempt: int, retry_after: float | None) -> float:
        """Delay before attempt ``attempt + 1``: what Retry-After asked for, else exponential
        backoff with jitter."""
        if retry_after is not None:
            return retry_after  # the provider knows its own load better than our backoff
        retry = self._retry
        base = min(
            retry.max_backoff_s, retry.initial_backoff_s * retry.backoff_multiplier ** (attempt - 1)
        )
        spread = 1.0 + retry.jitter_fraction * (2.0 * self._random.random() - 1.0)
        return max(0.0, base * spread)

    async def _attempt(
        self, request: Request, classify: Classifier | None, timeout: httpx.Timeout
    ) -> httpx.Response | GenerationError:
        headers = {**self._auth_headers(), **request.headers}
        started = time.monotonic()
        try:
            response = await self.client.request(
                request.method,
                request.url,
                json=request.json_body,
                content=request.content,
                params=request.params,
                headers=headers,
                timeout=timeout,
                follow_redirects=request.is_redirect_followed,
            )
        except httpx.TimeoutException as exc:
            return self.error(
                ErrorKind.TIMEOUT,
                f"no answer from {self.provider} to {request.what} in time ({type(exc).__name__})",
                is_retryable=request.is_idempotent,
            )
        except httpx.TransportError as exc:
            # A refused connection never reached the provider: safe to repeat.
            is_safe = request.is_idempotent or isinstance(exc, httpx.ConnectError)
            return self.error(
                ErrorKind.TRANSPORT,
                f"{request.what}: cannot reach {self.provider} ({type(exc).__name__})",
                is_retryable=is_safe,
            )
        request_id = next(
            (response.headers[h] for h in _REQUEST_ID_HEADERS if h in response.headers), "-"
        )
        log.debug(
            "%s %s %s -> %d in %.0f ms (request id %s)",
            self.provider,
            request.method,
            response.request.url.copy_with(query=None),
            response.status_code,
            (time.monotonic() - started) * 1000.0,
            request_id,
        )
        error = (classify or (lambda r: self.classify(r, request.what)))(response)
        return response if error is None else error
