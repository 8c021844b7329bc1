"""Image-to-video generation: the ``VideoGenerator`` seam and its Kling client.

Kling: a JWT (HS256, ``iss`` = access key, ``exp`` = now + 30 min, ``nbf`` = now - 5 s) signed
with the secret key authenticates every request; ``KlingTokens`` reuses one until shortly before
it expires and makes a new one when Kling calls it expired (1004) or not yet valid (1003, clock
skew). ``POST /v1/videos/image2video`` creates the task (image as raw base64, duration as a
string, ``external_task_id`` = our job id), ``GET /v1/videos/image2video/{task_id}`` is polled
with a growing interval through submitted -> processing -> succeed | failed, and the video is
downloaded at once (Kling deletes it after 30 days) without the token (the URL is a CDN's).

Kling's body ``code`` refines the HTTP status: 1303 (too many tasks running on the account) is
retried with backoff like a 429; 1100-1102 (account suspended, in arrears, resource pack used up)
are not, though they come as HTTP 429. Creating a task is never repeated after a lost answer:
the task may exist and be billed.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from daemon.generation.config import KlingConfig
from daemon.generation.credentials import Secret, scrub
from daemon.generation.errors import ErrorKind, GenerationError
from daemon.generation.http import ProviderHttp, Request, json_object, retry_after_s
from daemon.generation.images import EncodedImage, ImageFormat
from daemon.generation.jwt import encode_hs256
from daemon.generation.progress import Stage, StageReporter

_PROVIDER = "kling"
_CONCURRENCY_LIMIT = 1303
_TOKEN_REFRESH_CODES = frozenset({1003, 1004})
_ACCOUNT_CODES = frozenset({1100, 1101, 1102})
_MAX_IMAGE_BYTES = 10 * 1024**2
_MIN_SIDE_PX = 300
_MAX_ASPECT = 2.5
_NOT_BEFORE_S = 5


@dataclass(frozen=True)
class GeneratedVideo:
    data: bytes
    task_id: str
    duration_s: float | None
    """As Kling reports it (the file's frame rate is read downstream)."""


class VideoGenerator(Protocol):
    """Animates the human image according to the prompt; returns the video file."""

    async def generate(
        self, image: EncodedImage, prompt: str, *, job_id: str, reporter: StageReporter
    ) -> GeneratedVideo:
        """Raises ``GenerationError`` (stage VIDEO)."""
        ...


class KlingTokens:
    """Kling JWTs from the access and secret key, replaced before they expire.

    Args:
        access_key: the token's issuer (``iss``).
        secret_key: the HS256 signing key.
        ttl_s: lifetime of a token.
        refresh_margin_s: a token is replaced when less than this is left.
        clock: wall-clock seconds (``time.time``); tests pass their own.
    """

    def __init__(
        self,
        *,
        access_key: Secret,
        secret_key: Secret,
        ttl_s: float = 1800.0,
        refresh_margin_s: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._access_key = access_key
        self._secret_key = secret_key
        self._ttl_s = ttl_s
        self._margin_s = refresh_margin_s
        self._clock = clock
        self._token = ""
        self._expires_at = 0.0
        self.issued = 0
        """Tokens made so far."""

    def token(self) -> str:
        """A token with more than ``refresh_margin_s`` of life left."""
        now = self._clock()
        if not self._token or now >= self._expires_at - self._margin_s:
            issued_at = int(now)
            self._expires_at = issued_at + self._ttl_s
            claims = {
                "iss": self._access_key.reveal(),
                "exp": int(self._expires_at),
                "nbf": issued_at - _NOT_BEFORE_S,
            }
            self._token = encode_hs256(claims, self._secret_key.reveal())
            self.issued += 1
        return self._token

    def invalidate(self) -> None:
        """Forget the current token (Kling refused it); the next request gets a new one."""
        self._token = ""


class KlingVideo:
    """``VideoGenerator`` with Kling image-to-video.

    Args:
        client: the shared HTTP client.
        config: endpoint, model, video options, polling, timeouts and retries.
        tokens: the JWT source.
        sleep: ``asyncio.sleep`` between polls (tests may speed it up).
    """

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        config: KlingConfig,
        tokens: KlingTokens,
        secrets: tuple[Secret, ...] = (),
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self._config = config
        self._tokens = tokens
        self._sleep = sleep
        timeout = httpx.Timeout(config.request_timeout_s, connect=config.connect_timeout_s)
        self._http = ProviderHttp(
            client=client,
            stage=Stage.VIDEO,
            provider=_PROVIDER,
            retry=config.retry,
            timeout=timeout,
            auth_headers=lambda: {"Authorization": f"Bearer {tokens.token()}"},
            secrets=secrets,
        )
        self._download_http = ProviderHttp(
            client=client,
            stage=Stage.VIDEO,
            provider=_PROVIDER,
            retry=config.retry,
            timeout=httpx.Timeout(config.download_timeout_s, connect=config.connect_timeout_s),
            secrets=secrets,
        )

    async def generate(
        self, image: EncodedImage, prompt: str, *, job_id: str, reporter: StageReporter
    ) -> GeneratedVideo:
        self._check_image(image)
        base = f"{self._config.base_url.rstrip('/')}/v1/videos/image2video"
        task_id = await self._create(base, image, prompt, job_id, reporter)
        reporter.remote_id("kling_task_id", task_id)
        url, duration_s = await self._poll(f"{base}/{task_id}", reporter)
        reporter.running(percent=100.0, detail="downloading the video")
        response = await self._download_http.send(
            Request("GET", url, "the video download", is_redirect_followed=True), reporter
        )
        data = response.content
        if len(data) > self._config.max_video_bytes:
            raise self._http.error(
                ErrorKind.BAD_MEDIA,
                f"the video is {len(data)} bytes, more "
                f"than the allowed {self._config.max_video_bytes}",
            )
        if data[4:8] != b"ftyp":
            raise self._http.error(
                ErrorKind.BAD_MEDIA, f"the downloaded video is not an MP4 file ({len(data)} bytes)"
            )
        return GeneratedVideo(data=data, task_id=task_id, duration_s=duration_s)

    def _check_image(self, image: EncodedImage) -> None:
        problem = ""
        aspect = image.width / max(1, image.height)
        if len(image.data) > _MAX_IMAGE_BYTES:
            problem = f"{len(image.data)} bytes, more than 10 MB"
        elif min(image.width, image.height) < _MIN_SIDE_PX:
            problem = f"{image.width}x{image.height}, smaller than {_MIN_SIDE_PX} px"
        elif not 1 / _MAX_ASPECT <= aspect <= _MAX_ASPECT:
            problem = f"{image.width}x{image.height}, aspect ratio outside 1:2.5 to 2.5:1"
        elif image.format not in (ImageFormat.PNG, ImageFormat.JPEG):
            problem = f"{image.format.value}, not jpg or png"
        if problem:
            raise self._http.error(ErrorKind.BAD_MEDIA, f"kling cannot take the image: {problem}")

    async def _create(
        self, url: str, image: EncodedImage, prompt: str, job_id: str, reporter: StageReporter
    ) -> str:
        config = self._config
        body: dict[str, Any] = {
            "model_name": config.model_name,
            "image": base64.b64encode(image.data).decode("ascii"),  # raw: no "data:" prefix
            "prompt": prompt,
            "negative_prompt": config.negative_prompt,
            "mode": config.mode.value,
            "duration": str(config.duration_s),
            "external_task_id": job_id,
        }
        if config.cfg_scale is not None:
            body["cfg_scale"] = config.cfg_scale
        request = Request("POST", url, "create video task", json_body=body, is_idempotent=False)
        response = await self._http.send(
            request, reporter, classify=lambda r: self._classify(r, "create video task")
        )
        data = self._data(response, "create video task")
        task_id = data.get("task_id")
        if not isinstance(task_id, str) or not task_id:
            raise self._http.error(ErrorKind.BAD_RESPONSE, "kling created a task without task_id")
        return task_id

    async def _poll(self, url: str, reporter: StageReporter) -> tuple[str, float | None]:
        config = self._config
        interval = config.poll_initial_s
        last = ""
        while True:
            response = await self._http.send(
                Request("GET", url, "video task status"),
                reporter,
                classify=lambda r: self._classify(r, "video task status"),
            )
            data = self._data(response, "video task status")
            status = str(data.get("task_status", ""))
            if status != last:
                reporter.running(detail=f"kling task {status}")
                last = status
            if status == "succeed":
                return self._video_url(data)
            if status == "failed":
                message = scrub(
                    str(data.get("task_status_msg") or "no reason given"), self._http.secrets
                )[:200]
                raise self._http.error(
                    ErrorKind.TASK_FAILED, f"kling's task failed: {message}", code="failed"
                )
            if status not in ("submitted", "processing"):
                raise self._http.error(
                    ErrorKind.BAD_RESPONSE, f"kling's task is in an unknown state {status[:40]!r}"
                )
            await self._sleep(interval)
            interval = min(config.poll_max_s, interval * config.poll_backoff)

    def _video_url(self, data: dict[str, Any]) -> tuple[str, float | None]:
        result = data.get("task_result")
        videos = result.get("videos") if isinstance(result, dict) else None
        video = videos[0] if isinstance(videos, list) and videos else None
        if not isinstance(video, dict) or not isinstance(video.get("url"), str):
            raise self._http.error(ErrorKind.BAD_RESPONSE, "kling's finished task has no video url")
        try:
            duration = float(video["duration"]) if "duration" in video else None
        except (TypeError, ValueError):
            duration = None
        return video["url"], duration

    def _classify(self, response: httpx.Response, what: str) -> GenerationError | None:
        http = self._http
        try:
            body: dict[str, Any] = response.json()
            code = int(body.get("code", -1)) if isinstance(body, dict) else -1
        except (ValueError, TypeError, UnicodeDecodeError):
            code = -1
        message = ""
        if code > 0:
            message = scrub(str(body.get("message", "")), http.secrets)[:160]
        status = response.status_code
        if code == _CONCURRENCY_LIMIT:
            return http.error(
                ErrorKind.RATE_LIMITED,
                f"kling refused {what}: too many tasks running on the account ({code}: {message})",
                status=status,
                code=str(code),
                is_retryable=True,
                retry_after_s=retry_after_s(response),
            )
        if code in _TOKEN_REFRESH_CODES:
            self._tokens.invalidate()
            return http.error(
                ErrorKind.AUTH,
                f"kling refused the token for {what} ({code}: {message})",
                status=status,
                code=str(code),
                is_retryable=True,
                retry_after_s=0.0,
            )
        if code in _ACCOUNT_CODES:
            return http.error(
                ErrorKind.HTTP_STATUS,
                f"kling refused {what}: account problem ({code}: {message})",
                status=status,
                code=str(code),
            )
        error = http.classify(response, what)
        if error is not None or code in (0, -1):
            return error  # -1 on a 2xx: no code at all; _data says what is wrong with the body
        return http.error(
            ErrorKind.BAD_RESPONSE,
            f"kling answered {what} with code {code} ({message or 'no code'})",
            status=status,
            code=str(code) if code >= 0 else None,
        )

    def _data(self, response: httpx.Response, what: str) -> dict[str, Any]:
        body = json_object(response, stage=Stage.VIDEO, provider=_PROVIDER, what=what)
        data = body.get("data")
        if not isinstance(data, dict):
            raise self._http.error(ErrorKind.BAD_RESPONSE, f"kling's answer to {what} has no data")
        return data
