"""Task decomposition and video prompt: the ``TaskPlanner`` seam and its OpenAI client.

OpenAI Responses API (``POST {base}/responses``, ``Authorization: Bearer``) with structured
output: ``text.format`` is a strict JSON schema, so the answer is an ordered action chain and a
five-part video prompt (shot, scene, motion, execution, end state). The raw HTTP answer carries
the JSON in ``output[]`` message items (``output_text`` parts); a ``refusal`` part, an
incomplete answer or JSON that misses the schema is an error that is not retried. A plan the
model marks infeasible (an object not in the scene) ends the job before any video is paid for.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from daemon.generation.config import OpenAiConfig
from daemon.generation.credentials import Secret, scrub
from daemon.generation.errors import ErrorKind
from daemon.generation.http import ProviderHttp, Request, json_object
from daemon.generation.images import EncodedImage
from daemon.generation.progress import Stage, StageReporter
from daemon.generation.prompts import PLANNER_INSTRUCTIONS, planner_input_text
from estimators.package import CameraView

_PROVIDER = "openai"
_WHAT = "the task plan"
_SECTIONS = ("shot", "scene", "motion", "execution", "end_state")
_MAX_PROMPT_CHARS = 2500
"""Kling's prompt limit in the current docs."""


def _string(description: str) -> dict[str, str]:
    return {"type": "string", "description": description}


PLAN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["is_feasible", "infeasible_reason", "actions", "video_prompt"],
    "properties": {
        "is_feasible": {"type": "boolean"},
        "infeasible_reason": _string("why the task cannot be done here; empty when feasible"),
        "actions": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "description"],
                "properties": {
                    "name": _string("a short verb phrase"),
                    "description": _string("one sentence on how it is done"),
                },
            },
        },
        "video_prompt": {
            "type": "object",
            "additionalProperties": False,
            "required": list(_SECTIONS),
            "properties": {name: {"type": "string"} for name in _SECTIONS},
        },
    },
}


@dataclass(frozen=True)
class PlannedAction:
    name: str
    description: str


@dataclass(frozen=True)
class VideoPrompt:
    """The five parts of the video prompt."""

    shot: str
    scene: str
    motion: str
    execution: str
    end_state: str

    def text(self) -> str:
        """One prompt for the video model, within Kling's length limit."""
        parts = [
            f"Shot: {self.shot}",
            f"Scene: {self.scene}",
            f"Motion: {self.motion}",
            f"Execution: {self.execution}",
            f"End state: {self.end_state}",
        ]
        text = "\n".join(p.strip() for p in parts)
        return text if len(text) <= _MAX_PROMPT_CHARS else text[: _MAX_PROMPT_CHARS - 3] + "..."


@dataclass(frozen=True)
class TaskPlan:
    """The ordered action chain and the scene-grounded video prompt."""

    actions: tuple[PlannedAction, ...]
    video_prompt: VideoPrompt
    model: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "actions": [{"name": a.name, "description": a.description} for a in self.actions],
            "video_prompt": {name: getattr(self.video_prompt, name) for name in _SECTIONS},
            "video_prompt_text": self.video_prompt.text(),
        }


class TaskPlanner(Protocol):
    """Decomposes an instruction into actions and writes the video prompt for the scene."""

    async def plan(
        self,
        instruction: str,
        image: EncodedImage,
        *,
        view: CameraView,
        duration_s: int,
        reporter: StageReporter,
    ) -> TaskPlan:
        """Raises ``GenerationError`` (stage PLANNING)."""
        ...


class OpenAiPlanner:
    """``TaskPlanner`` with the OpenAI Responses API and a strict JSON schema.

    Args:
        client: the shared HTTP client.
        config: endpoint, model, timeouts and retries.
        api_key: the OpenAI API key.
    """

    def __init__(self, *, client: httpx.AsyncClient, config: OpenAiConfig, api_key: Secret) -> None:
        self._config = config
        self._key = api_key
        self._http = ProviderHttp(
            client=client,
            stage=Stage.PLANNING,
            provider=_PROVIDER,
            retry=config.retry,
            timeout=httpx.Timeout(config.request_timeout_s, connect=config.connect_timeout_s),
            auth_headers=lambda: {"Authorization": f"Bearer {self._key.reveal()}"},
            secrets=(api_key,),
        )

    async def plan(
        self,
        instruction: str,
        image: EncodedImage,
        *,
        view: CameraView,
        duration_s: int,
        reporter: StageReporter,
    ) -> TaskPlan:
        config = self._config
        content: list[dict[str, Any]] = [
            {"type": "input_text", "text": planner_input_text(instruction, view)}
        ]
        if config.is_image_sent:
            data = base64.b64encode(image.data).decode("ascii")
            content.append(
                {"type": "input_image", "image_url": f"data:{image.mime_type};base64,{data}"}
            )
        body: dict[str, Any] = {
            "model": config.model,
            "instructions": PLANNER_INSTRUCTIONS.format(
                max_actions=config.max_actions, duration_s=duration_s
            ),
            "input": [{"role": "user", "content": content}],
            "text": {
                "format": {
                    "type": "json_schema",
                    "name": "exoactor_task_plan",
                    "schema": PLAN_SCHEMA,
                    "strict": True,
                }
            },
            "store": False,
        }
        if config.reasoning_effort:
            body["reasoning"] = {"effort": config.reasoning_effort}
        url = f"{config.base_url.rstrip('/')}/responses"
        response = await self._http.send(Request("POST", url, _WHAT, json_body=body), reporter)
        answer = json_object(response, stage=Stage.PLANNING, provider=_PROVIDER, what=_WHAT)
        if isinstance(answer.get("id"), str):
            reporter.remote_id("openai_response_id", answer["id"])
        return self._parse(answer)

    def _parse(self, answer: dict[str, Any]) -> TaskPlan:
        http = self._http
        status = answer.get("status")
        if status not in (None, "completed"):
            details = answer.get("incomplete_details") or answer.get("error") or {}
            why = (
                details.get("reason") or details.get("message") if isinstance(details, dict) else ""
            )
            raise http.error(
                ErrorKind.BAD_RESPONSE,
                f"openai's answer is {status} ({why or '?'})",
                code=str(status),
            )
        texts: list[str] = []
        for item in answer.get("output") or []:
            if not isinstance(item, dict) or item.get("type") != "message":
                continue
            for part in item.get("content") or []:
                if not isinstance(part, dict):
                    continue
                if part.get("type") == "refusal":
                    said = scrub(str(part.get("refusal", "")), http.secrets)[:160]
                    raise http.error(ErrorKind.BLOCKED, f'openai refused to plan: "{said}"')
                if part.get("type") == "output_text" and isinstance(part.get("text"), str):
                    texts.append(part["text"])
        if not texts:
            raise http.error(ErrorKind.BAD_RESPONSE, "openai's answer has no output_text")
        try:
            plan = json.loads("".join(texts))
        except ValueError:
            raise http.error(ErrorKind.BAD_RESPONSE, "openai's plan is not valid JSON") from None
        return self._plan_from(plan, str(answer.get("model") or self._config.model))

    def _plan_from(self, plan: Any, model: str) -> TaskPlan:
        http = self._http
        try:
            if not plan["is_feasible"]:
                reason = scrub(
                    str(plan.get("infeasible_reason") or "no reason given"), http.secrets
                )
                raise http.error(
                    ErrorKind.TASK_FAILED,
                    f"the planner finds the task infeasible in this scene: {reason[:200]}",
                    code="infeasible",
                )
            actions = tuple(
                PlannedAction(str(a["name"]), str(a["description"])) for a in plan["actions"]
            )
            prompt = VideoPrompt(*(str(plan["video_prompt"][name]) for name in _SECTIONS))
        except (KeyError, TypeError) as exc:
            raise http.error(
                ErrorKind.BAD_RESPONSE,
                f"openai's plan misses the schema ({type(exc).__name__}: {exc})",
            ) from None
        if not actions:
            raise http.error(ErrorKind.BAD_RESPONSE, "openai's plan has no actions")
        if len(actions) > self._config.max_actions:
            actions = actions[: self._config.max_actions]
        return TaskPlan(actions=actions, video_prompt=prompt, model=model)
