"""Configuration of the generation stage (frozen dataclasses; ``daemon.config`` fills them).

Nothing here holds a secret: credentials are referenced by file path or systemd credential
name (``*_credential`` fields, which ``daemon.config.masked`` shows as they are). Each cloud
stage has its own base URL, model, request timeout and stage limit, so a provider can be
pointed at a proxy, a different region or the local fakes (``scripts/fake_cloud.py``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

from daemon.generation.camera import CameraConfig


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value}")


@dataclass(frozen=True)
class CredentialRef:
    """Where one secret lives: a file, or a systemd credential (``LoadCredential=NAME:...``)."""

    file: Path | None = None
    credential: str | None = None
    """Name under ``$CREDENTIALS_DIRECTORY``."""

    def __post_init__(self) -> None:
        if (self.file is None) == (self.credential is None):
            raise ValueError("a credential needs exactly one of file or credential")
        if self.credential is not None and ("/" in self.credential or not self.credential):
            raise ValueError(f"credential name {self.credential!r} must be a plain file name")


@dataclass(frozen=True)
class RetryConfig:
    """Retries of one request on 429, 5xx, Kling 1303 and transport errors (never other 4xx)."""

    max_attempts: int = 4
    """Attempts in all, the first included."""
    initial_backoff_s: float = 1.0
    """Kling asks for at least 1 s before retrying a concurrency refusal."""
    max_backoff_s: float = 30.0
    backoff_multiplier: float = 2.0
    jitter_fraction: float = 0.2
    """Each delay is spread by up to this fraction, so robots do not retry in lock-step."""
    max_retry_after_s: float = 120.0
    """A Retry-After longer than this fails the stage at once instead of waiting."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        for name in ("initial_backoff_s", "max_backoff_s", "max_retry_after_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.backoff_multiplier < 1:
            raise ValueError("backoff_multiplier must be >= 1")
        if not 0 <= self.jitter_fraction < 1:
            raise ValueError("jitter_fraction must be in [0, 1)")


@dataclass(frozen=True)
class GeminiConfig:
    """Robot-to-human embodiment transfer with Gemini image editing (``generateContent``)."""

    base_url: str = "https://generativelanguage.googleapis.com/v1beta"
    model: str = "gemini-3-pro-image-preview"
    """Nano Banana Pro, what the paper used; ``gemini-2.5-flash-image`` is cheaper and faster."""
    api_key_credential: CredentialRef = field(
        default_factory=lambda: CredentialRef(credential="gemini-api-key")
    )
    connect_timeout_s: float = 10.0
    request_timeout_s: float = 90.0
    """One image edit; the paper measured 10.7 s on average."""
    stage_timeout_s: float = 300.0
    retry: RetryConfig = field(default_factory=RetryConfig)

    def __post_init__(self) -> None:
        for name in ("connect_timeout_s", "request_timeout_s", "stage_timeout_s"):
            _positive(name, getattr(self, name))


@dataclass(frozen=True)
class OpenAiConfig:
    """Task decomposition and the video prompt with the OpenAI Responses API."""

    base_url: str = "https://api.openai.com/v1"
    model: str = "gpt-5.4"
    """The paper's planner ("GPT-5.4 Thinking"); any model with structured outputs works."""
    reasoning_effort: str | None = None
    """``reasoning.effort`` for reasoning models ("low", "medium", "high"); unset: the default."""
    api_key_credential: CredentialRef = field(
        default_factory=lambda: CredentialRef(credential="openai-api-key")
    )
    is_image_sent: bool = True
    """Send the human image with the instruction so the plan is grounded in the scene."""
    max_actions: int = 8
    connect_timeout_s: float = 10.0
    request_timeout_s: float = 120.0
    stage_timeout_s: float = 300.0
    retry: RetryConfig = field(default_factory=RetryConfig)

    def __post_init__(self) -> None:
        for name in ("connect_timeout_s", "request_timeout_s", "stage_timeout_s"):
            _positive(name, getattr(self, name))
        if self.max_actions < 1:
            raise ValueError("max_actions must be >= 1")


class KlingMode(enum.Enum):
    STD = "std"
    PRO = "pro"


@dataclass(frozen=True)
class KlingConfig:
    """Image-to-video with Kling (JWT auth, create, poll, download)."""

    base_url: str = "https://api-singapore.klingai.com"
    model_name: str = "kling-v2-6"
    """Newest name in the official docs; the paper used Kling 3 ("kling-v3" on some mirrors)."""
    mode: KlingMode = KlingMode.STD
    duration_s: int = 5
    """5 or 10 (sent as a string, as the API demands)."""
    negative_prompt: str = (
        "camera movement, zoom, cuts, extra people, extra limbs, distorted body, blurry, "
        "text, watermark"
    )
    cfg_scale: float | None = None
    """Prompt adherence in [0, 1]; not supported by the v2.x models, so unset by default."""
    access_key_credential: CredentialRef = field(
        default_factory=lambda: CredentialRef(credential="kling-access-key")
    )
    secret_key_credential: CredentialRef = field(
        default_factory=lambda: CredentialRef(credential="kling-secret-key")
    )
    token_ttl_s: float = 1800.0
    token_refresh_margin_s: float = 300.0
    """A token is replaced this long before it expires, never used up to the last second."""
    connect_timeout_s: float = 10.0
    request_timeout_s: float = 60.0
    download_timeout_s: float = 300.0
    poll_initial_s: float = 5.0
    poll_max_s: float = 15.0
    poll_backoff: float = 1.5
    stage_timeout_s: float = 1800.0
    """Generation takes ~13 s per second of video, plus queueing at busy times."""
    max_video_bytes: int = 200 * 1024**2
    retry: RetryConfig = field(default_factory=RetryConfig)

    def __post_init__(self) -> None:
        if self.duration_s not in (5, 10):
            raise ValueError(f"duration_s must be 5 or 10, got {self.duration_s}")
        if self.cfg_scale is not None and not 0 <= self.cfg_scale <= 1:
            raise ValueError("cfg_scale must be in [0, 1]")
        for name in (
            "token_ttl_s",
            "connect_timeout_s",
            "request_timeout_s",
            "download_timeout_s",
            "poll_initial_s",
            "poll_max_s",
            "stage_timeout_s",
        ):
            _positive(name, getattr(self, name))
        if not 0 <= self.token_refresh_margin_s < self.token_ttl_s:
            raise ValueError("token_refresh_margin_s must be in [0, token_ttl_s)")
        if self.poll_backoff < 1:
            raise ValueError("poll_backoff must be >= 1")


@dataclass(frozen=True)
class EstimationConfig:
    """The motion estimation service (GENMO + WiLoR on a GPU server; docs/estimation-api.md)."""

    base_url: str = "http://127.0.0.1:8700"
    token_credential: CredentialRef | None = None
    """Bearer token for the service; None sends no Authorization header."""
    connect_timeout_s: float = 10.0
    request_timeout_s: float = 120.0
    """One request; the upload of the video is the longest."""
    poll_initial_s: float = 2.0
    poll_max_s: float = 10.0
    poll_backoff: float = 1.5
    stage_timeout_s: float = 1800.0
    """Hands take ~16 s and the body ~3 s per second of video on the paper's GPU."""
    max_package_bytes: int = 256 * 1024**2
    retry: RetryConfig = field(default_factory=RetryConfig)

    def __post_init__(self) -> None:
        for name in (
            "connect_timeout_s",
            "request_timeout_s",
            "poll_initial_s",
            "poll_max_s",
            "stage_timeout_s",
        ):
            _positive(name, getattr(self, name))
        if self.poll_backoff < 1:
            raise ValueError("poll_backoff must be >= 1")


class EmbodimentProvider(enum.Enum):
    GEMINI = "gemini"


class PlannerProvider(enum.Enum):
    OPENAI_RESPONSES = "openai_responses"


class VideoProvider(enum.Enum):
    KLING = "kling"


class EstimationProvider(enum.Enum):
    HTTP_V1 = "http_v1"
    """The API in docs/estimation-api.md."""


@dataclass(frozen=True)
class GenerationConfig:
    """The whole generation stage: camera, the four remote stages and the job folders."""

    camera: CameraConfig = field(default_factory=CameraConfig)
    embodiment_provider: EmbodimentProvider = EmbodimentProvider.GEMINI
    gemini: GeminiConfig = field(default_factory=GeminiConfig)
    planner_provider: PlannerProvider = PlannerProvider.OPENAI_RESPONSES
    openai: OpenAiConfig = field(default_factory=OpenAiConfig)
    video_provider: VideoProvider = VideoProvider.KLING
    kling: KlingConfig = field(default_factory=KlingConfig)
    estimation_provider: EstimationProvider = EstimationProvider.HTTP_V1
    estimation: EstimationConfig = field(default_factory=EstimationConfig)
    jobs_dir: Path = Path("/var/lib/exoactor-edge/generation")
    """One folder per job (images, plan, video, package, manifest.json)."""
    keep_jobs: int = 50
    """Job folders kept; the oldest go first when a new job starts."""
    submit_timeout_s: float = 120.0
    """Validation, reference-track precompute and storage of the package."""
    load_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if self.keep_jobs < 1:
            raise ValueError(f"keep_jobs must be >= 1, got {self.keep_jobs}")
        _positive("submit_timeout_s", self.submit_timeout_s)
        _positive("load_timeout_s", self.load_timeout_s)
