"""The shared HTTP retry policy of the cloud clients (``daemon.generation.http``).

Real: ``ProviderHttp`` on a real ``httpx.AsyncClient``. Faked: the network, by
``httpx.MockTransport`` answering from a script; ``sleep`` records the delays instead of
waiting, so Retry-After values of many seconds are checked in microseconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from daemon.generation.config import RetryConfig
from daemon.generation.credentials import Secret
from daemon.generation.errors import ErrorKind, GenerationError
from daemon.generation.http import ProviderHttp, Request, provider_message, retry_after_s
from daemon.generation.progress import NullReporter, Stage

RETRY = RetryConfig(
    max_attempts=4,
    initial_backoff_s=1.0,
    max_backoff_s=8.0,
    jitter_fraction=0.0,
    max_retry_after_s=60.0,
)
SECRET = Secret("test-key", "sk-very-secret-value")


def run_script(
    answers: list[httpx.Response | Exception],
    *,
    request: Request | None = None,
    retry: RetryConfig = RETRY,
) -> tuple[httpx.Response | GenerationError, list[float], list[httpx.Request]]:
    """Send one request against scripted answers; (result or error, sleeps, requests seen)."""
    seen: list[httpx.Request] = []
    sleeps: list[float] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        answer = answers[min(len(seen), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def sleep(delay: float) -> None:
        sleeps.append(delay)

    async def main() -> httpx.Response | GenerationError:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            http = ProviderHttp(
                client=client,
                stage=Stage.EMBODIMENT,
                provider="prov",
                retry=retry,
                timeout=httpx.Timeout(1.0),
                secrets=(SECRET,),
                sleep=sleep,
                auth_headers=lambda: {"x-key": SECRET.reveal()},
            )
            try:
                return await http.send(
                    request or Request("POST", "http://p.test/x", "it"), NullReporter()
                )
            except GenerationError as exc:
                return exc

    return asyncio.run(main()), sleeps, seen


def error_of(result: object) -> GenerationError:
    assert isinstance(result, GenerationError), result
    return result


def test_429_is_retried_after_the_seconds_retry_after_asks_for() -> None:
    result, sleeps, seen = run_script(
        [httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json={})]
    )
    assert isinstance(result, httpx.Response)
    assert result.status_code == 200
    assert sleeps == [7.0]
    assert len(seen) == 2


def test_retry_after_as_an_http_date_and_openai_retry_after_ms() -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=30)
    dated = httpx.Response(503, headers={"Retry-After": format_datetime(when, usegmt=True)})
    assert 28.0 <= (retry_after_s(dated) or 0.0) <= 30.0
    assert retry_after_s(httpx.Response(429, headers={"retry-after-ms": "250"})) == 0.25
    assert retry_after_s(httpx.Response(429, headers={"Retry-After": "soon"})) is None


def test_5xx_without_retry_after_backs_off_exponentially_up_to_the_cap() -> None:
    result, sleeps, seen = run_script([httpx.Response(503)] * 4)
    error = error_of(result)
    assert error.kind is ErrorKind.HTTP_STATUS
    assert error.status == 503
    assert error.attempts == 4
    assert "gave up after 4 attempts" in error.reason
    assert sleeps == [1.0, 2.0, 4.0]
    assert len(seen) == 4


def test_jitter_stays_within_its_fraction() -> None:
    jittery = RetryConfig(
        max_attempts=6, initial_backoff_s=1.0, backoff_multiplier=1.0, jitter_fraction=0.2
    )
    _, sleeps, _ = run_script([httpx.Response(500)] * 6, retry=jittery)
    assert len(sleeps) == 5
    assert all(0.8 <= s <= 1.2 for s in sleeps)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, ErrorKind.HTTP_STATUS),
        (401, ErrorKind.AUTH),
        (403, ErrorKind.AUTH),
        (404, ErrorKind.HTTP_STATUS),
        (422, ErrorKind.HTTP_STATUS),
    ],
)
def test_other_4xx_fail_at_once_without_retry(status: int, kind: ErrorKind) -> None:
    result, sleeps, seen = run_script([httpx.Response(status, json={"error": {"message": "no"}})])
    error = error_of(result)
    assert (error.kind, error.status, error.is_retryable) == (kind, status, False)
    assert sleeps == []
    assert len(seen) == 1


def test_a_retry_after_beyond_the_allowed_wait_fails_now() -> None:
    result, sleeps, _ = run_script([httpx.Response(429, headers={"Retry-After": "3600"})])
    error = error_of(result)
    assert error.kind is ErrorKind.RATE_LIMITED
    assert sleeps == []
    assert "3600 s, more than the allowed 60 s" in error.reason


def test_lost_answers_are_retried_only_for_idempotent_requests() -> None:
    lost = httpx.ReadTimeout("slow")
    result, _, seen = run_script([lost, httpx.Response(200, json={})])
    assert isinstance(result, httpx.Response)
    assert len(seen) == 2
    paid = Request("POST", "http://p.test/create", "create task", is_idempotent=False)
    result, _, seen = run_script([lost, httpx.Response(200)], request=paid)
    error = error_of(result)
    assert error.kind is ErrorKind.TIMEOUT
    assert len(seen) == 1


def test_a_refused_connection_is_retried_even_for_paid_requests() -> None:
    paid = Request("POST", "http://p.test/create", "create task", is_idempotent=False)
    result, _, seen = run_script([httpx.ConnectError("refused"), httpx.Response(200)], request=paid)
    assert isinstance(result, httpx.Response)
    assert len(seen) == 2


def test_provider_texts_in_reasons_are_scrubbed_and_shortened() -> None:
    body = {"error": {"message": f"bad key {SECRET.reveal()} " + "x" * 500, "status": "DENIED"}}
    code, message = provider_message(httpx.Response(400, json=body), [SECRET])
    assert code == "DENIED"
    assert SECRET.reveal() not in message
    assert "***" in message
    assert len(message) <= 200
    result, _, _ = run_script([httpx.Response(400, json=body)])
    assert SECRET.reveal() not in str(error_of(result))


def test_the_auth_header_is_built_for_every_attempt() -> None:
    calls: list[int] = []

    def headers() -> dict[str, str]:
        calls.append(1)
        return {"Authorization": f"Bearer token-{len(calls)}"}

    seen: list[str] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req.headers["authorization"])
        return httpx.Response(500 if len(seen) == 1 else 200)

    async def main() -> None:
        async def no_sleep(_: float) -> None:
            pass

        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            http = ProviderHttp(
                client=client,
                stage=Stage.VIDEO,
                provider="kling",
                retry=RETRY,
                timeout=httpx.Timeout(1.0),
                auth_headers=headers,
                sleep=no_sleep,
            )
            await http.send(Request("GET", "http://p.test/q", "query"), NullReporter())

    asyncio.run(main())
    assert seen == ["Bearer token-1", "Bearer token-2"]


def test_retry_config_rejects_nonsense() -> None:
    bad: list[tuple[Callable[[], object], str]] = [
        (lambda: RetryConfig(max_attempts=0), "max_attempts"),
        (lambda: RetryConfig(backoff_multiplier=0.5), "backoff_multiplier"),
        (lambda: RetryConfig(jitter_fraction=1.0), "jitter_fraction"),
        (lambda: RetryConfig(initial_backoff_s=-1), "initial_backoff_s"),
    ]
    for make, field in bad:
        with pytest.raises(ValueError, match=field):
            make()
