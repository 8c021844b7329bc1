"""Gemini embodiment transfer, OpenAI planning and the estimation client against their fakes.

Real: the clients on a real ``httpx.AsyncClient``; the fake services as real HTTP servers on
loopback that check keys and request shapes like the documented APIs. Faked: the providers
(Gemini echoes the image, OpenAI returns a fixed plan, estimation returns the demo motion).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest

from daemon.generation.config import EstimationConfig, GeminiConfig, OpenAiConfig, RetryConfig
from daemon.generation.credentials import Secret
from daemon.generation.embodiment import GeminiEmbodiment
from daemon.generation.errors import ErrorKind, GenerationError
from daemon.generation.estimation import HttpMotionEstimator
from daemon.generation.fakes import FAKE_MP4, FakeCloud, Fault, FaultKind
from daemon.generation.fakes.scene import synthetic_scene
from daemon.generation.planner import PLAN_SCHEMA, OpenAiPlanner
from daemon.generation.progress import NullReporter
from estimators.package import CameraView, PackageConfig, decode_package

T = TypeVar("T")
RETRY = RetryConfig(max_attempts=3, initial_backoff_s=0.01, max_backoff_s=0.02)
IMAGE = synthetic_scene()


@pytest.fixture
def cloud() -> Iterator[FakeCloud]:
    with FakeCloud(estimation_token="est-token-1") as running:
        yield running


def call(make: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T | GenerationError:
    async def main() -> T | GenerationError:
        async with httpx.AsyncClient() as client:
            try:
                return await make(client)
            except GenerationError as exc:
                return exc

    return asyncio.run(asyncio.wait_for(main(), 20))


def gemini(
    cloud: FakeCloud, key: str | None = None, **changes: Any
) -> Callable[[httpx.AsyncClient], Awaitable[Any]]:
    config = GeminiConfig(
        base_url=f"{cloud.gemini.base_url}/v1beta",
        model="m",
        **{"retry": RETRY, "request_timeout_s": 0.5, **changes},
    )
    secret = Secret("gemini-api-key", key or cloud.secrets["gemini-api-key"])
    return lambda client: GeminiEmbodiment(client=client, config=config, api_key=secret).humanize(
        IMAGE, view=CameraView.BACK, reporter=NullReporter()
    )


def planner(cloud: FakeCloud) -> Callable[[httpx.AsyncClient], Awaitable[Any]]:
    config = OpenAiConfig(
        base_url=f"{cloud.openai.base_url}/v1", model="gpt-x", retry=RETRY, reasoning_effort="low"
    )
    secret = Secret("openai-api-key", cloud.secrets["openai-api-key"])
    return lambda client: OpenAiPlanner(client=client, config=config, api_key=secret).plan(
        "pick up the box", IMAGE, view=CameraView.FRONT, duration_s=5, reporter=NullReporter()
    )


def estimator(cloud: FakeCloud) -> Callable[[httpx.AsyncClient], Awaitable[Any]]:
    config = EstimationConfig(
        base_url=cloud.estimation.base_url, retry=RETRY, poll_initial_s=0.01, poll_max_s=0.02
    )
    token = Secret("estimation-token", "est-token-1")
    return lambda client: HttpMotionEstimator(client=client, config=config, token=token).estimate(
        FAKE_MP4,
        view=CameraView.BACK,
        package_id="pkg-1",
        instruction="pick up the box",
        reporter=NullReporter(),
    )


def test_gemini_gets_the_image_inline_with_the_key_in_a_header(cloud: FakeCloud) -> None:
    result = call(gemini(cloud))
    assert not isinstance(result, GenerationError)
    assert result.data == IMAGE.data
    request = cloud.gemini.requests[0]
    assert request.path == "/v1beta/models/m:generateContent"
    assert request.query == {}  # never ?key=
    parts = request.json()["contents"][0]["parts"]
    assert "facing away from the camera" in parts[0]["text"] or "face away" in parts[0]["text"]
    assert parts[1]["inline_data"]["mime_type"] == "image/png"
    assert request.json()["generationConfig"]["responseModalities"] == ["TEXT", "IMAGE"]


def test_gemini_text_without_image_is_retried(cloud: FakeCloud) -> None:
    cloud.gemini.inject(Fault(FaultKind.NO_IMAGE, times=2))
    result = call(gemini(cloud))
    assert not isinstance(result, GenerationError)
    assert len(cloud.gemini.requests) == 3


def test_gemini_never_drawing_ends_in_no_image_with_its_words(cloud: FakeCloud) -> None:
    cloud.gemini.inject(Fault(FaultKind.NO_IMAGE, times=None))
    result = call(gemini(cloud))
    assert isinstance(result, GenerationError)
    assert (result.kind, result.attempts) == (ErrorKind.NO_IMAGE, 3)
    assert "I will not draw it" in result.reason


def test_gemini_blocked_prompt_is_not_retried(cloud: FakeCloud) -> None:
    cloud.gemini.inject(Fault(FaultKind.BLOCKED))
    result = call(gemini(cloud))
    assert isinstance(result, GenerationError)
    assert result.kind is ErrorKind.BLOCKED
    assert len(cloud.gemini.requests) == 1


def test_gemini_invalid_key_is_an_auth_error_without_the_key(cloud: FakeCloud) -> None:
    result = call(gemini(cloud, key="AIza-wrong-key"))
    assert isinstance(result, GenerationError)
    assert (result.kind, result.status, result.attempts) == (ErrorKind.AUTH, 400, 1)
    assert "AIza-wrong-key" not in str(result)


def test_gemini_slow_answers_time_out_and_are_retried(cloud: FakeCloud) -> None:
    cloud.gemini.inject(Fault(FaultKind.SLOW, delay_s=2.0, times=None))
    result = call(gemini(cloud, request_timeout_s=0.15))
    assert isinstance(result, GenerationError)
    assert (result.kind, result.attempts) == (ErrorKind.TIMEOUT, 3)


def test_openai_request_uses_a_strict_schema_and_the_plan_is_parsed(cloud: FakeCloud) -> None:
    plan = call(planner(cloud))
    assert not isinstance(plan, GenerationError)
    assert [a.name for a in plan.actions][:2] == ["approach the box", "bend down"]
    text = plan.video_prompt.text()
    assert text.startswith("Shot: Static camera")
    assert "End state:" in text
    body = cloud.openai.requests[0].json()
    assert body["text"]["format"] == {
        "type": "json_schema",
        "name": "exoactor_task_plan",
        "schema": PLAN_SCHEMA,
        "strict": True,
    }
    assert body["reasoning"] == {"effort": "low"}
    content = body["input"][0]["content"]
    assert content[1]["image_url"].startswith("data:image/png;base64,")
    assert cloud.openai.requests[0].headers["authorization"].startswith("Bearer ")


def test_plan_schema_is_strict_everywhere() -> None:
    def objects(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            if node.get("type") == "object":
                yield node
            for value in node.values():
                yield from objects(value)

    for node in objects(PLAN_SCHEMA):  # strict mode's rules: closed objects, all required
        assert node["additionalProperties"] is False
        assert sorted(node["required"]) == sorted(node["properties"])
    json.dumps(PLAN_SCHEMA)


def test_openai_refusal_and_malformed_answers_are_not_retried(cloud: FakeCloud) -> None:
    cloud.openai.inject(Fault(FaultKind.BLOCKED))
    refused = call(planner(cloud))
    assert isinstance(refused, GenerationError)
    assert refused.kind is ErrorKind.BLOCKED
    assert len(cloud.openai.requests) == 1
    cloud.openai.inject(Fault(FaultKind.MALFORMED_JSON))
    malformed = call(planner(cloud))
    assert isinstance(malformed, GenerationError)
    assert malformed.kind is ErrorKind.BAD_RESPONSE
    assert "not JSON" in malformed.reason


def test_openai_429_waits_for_retry_after(cloud: FakeCloud) -> None:
    cloud.openai.inject(Fault(FaultKind.RATE_LIMITED, retry_after_s=0.3))
    plan = call(planner(cloud))
    assert not isinstance(plan, GenerationError)
    first, second = cloud.openai.requests
    assert second.at - first.at >= 0.3


def test_estimation_lifecycle_returns_the_package_for_our_id_and_view(cloud: FakeCloud) -> None:
    data = call(estimator(cloud))
    assert isinstance(data, bytes)
    meta = decode_package(data, PackageConfig()).package.meta
    assert (meta.package_id, meta.camera_view) == ("pkg-1", CameraView.BACK)
    upload = cloud.estimation.requests[0]
    assert upload.query == {"view": "back", "package_id": "pkg-1", "instruction": "pick up the box"}
    assert upload.headers["idempotency-key"] == "pkg-1"
    assert upload.headers["authorization"] == "Bearer est-token-1"


def test_estimation_failure_carries_the_service_s_code(cloud: FakeCloud) -> None:
    cloud.estimation.inject(Fault(FaultKind.TASK_FAILED))
    result = call(estimator(cloud))
    assert isinstance(result, GenerationError)
    assert (result.kind, result.code) == (ErrorKind.TASK_FAILED, "no_person")


def test_estimation_upload_is_repeated_after_a_503_and_finds_one_estimation(
    cloud: FakeCloud,
) -> None:
    cloud.estimation.inject(Fault(FaultKind.HTTP_ERROR, status=503, method="POST", retry_after_s=0))
    data = call(estimator(cloud))
    assert isinstance(data, bytes)
    assert len(cloud.estimation.estimations) == 1
