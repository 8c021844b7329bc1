"""Fake Gemini, OpenAI, Kling and estimation services that answer like the documented APIs.

Each checks the credentials it was given the way the real service does (Gemini's
``x-goog-api-key``, OpenAI's bearer key, Kling's HS256 JWT with ``iss``/``exp``/``nbf``, the
estimation service's optional bearer token) and the request shape the client must send, then
answers with the documented success body, or with an injected ``Fault``.
"""

from __future__ import annotations

import base64
import dataclasses
import itertools
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from daemon.generation.fakes.server import (
    FakeRequest,
    FakeResponse,
    FakeService,
    Fault,
    FaultKind,
    json_response,
)
from daemon.generation.jwt import TokenInvalidError, decode_hs256

FAKE_MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free" * 64
"""A few bytes that start like an MP4 file (the estimation fake does not decode video)."""


def _retry_headers(fault: Fault) -> dict[str, str]:
    return {} if fault.retry_after_s is None else {"Retry-After": f"{fault.retry_after_s:g}"}


class FakeGemini(FakeService):
    """``POST /v1beta/models/{model}:generateContent``: echoes the input image as the edit."""

    name = "gemini"

    def __init__(self, *, api_key: str) -> None:
        super().__init__()
        self._api_key = api_key

    def _error(
        self, status: int, state: str, message: str, reason: str = "", **headers: str
    ) -> FakeResponse:
        error: dict[str, Any] = {"code": status, "message": message, "status": state}
        if reason:
            error["details"] = [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": reason,
                    "domain": "googleapis.com",
                }
            ]
        return json_response(status, {"error": error}, headers)

    def handle(self, request: FakeRequest) -> FakeResponse:
        if request.method != "POST" or not re.fullmatch(
            r"/v1beta/models/[\w.\-]+:generateContent", request.path
        ):
            return self._error(404, "NOT_FOUND", "unknown path")
        fault = self.take_fault(request, FaultKind.AUTH_FAILURE)
        if fault is not None or request.headers.get("x-goog-api-key") != self._api_key:
            return self._error(
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
                reason="API_KEY_INVALID",
            )
        fault = self.take_fault(request, FaultKind.RATE_LIMITED, FaultKind.HTTP_ERROR)
        if fault is not None:
            status = 429 if fault.kind is FaultKind.RATE_LIMITED else fault.status
            state = "RESOURCE_EXHAUSTED" if status == 429 else str(fault.code or "UNAVAILABLE")
            return self._error(status, state, fault.message, **_retry_headers(fault))
        try:
            parts = request.json()["contents"][0]["parts"]
            inline = next(p["inline_data"] for p in parts if "inline_data" in p)
            image = base64.b64decode(inline["data"], validate=True)
            mime = inline["mime_type"]
        except (KeyError, IndexError, StopIteration, ValueError, TypeError):
            return self._error(400, "INVALID_ARGUMENT", "request needs text and inline_data")
        if self.take_fault(request, FaultKind.BLOCKED) is not None:
            return json_response(200, {"promptFeedback": {"blockReason": "SAFETY"}})
        out_parts: list[dict[str, Any]] = [{"text": "Here is the edited photo."}]
        if self.take_fault(request, FaultKind.NO_IMAGE) is not None:
            out_parts = [{"text": "I can describe the scene, but I will not draw it."}]
        else:
            data = base64.b64encode(image).decode()
            out_parts.append({"inlineData": {"mimeType": mime, "data": data}})
        candidate = {"content": {"role": "model", "parts": out_parts}, "finishReason": "STOP"}
        return json_response(200, {"candidates": [candidate], "usageMetadata": {}})


class FakeOpenAi(FakeService):
    """``POST /v1/responses`` with a strict json_schema format: a plan for the instruction."""

    name = "openai"

    def __init__(self, *, api_key: str) -> None:
        super().__init__()
        self._api_key = api_key
        self._ids = itertools.count(1)

    def _error(self, status: int, kind: str, message: str, **headers: str) -> FakeResponse:
        body = {"error": {"message": message, "type": kind, "param": None, "code": kind}}
        return json_response(status, body, headers)

    def handle(self, request: FakeRequest) -> FakeResponse:
        if request.method != "POST" or request.path != "/v1/responses":
            return self._error(404, "not_found", "unknown path")
        fault = self.take_fault(request, FaultKind.AUTH_FAILURE)
        if fault is not None or request.headers.get("authorization") != f"Bearer {self._api_key}":
            return self._error(401, "invalid_api_key", "Incorrect API key provided.")
        fault = self.take_fault(request, FaultKind.RATE_LIMITED, FaultKind.HTTP_ERROR)
        if fault is not None:
            status = 429 if fault.kind is FaultKind.RATE_LIMITED else fault.status
            kind = "rate_limit_exceeded" if status == 429 else "server_error"
            return self._error(status, kind, fault.message, **_retry_headers(fault))
        try:
            body = request.json()
            text_format = body["text"]["format"]
            content = body["input"][0]["content"]
            task = next(c["text"] for c in content if c["type"] == "input_text")
        except (KeyError, IndexError, StopIteration, ValueError, TypeError):
            return self._error(400, "invalid_request_error", "malformed request")
        if text_format.get("type") != "json_schema" or text_format.get("strict") is not True:
            return self._error(400, "invalid_request_error", "text.format must be a strict schema")
        part: dict[str, Any] = {
            "type": "output_text",
            "text": json.dumps(_plan(task)),
            "annotations": [],
        }
        if self.take_fault(request, FaultKind.BLOCKED) is not None:
            part = {"type": "refusal", "refusal": "I can't help with that."}
        answer = {
            "id": f"resp_fake_{next(self._ids)}",
            "object": "response",
            "status": "completed",
            "model": body.get("model", ""),
            "output": [
                {"type": "reasoning", "id": "rs_fake", "summary": []},
                {"type": "message", "role": "assistant", "status": "completed", "content": [part]},
            ],
        }
        return json_response(200, answer, {"x-request-id": "req_fake", "openai-processing-ms": "5"})


def _plan(task_text: str) -> dict[str, Any]:
    instruction = task_text.splitlines()[0].removeprefix("Task: ").strip()
    if "pick" in instruction.lower() or "box" in instruction.lower():
        names = [
            "approach the box",
            "bend down",
            "grasp the box with both hands",
            "lift the box",
            "stand upright",
        ]
    else:
        names = [instruction]
    actions = [{"name": n, "description": f"The person does this: {n}."} for n in names]
    return {
        "is_feasible": True,
        "infeasible_reason": "",
        "actions": actions,
        "video_prompt": {
            "shot": "Static camera at the photo's viewpoint, no cuts, whole body in frame.",
            "scene": "The room and objects exactly as in the photo.",
            "motion": "Natural, calm human movement.",
            "execution": "; ".join(names),
            "end_state": "The person stands still, facing the camera as at the start.",
        },
    }


@dataclass
class _KlingTask:
    task_id: str
    external_id: str
    created_ms: int
    will_fail: bool
    polls: int = 0


class FakeKling(FakeService):
    """``/v1/videos/image2video`` create and query, and ``/files/*.mp4`` downloads.

    A task answers ``submitted`` for ``submitted_polls`` queries, then ``processing`` for
    ``processing_polls``, then ``succeed`` (or ``failed`` when a TASK_FAILED fault met its
    creation).
    """

    name = "kling"

    def __init__(
        self,
        *,
        access_key: str,
        secret_key: str,
        submitted_polls: int = 1,
        processing_polls: int = 2,
    ) -> None:
        super().__init__()
        self._access_key = access_key
        self._secret_key = secret_key
        self.submitted_polls = submitted_polls
        self.processing_polls = processing_polls
        self.tasks: dict[str, _KlingTask] = {}
        self.tokens_seen: set[str] = set()
        self._ids = itertools.count(1)

    def _error(self, status: int, code: int, message: str, **headers: str) -> FakeResponse:
        body = {"code": code, "message": message, "request_id": "req-fake"}
        return json_response(status, body, headers)

    def _check_token(self, request: FakeRequest) -> FakeResponse | None:
        if self.take_fault(request, FaultKind.AUTH_FAILURE) is not None:
            return self._error(401, 1000, "Authentication failed")
        if self.take_fault(request, FaultKind.EXPIRED_TOKEN) is not None:
            return self._error(401, 1004, "Authorization token expired")
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return self._error(401, 1001, "Authorization is empty")
        token = header.removeprefix("Bearer ")
        try:
            claims = decode_hs256(token, self._secret_key)
        except TokenInvalidError:
            return self._error(401, 1002, "Authorization is invalid")
        now = time.time()
        if claims.get("iss") != self._access_key:
            return self._error(401, 1002, "Authorization is invalid")
        if float(claims.get("exp", 0)) <= now:
            return self._error(401, 1004, "Authorization token expired")
        if float(claims.get("nbf", now + 1)) > now:
            return self._error(401, 1003, "Authorization is not yet valid")
        with self.lock:
            self.tokens_seen.add(token)
        return None

    def handle(self, request: FakeRequest) -> FakeResponse:
        if request.path.startswith("/files/"):
            fault = self.take_fault(request, FaultKind.HTTP_ERROR)
            if fault is not None:
                return FakeResponse(
                    fault.status, b"<html>error</html>", {"Content-Type": "text/html"}
                )
            return FakeResponse(200, FAKE_MP4, {"Content-Type": "video/mp4"})
        refusal = self._check_token(request)
        if refusal is not None:
            return refusal
        fault = self.take_fault(request, FaultKind.RATE_LIMITED, FaultKind.HTTP_ERROR)
        if fault is not None:
            if fault.kind is FaultKind.RATE_LIMITED:
                code = int(fault.code or 1303)
                message = (
                    "parallel task over resource pack limit" if code == 1303 else fault.message
                )
                return self._error(429, code, message, **_retry_headers(fault))
            return self._error(
                fault.status, int(fault.code or 5000), fault.message, **_retry_headers(fault)
            )
        if request.method == "POST" and request.path == "/v1/videos/image2video":
            return self._create(request)
        match = re.fullmatch(r"/v1/videos/image2video/([\w\-]+)", request.path)
        if request.method == "GET" and match:
            return self._query(match.group(1))
        return self._error(404, 1200, "unknown path")

    def _create(self, request: FakeRequest) -> FakeResponse:
        try:
            body = request.json()
            image = body["image"]
        except (KeyError, ValueError, TypeError):
            return self._error(400, 1201, "invalid request body")
        if not isinstance(body.get("duration"), str):
            return self._error(400, 1201, "duration must be a string")
        if not isinstance(image, str) or image.startswith("data:"):
            return self._error(400, 1201, "image must be raw base64 without a data: prefix")
        now_ms = int(time.time() * 1000)
        task = _KlingTask(
            task_id=f"task-{next(self._ids)}",
            external_id=str(body.get("external_task_id", "")),
            created_ms=now_ms,
            will_fail=self.take_fault(request, FaultKind.TASK_FAILED) is not None,
        )
        with self.lock:
            self.tasks[task.task_id] = task
        return json_response(
            200,
            {
                "code": 0,
                "message": "SUCCEED",
                "request_id": "req-fake",
                "data": self._task_data(task, "submitted"),
            },
        )

    def _query(self, task_id: str) -> FakeResponse:
        with self.lock:
            task = self.tasks.get(task_id)
            if task is not None:
                task.polls += 1
        if task is None:
            return self._error(404, 1203, "task not found")
        if task.polls <= self.submitted_polls:
            status = "submitted"
        elif task.polls <= self.submitted_polls + self.processing_polls:
            status = "processing"
        else:
            status = "failed" if task.will_fail else "succeed"
        data = self._task_data(task, status)
        if status == "failed":
            data["task_status_msg"] = "Failure to pass the risk control system"
        if status == "succeed":
            url = f"{self.base_url}/files/{task.task_id}.mp4"
            data["task_result"] = {
                "videos": [{"id": f"v-{task.task_id}", "url": url, "duration": "5"}]
            }
        return json_response(
            200, {"code": 0, "message": "SUCCEED", "request_id": "req-fake", "data": data}
        )

    @staticmethod
    def _task_data(task: _KlingTask, status: str) -> dict[str, Any]:
        return {
            "task_id": task.task_id,
            "task_info": {"external_task_id": task.external_id},
            "task_status": status,
            "created_at": task.created_ms,
            "updated_at": int(time.time() * 1000),
        }


@dataclass
class _Estimation:
    estimation_id: str
    package_id: str
    instruction: str
    view: str
    will_fail: bool
    polls: int = 0


class FakeEstimation(FakeService):
    """The estimation API v1 (docs/estimation-api.md); the package is the demo motion."""

    name = "estimation"

    def __init__(
        self, *, token: str | None = None, running_polls: int = 2, duration_s: float = 2.0
    ) -> None:
        super().__init__()
        self._token = token
        self.running_polls = running_polls
        self.duration_s = duration_s
        self.estimations: dict[str, _Estimation] = {}
        self._by_key: dict[str, str] = {}
        self._ids = itertools.count(1)

    def _error(self, status: int, code: str, message: str, **headers: str) -> FakeResponse:
        return json_response(status, {"error": {"code": code, "message": message}}, headers)

    def handle(self, request: FakeRequest) -> FakeResponse:
        fault = self.take_fault(request, FaultKind.AUTH_FAILURE)
        expected = None if self._token is None else f"Bearer {self._token}"
        if fault is not None or (expected and request.headers.get("authorization") != expected):
            return self._error(401, "unauthorized", "missing or wrong bearer token")
        fault = self.take_fault(request, FaultKind.RATE_LIMITED, FaultKind.HTTP_ERROR)
        if fault is not None:
            status = 429 if fault.kind is FaultKind.RATE_LIMITED else fault.status
            return self._error(
                status, str(fault.code or "busy"), fault.message, **_retry_headers(fault)
            )
        if request.method == "POST" and request.path == "/v1/estimations":
            return self._create(request)
        match = re.fullmatch(r"/v1/estimations/([\w\-]+)(/package)?", request.path)
        if match is None or request.method != "GET":
            return self._error(404, "not_found", "unknown path")
        with self.lock:
            estimation = self.estimations.get(match.group(1))
        if estimation is None:
            return self._error(404, "not_found", "no such estimation")
        return self._package(estimation) if match.group(2) else self._status(estimation)

    def _create(self, request: FakeRequest) -> FakeResponse:
        query = request.query
        if request.headers.get("content-type") != "video/mp4" or not request.body:
            return self._error(415, "unsupported_media_type", "send the video as video/mp4")
        if query.get("view") not in ("front", "back") or not query.get("package_id"):
            return self._error(422, "invalid_parameters", "view and package_id are required")
        key = request.headers.get("idempotency-key", "")
        with self.lock:
            known = self._by_key.get(key) if key else None
        if known is not None:
            return json_response(202, {"id": known, "status": "queued"})
        estimation = _Estimation(
            estimation_id=f"est-{next(self._ids)}",
            package_id=query["package_id"],
            instruction=query.get("instruction", ""),
            view=query["view"],
            will_fail=self.take_fault(request, FaultKind.TASK_FAILED) is not None,
        )
        with self.lock:
            self.estimations[estimation.estimation_id] = estimation
            if key:
                self._by_key[key] = estimation.estimation_id
        return json_response(202, {"id": estimation.estimation_id, "status": "queued"})

    def _status(self, estimation: _Estimation) -> FakeResponse:
        with self.lock:
            estimation.polls += 1
            polls = estimation.polls
        body: dict[str, Any] = {
            "id": estimation.estimation_id,
            "status": "queued",
            "progress": 0.0,
            "stage": None,
            "error": None,
        }
        if 1 < polls <= 1 + self.running_polls:
            fraction = (polls - 1) / (self.running_polls + 1)
            body.update(
                status="running",
                progress=round(fraction, 3),
                stage="body" if fraction < 0.5 else "hands",
            )
        elif polls > 1 + self.running_polls:
            if estimation.will_fail:
                body.update(
                    status="failed",
                    error={"code": "no_person", "message": "no person found in the video"},
                )
            else:
                body.update(status="succeeded", progress=1.0, stage="packaging")
        return json_response(200, body)

    def _package(self, estimation: _Estimation) -> FakeResponse:
        with self.lock:
            done = estimation.polls > 1 + self.running_polls and not estimation.will_fail
        if not done:
            return self._error(409, "not_ready", "the estimation has not succeeded")
        data = demo_package(
            estimation.package_id, estimation.instruction, estimation.view, self.duration_s
        )
        return FakeResponse(200, data, {"Content-Type": "application/vnd.exoactor.motion-package"})


def demo_package(package_id: str, instruction: str, view: str, duration_s: float) -> bytes:
    """The procedural demo motion as this estimation's package (id, instruction and view set)."""
    from estimators.demo_motion import make_demo_motion
    from estimators.package import CameraView, HandsFormat, PackageSource, encode_package

    package = make_demo_motion(duration_s=duration_s, hands_format=HandsFormat.WILOR)
    meta = package.meta.model_copy(
        update={
            "package_id": package_id,
            "task_instruction": instruction or package.meta.task_instruction,
            "camera_view": CameraView(view),
            "source": PackageSource.EXOACTOR_CLOUD,
            "producer": "exoactor-edge fake estimation service",
        }
    )
    return encode_package(dataclasses.replace(package, meta=meta))
