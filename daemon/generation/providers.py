"""The four remote stages behind their seams, built from configuration.

``build_providers`` reads the credentials (at the start of every job, so a rotated key is
picked up without a restart) and makes one client per stage on the shared HTTP client. Tests
and other deployments pass their own ``CloudProviders`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from daemon.generation.config import (
    EmbodimentProvider,
    EstimationProvider,
    GenerationConfig,
    PlannerProvider,
    VideoProvider,
)
from daemon.generation.credentials import read_credential
from daemon.generation.embodiment import EmbodimentTransfer, GeminiEmbodiment
from daemon.generation.estimation import HttpMotionEstimator, MotionEstimator
from daemon.generation.planner import OpenAiPlanner, TaskPlanner
from daemon.generation.progress import Stage
from daemon.generation.video import KlingTokens, KlingVideo, VideoGenerator


@dataclass(frozen=True)
class CloudProviders:
    """One implementation per remote stage."""

    embodiment: EmbodimentTransfer
    planner: TaskPlanner
    video: VideoGenerator
    estimator: MotionEstimator


def build_providers(
    config: GenerationConfig, *, client: httpx.AsyncClient, credentials_dir: Path | None
) -> CloudProviders:
    """The configured providers. Raises ``CredentialError`` naming the stage that needs it."""

    def secret(ref: Any, stage: Stage, name: str) -> Any:
        return read_credential(ref, credentials_dir=credentials_dir, stage=stage, name=name)

    if config.embodiment_provider is EmbodimentProvider.GEMINI:
        embodiment = GeminiEmbodiment(
            client=client,
            config=config.gemini,
            api_key=secret(config.gemini.api_key_credential, Stage.EMBODIMENT, "gemini-api-key"),
        )
    if config.planner_provider is PlannerProvider.OPENAI_RESPONSES:
        planner = OpenAiPlanner(
            client=client,
            config=config.openai,
            api_key=secret(config.openai.api_key_credential, Stage.PLANNING, "openai-api-key"),
        )
    if config.video_provider is VideoProvider.KLING:
        kling = config.kling
        access = secret(kling.access_key_credential, Stage.VIDEO, "kling-access-key")
        secret_key = secret(kling.secret_key_credential, Stage.VIDEO, "kling-secret-key")
        tokens = KlingTokens(
            access_key=access,
            secret_key=secret_key,
            ttl_s=kling.token_ttl_s,
            refresh_margin_s=kling.token_refresh_margin_s,
        )
        video = KlingVideo(client=client, config=kling, tokens=tokens, secrets=(access, secret_key))
    if config.estimation_provider is EstimationProvider.HTTP_V1:
        ref = config.estimation.token_credential
        token = None if ref is None else secret(ref, Stage.ESTIMATION, "estimation-token")
        estimator = HttpMotionEstimator(client=client, config=config.estimation, token=token)
    return CloudProviders(embodiment=embodiment, planner=planner, video=video, estimator=estimator)


def describe_providers(config: GenerationConfig) -> dict[str, Any]:
    """Provider, model and endpoint per stage, for the manifest (no credentials)."""
    return {
        Stage.EMBODIMENT.value: {
            "provider": config.embodiment_provider.value,
            "model": config.gemini.model,
            "base_url": config.gemini.base_url,
        },
        Stage.PLANNING.value: {
            "provider": config.planner_provider.value,
            "model": config.openai.model,
            "base_url": config.openai.base_url,
        },
        Stage.VIDEO.value: {
            "provider": config.video_provider.value,
            "model": config.kling.model_name,
            "base_url": config.kling.base_url,
            "duration_s": config.kling.duration_s,
            "mode": config.kling.mode.value,
        },
        Stage.ESTIMATION.value: {
            "provider": config.estimation_provider.value,
            "base_url": config.estimation.base_url,
        },
    }
