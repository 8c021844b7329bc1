"""Human motion from the generated video: the ``MotionEstimator`` seam and its HTTP client.

No public standard exists, so the estimation service speaks the small API in
``docs/estimation-api.md``: ``POST /v1/estimations`` with the video as the body (view, package
id and instruction as query parameters, ``Idempotency-Key`` = job id so a repeated upload
finds the same estimation), ``GET /v1/estimations/{id}`` polled until ``succeeded`` or
``failed`` (with ``progress`` in [0, 1] and the current ``stage``), then
``GET /v1/estimations/{id}/package`` returns the motion package (msgpack wire message).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

import httpx

from daemon.generation.config import EstimationConfig
from daemon.generation.credentials import Secret, scrub
from daemon.generation.errors import ErrorKind
from daemon.generation.http import ProviderHttp, Request, json_object
from daemon.generation.progress import Stage, StageReporter
from estimators.package import CameraView

_PROVIDER = "estimation"
PACKAGE_MEDIA_TYPE = "application/vnd.exoactor.motion-package"


class MotionEstimator(Protocol):
    """Turns a third-person video of one person into a motion package."""

    async def estimate(
        self,
        video: bytes,
        *,
        view: CameraView,
        package_id: str,
        instruction: str,
        reporter: StageReporter,
    ) -> bytes:
        """The package wire message. Raises ``GenerationError`` (stage ESTIMATION)."""
        ...


class HttpMotionEstimator:
    """``MotionEstimator`` over the estimation API v1.

    Args:
        client: the shared HTTP client.
        config: endpoint, polling, timeouts and retries.
        token: bearer token, or None for a service without authentication.
        sleep: ``asyncio.sleep`` between polls.
    """

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        config: EstimationConfig,
        token: Secret | None,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self._config = config
        self._sleep = sleep
        self._http = ProviderHttp(
            client=client,
            stage=Stage.ESTIMATION,
            provider=_PROVIDER,
            retry=config.retry,
            timeout=httpx.Timeout(config.request_timeout_s, connect=config.connect_timeout_s),
            auth_headers=(lambda: {"Authorization": f"Bearer {token.reveal()}"})
            if token is not None
            else dict,
            secrets=() if token is None else (token,),
        )

    async def estimate(
        self,
        video: bytes,
        *,
        view: CameraView,
        package_id: str,
        instruction: str,
        reporter: StageReporter,
    ) -> bytes:
        http = self._http
        base = f"{self._config.base_url.rstrip('/')}/v1/estimations"
        create = Request(
            "POST",
            base,
            "the video upload",
            content=video,
            params={"view": view.value, "package_id": package_id, "instruction": instruction},
            headers={"Content-Type": "video/mp4", "Idempotency-Key": package_id},
        )
        body = json_object(
            await http.send(create, reporter),
            stage=Stage.ESTIMATION,
            provider=_PROVIDER,
            what="the video upload",
        )
        estimation_id = body.get("id")
        if not isinstance(estimation_id, str) or not estimation_id or "/" in estimation_id:
            raise http.error(ErrorKind.BAD_RESPONSE, "the estimation service gave no usable id")
        reporter.remote_id("estimation_id", estimation_id)
        await self._wait(f"{base}/{estimation_id}", reporter)
        response = await http.send(
            Request("GET", f"{base}/{estimation_id}/package", "the motion package"), reporter
        )
        data = response.content
        if not data or len(data) > self._config.max_package_bytes:
            raise http.error(
                ErrorKind.BAD_RESPONSE,
                f"the motion package is {len(data)} bytes "
                f"(allowed 1 to {self._config.max_package_bytes})",
            )
        return data

    async def _wait(self, url: str, reporter: StageReporter) -> None:
        http = self._http
        interval = self._config.poll_initial_s
        while True:
            response = await http.send(Request("GET", url, "the estimation status"), reporter)
            body = json_object(
                response, stage=Stage.ESTIMATION, provider=_PROVIDER, what="the estimation status"
            )
            status = body.get("status")
            progress = body.get("progress")
            percent = float(progress) * 100.0 if isinstance(progress, (int, float)) else None
            stage = body.get("stage")
            reporter.running(
                percent=percent, detail=f"estimation {status}" + (f" ({stage})" if stage else "")
            )
            if status == "succeeded":
                return
            if status == "failed":
                found = body.get("error")
                error: dict[str, Any] = found if isinstance(found, dict) else {}
                code = str(error.get("code") or "failed")
                message = scrub(str(error.get("message") or "no reason given"), http.secrets)
                raise http.error(
                    ErrorKind.TASK_FAILED,
                    f"the estimation failed ({code}: {message[:200]})",
                    code=code,
                )
            if status not in ("queued", "running"):
                raise http.error(
                    ErrorKind.BAD_RESPONSE,
                    f"the estimation is in an unknown state {str(status)[:40]!r}",
                )
            await self._sleep(interval)
            interval = min(self._config.poll_max_s, interval * self._config.poll_backoff)
