"""Kling image-to-video: JWTs, the task lifecycle, concurrency and account errors, download.

Real: ``KlingVideo`` and ``KlingTokens`` on a real ``httpx.AsyncClient``, the HS256 encoder,
and the fake Kling service as a real HTTP server on loopback, which checks the JWT's signature,
issuer, expiry and not-before like the documented API. Faked: Kling itself, and the clock in
the token-refresh tests.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from daemon.generation.config import KlingConfig, RetryConfig
from daemon.generation.credentials import Secret
from daemon.generation.errors import ErrorKind, GenerationError
from daemon.generation.fakes import FAKE_MP4, FakeKling, Fault, FaultKind
from daemon.generation.fakes.scene import synthetic_scene
from daemon.generation.fakes.server import FakeHttpServer
from daemon.generation.images import encode_png
from daemon.generation.jwt import TokenInvalidError, decode_hs256, encode_hs256
from daemon.generation.progress import NullReporter
from daemon.generation.video import GeneratedVideo, KlingTokens, KlingVideo

ACCESS = Secret("kling-access-key", "ak-test-123")
SECRET_KEY = Secret("kling-secret-key", "sk-test-456")


class Recorder(NullReporter):
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def retrying(self, reason: str, delay_s: float) -> None:
        self.events.append(("retrying", delay_s))

    def running(self, *, percent: float | None = None, detail: str = "") -> None:
        self.events.append(("running", detail))

    def remote_id(self, name: str, value: str) -> None:
        self.events.append((name, value))


@pytest.fixture
def kling() -> Iterator[FakeKling]:
    service = FakeKling(access_key=ACCESS.reveal(), secret_key=SECRET_KEY.reveal())
    server = FakeHttpServer(service).start()
    try:
        yield service
    finally:
        server.stop()


def config_for(service: FakeKling, **changes: Any) -> KlingConfig:
    base = KlingConfig(
        base_url=service.base_url,
        poll_initial_s=0.01,
        poll_max_s=0.02,
        request_timeout_s=2.0,
        retry=RetryConfig(max_attempts=3, initial_backoff_s=0.01, max_backoff_s=0.05),
    )
    return dataclasses.replace(base, **changes)


def generate(
    service: FakeKling, tokens: KlingTokens | None = None, **changes: Any
) -> tuple[GeneratedVideo | GenerationError, Recorder]:
    reporter = Recorder()

    async def main() -> GeneratedVideo | GenerationError:
        async with httpx.AsyncClient() as client:
            video = KlingVideo(
                client=client,
                config=config_for(service, **changes),
                tokens=tokens or KlingTokens(access_key=ACCESS, secret_key=SECRET_KEY),
                secrets=(ACCESS, SECRET_KEY),
            )
            try:
                return await video.generate(
                    synthetic_scene(), "a prompt", job_id="job-1", reporter=reporter
                )
            except GenerationError as exc:
                return exc

    return asyncio.run(asyncio.wait_for(main(), 20)), reporter


def test_jwt_round_trip_and_tamper_detection() -> None:
    token = encode_hs256({"iss": "ak", "exp": 10, "nbf": 0}, "secret")
    assert decode_hs256(token, "secret") == {"iss": "ak", "exp": 10, "nbf": 0}
    with pytest.raises(TokenInvalidError, match="signature"):
        decode_hs256(token, "other secret")
    header, payload, signature = token.split(".")
    with pytest.raises(TokenInvalidError):
        decode_hs256(f"{header}.{payload}x.{signature}", "secret")


def test_tokens_carry_kling_claims_and_are_renewed_before_they_expire() -> None:
    now = [1_000_000.0]
    tokens = KlingTokens(
        access_key=ACCESS,
        secret_key=SECRET_KEY,
        ttl_s=1800,
        refresh_margin_s=300,
        clock=lambda: now[0],
    )
    first = tokens.token()
    claims = decode_hs256(first, SECRET_KEY.reveal())
    assert claims == {"iss": ACCESS.reveal(), "exp": 1_001_800, "nbf": 999_995}
    now[0] += 1499  # 301 s of life left: still good
    assert tokens.token() == first
    now[0] += 1  # 300 s left: inside the margin, renewed before Kling would refuse it
    second = tokens.token()
    assert second != first
    assert decode_hs256(second, SECRET_KEY.reveal())["exp"] == 1_003_300
    assert tokens.issued == 2


def test_the_lifecycle_submitted_processing_succeed_ends_in_a_download(kling: FakeKling) -> None:
    result, reporter = generate(kling)
    assert isinstance(result, GeneratedVideo)
    assert result.data == FAKE_MP4
    assert result.task_id == "task-1"
    details = [v for k, v in reporter.events if k == "running"]
    assert details[:3] == ["kling task submitted", "kling task processing", "kling task succeed"]
    create = next(r for r in kling.requests if r.method == "POST")
    body = create.json()
    assert body["duration"] == "5"
    assert body["external_task_id"] == "job-1"
    assert not body["image"].startswith("data:")
    download = next(r for r in kling.requests if r.path.startswith("/files/"))
    assert "authorization" not in download.headers  # the token never goes to the CDN


def test_concurrency_limit_1303_is_retried_with_backoff(kling: FakeKling) -> None:
    kling.inject(Fault(FaultKind.RATE_LIMITED, code=1303, times=2, method="POST"))
    result, reporter = generate(kling)
    assert isinstance(result, GeneratedVideo)
    assert [k for k, _ in reporter.events].count("retrying") == 2
    assert len([r for r in kling.requests if r.method == "POST"]) == 3


def test_concurrency_limit_that_persists_ends_rate_limited(kling: FakeKling) -> None:
    kling.inject(Fault(FaultKind.RATE_LIMITED, code=1303, times=None, method="POST"))
    result, _ = generate(kling)
    assert isinstance(result, GenerationError)
    assert (result.kind, result.code, result.status) == (ErrorKind.RATE_LIMITED, "1303", 429)
    assert result.attempts == 3


def test_resource_pack_depleted_1102_is_not_retried_though_it_is_a_429(kling: FakeKling) -> None:
    kling.inject(Fault(FaultKind.RATE_LIMITED, code=1102, message="resource pack exhausted"))
    result, _ = generate(kling)
    assert isinstance(result, GenerationError)
    assert (result.kind, result.code, result.attempts) == (ErrorKind.HTTP_STATUS, "1102", 1)
    assert "account problem" in result.reason


def test_an_expired_token_is_replaced_and_the_request_repeated(kling: FakeKling) -> None:
    tokens = KlingTokens(access_key=ACCESS, secret_key=SECRET_KEY)
    kling.inject(Fault(FaultKind.EXPIRED_TOKEN, method="POST"))
    result, _ = generate(kling, tokens)
    assert isinstance(result, GeneratedVideo)
    assert tokens.issued == 2


def test_a_clock_far_behind_ends_in_a_clear_expired_token_error(kling: FakeKling) -> None:
    behind = KlingTokens(
        access_key=ACCESS, secret_key=SECRET_KEY, clock=lambda: time.time() - 1900.0
    )  # every token born expired
    result, _ = generate(kling, behind)
    assert isinstance(result, GenerationError)
    assert (result.kind, result.code, result.attempts) == (ErrorKind.AUTH, "1004", 3)
    assert behind.issued == 3  # a new token for every attempt


def test_wrong_keys_fail_with_an_auth_error_and_no_retry(kling: FakeKling) -> None:
    wrong = KlingTokens(access_key=ACCESS, secret_key=Secret("kling-secret-key", "not-it"))
    result, _ = generate(kling, wrong)
    assert isinstance(result, GenerationError)
    assert (result.kind, result.status, result.code, result.attempts) == (
        ErrorKind.AUTH,
        401,
        "1002",
        1,
    )


def test_a_failed_task_reports_kling_s_reason(kling: FakeKling) -> None:
    kling.inject(Fault(FaultKind.TASK_FAILED))
    result, _ = generate(kling)
    assert isinstance(result, GenerationError)
    assert result.kind is ErrorKind.TASK_FAILED
    assert "risk control" in result.reason


def test_a_download_that_is_not_a_video_is_refused(kling: FakeKling) -> None:
    kling.inject(Fault(FaultKind.HTTP_ERROR, status=404, path_contains="/files/"))
    result, _ = generate(kling)
    assert isinstance(result, GenerationError)
    assert (result.kind, result.status) == (ErrorKind.HTTP_STATUS, 404)


def test_malformed_json_is_a_bad_response(kling: FakeKling) -> None:
    kling.inject(Fault(FaultKind.MALFORMED_JSON, method="POST"))
    result, _ = generate(kling)
    assert isinstance(result, GenerationError)
    assert result.kind is ErrorKind.BAD_RESPONSE


def test_images_kling_cannot_take_are_refused_before_upload(kling: FakeKling) -> None:
    async def main() -> GenerationError:
        async with httpx.AsyncClient() as client:
            video = KlingVideo(
                client=client,
                config=config_for(kling),
                tokens=KlingTokens(access_key=ACCESS, secret_key=SECRET_KEY),
            )
            with pytest.raises(GenerationError) as info:
                await video.generate(
                    encode_png(bytes(1000 * 300 * 3), 1000, 300),
                    "p",
                    job_id="j",
                    reporter=NullReporter(),
                )
            return info.value

    error = asyncio.run(main())
    assert error.kind is ErrorKind.BAD_MEDIA
    assert "aspect ratio" in error.reason
    assert kling.requests == []
