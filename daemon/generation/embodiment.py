"""Robot-to-human embodiment transfer: the ``EmbodimentTransfer`` seam and its Gemini client.

Gemini ``generateContent`` (``POST {base}/models/{model}:generateContent``, key in the
``x-goog-api-key`` header, never in the URL) with the prompt and the image inline; the answer's
``candidates[0].content.parts`` mix text and ``inlineData`` images. An answer with text only is
retried (the model may decline to draw on one attempt and draw on the next); a prompt blocked
by ``promptFeedback.blockReason`` or an output stopped by a safety ``finishReason`` is not.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any, Protocol

import httpx

from daemon.generation.config import GeminiConfig
from daemon.generation.credentials import Secret, scrub
from daemon.generation.errors import ErrorKind, GenerationError
from daemon.generation.http import ProviderHttp, Request, json_object
from daemon.generation.images import EncodedImage, ImageDecodeError
from daemon.generation.progress import Stage, StageReporter
from daemon.generation.prompts import embodiment_prompt
from estimators.package import CameraView

log = logging.getLogger(__name__)

_PROVIDER = "gemini"
_WHAT = "the image edit"
_SAFETY_FINISH = frozenset(
    {"SAFETY", "IMAGE_SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION"}
)


class EmbodimentTransfer(Protocol):
    """Turns the robot in a third-person image into a person, keeping everything else."""

    async def humanize(
        self, image: EncodedImage, *, view: CameraView, reporter: StageReporter
    ) -> EncodedImage:
        """The edited image. Raises ``GenerationError`` (stage EMBODIMENT)."""
        ...


class GeminiEmbodiment:
    """``EmbodimentTransfer`` with Gemini image editing.

    Args:
        client: the shared HTTP client.
        config: endpoint, model, timeouts and retries.
        api_key: the Gemini API key.
    """

    def __init__(self, *, client: httpx.AsyncClient, config: GeminiConfig, api_key: Secret) -> None:
        self._config = config
        self._key = api_key
        self._http = ProviderHttp(
            client=client,
            stage=Stage.EMBODIMENT,
            provider=_PROVIDER,
            retry=config.retry,
            timeout=httpx.Timeout(config.request_timeout_s, connect=config.connect_timeout_s),
            auth_headers=lambda: {"x-goog-api-key": self._key.reveal()},
            secrets=(api_key,),
        )

    async def humanize(
        self, image: EncodedImage, *, view: CameraView, reporter: StageReporter
    ) -> EncodedImage:
        url = f"{self._config.base_url.rstrip('/')}/models/{self._config.model}:generateContent"
        body = {
            "contents": [
                {
                    "role": "user",
                    "parts": [
                        {"text": embodiment_prompt(view)},
                        {
                            "inline_data": {
                                "mime_type": image.mime_type,
                                "data": base64.b64encode(image.data).decode("ascii"),
                            }
                        },
                    ],
                }
            ],
            "generationConfig": {"responseModalities": ["TEXT", "IMAGE"]},
        }
        request = Request("POST", url, _WHAT, json_body=body)
        response = await self._http.send(request, reporter, classify=self._classify)
        result = self._image_from(response)
        if isinstance(result, GenerationError):  # cannot happen: _classify accepted it
            raise result
        if abs(result.width / result.height - image.width / image.height) > 0.05:
            log.warning(
                "embodiment: the edited image is %dx%d, the camera's %dx%d; the scene "
                "may be reframed",
                result.width,
                result.height,
                image.width,
                image.height,
            )
        return result

    def _classify(self, response: httpx.Response) -> GenerationError | None:
        error = self._http.classify(response, _WHAT)
        if error is not None:
            if _is_key_invalid(response):  # Gemini answers a bad key with 400, not 401
                error.kind = ErrorKind.AUTH
            return error
        result = self._image_from(response)
        return result if isinstance(result, GenerationError) else None

    def _image_from(self, response: httpx.Response) -> EncodedImage | GenerationError:
        http = self._http
        try:
            body = json_object(response, stage=Stage.EMBODIMENT, provider=_PROVIDER, what=_WHAT)
        except GenerationError as exc:
            return exc
        feedback = body.get("promptFeedback")
        if isinstance(feedback, dict) and feedback.get("blockReason"):
            return http.error(
                ErrorKind.BLOCKED,
                f"gemini blocked the prompt ({feedback['blockReason']})",
                code=str(feedback["blockReason"]),
            )
        candidates = body.get("candidates")
        if not isinstance(candidates, list) or not candidates:
            return http.error(
                ErrorKind.NO_IMAGE, "gemini answered without a candidate", is_retryable=True
            )
        candidate = candidates[0] if isinstance(candidates[0], dict) else {}
        finish = str(candidate.get("finishReason", ""))
        texts: list[str] = []
        for part in _parts(candidate):
            inline = part.get("inlineData") or part.get("inline_data")
            if isinstance(inline, dict) and isinstance(inline.get("data"), str):
                return self._decode(inline["data"])
            if isinstance(part.get("text"), str):
                texts.append(part["text"])
        if finish in _SAFETY_FINISH:
            return http.error(
                ErrorKind.BLOCKED,
                f"gemini's safety filter stopped the image ({finish})",
                code=finish,
            )
        said = scrub(" ".join(texts), http.secrets).strip()
        excerpt = f': "{said[:120]}"' if said else ""
        return http.error(
            ErrorKind.NO_IMAGE,
            f"gemini answered with text and no image{excerpt}",
            code=finish or None,
            is_retryable=True,
        )

    def _decode(self, data: str) -> EncodedImage | GenerationError:
        try:
            return EncodedImage.from_bytes(base64.b64decode(data, validate=True))
        except (binascii.Error, ValueError, ImageDecodeError) as exc:
            return self._http.error(
                ErrorKind.BAD_RESPONSE, f"gemini's image cannot be read ({exc})"
            )


def _parts(candidate: dict[str, Any]) -> list[dict[str, Any]]:
    content = candidate.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    return [p for p in parts if isinstance(p, dict)] if isinstance(parts, list) else []


def _is_key_invalid(response: httpx.Response) -> bool:
    try:
        details = response.json()["error"]["details"]
        return any(d.get("reason") == "API_KEY_INVALID" for d in details if isinstance(d, dict))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return False
