"""Local stand-ins for the cloud: fake Gemini, OpenAI, Kling and estimation servers on loopback.

``FakeCloud`` starts all four (each a real HTTP server on its own ``127.0.0.1`` port), writes
its credentials to files and builds a ``GenerationConfig`` that points at them, so the real
clients run unchanged against them. Faults are injected per service::

    with FakeCloud() as cloud:
        cloud.kling.inject(Fault(FaultKind.RATE_LIMITED, code=1303, retry_after_s=0.1))
        config = cloud.generation_config(tmp_path)

Used by the tests and by ``scripts/fake_cloud.py``.
"""

from __future__ import annotations

import dataclasses
import secrets as random_ids
from pathlib import Path
from types import TracebackType
from typing import Any

from daemon.generation.config import (
    CredentialRef,
    EstimationConfig,
    GeminiConfig,
    GenerationConfig,
    KlingConfig,
    OpenAiConfig,
    RetryConfig,
)
from daemon.generation.fakes.server import (
    FakeHttpServer,
    FakeRequest,
    FakeService,
    Fault,
    FaultKind,
)
from daemon.generation.fakes.services import (
    FAKE_MP4,
    FakeEstimation,
    FakeGemini,
    FakeKling,
    FakeOpenAi,
    demo_package,
)

__all__ = [
    "FAKE_MP4",
    "FakeCloud",
    "FakeEstimation",
    "FakeGemini",
    "FakeKling",
    "FakeOpenAi",
    "FakeRequest",
    "FakeService",
    "Fault",
    "FaultKind",
    "demo_package",
]

FAST_RETRY = RetryConfig(
    max_attempts=3, initial_backoff_s=0.02, max_backoff_s=0.1, max_retry_after_s=5.0
)


class FakeCloud:
    """The four fake services, started on entry and stopped on exit.

    Args:
        ports: fixed ports for gemini, openai, kling, estimation (0: any free port).
        package_duration_s: length of the demo motion the estimation fake returns.
        estimation_token: the estimation service's bearer token (None: no auth).
    """

    def __init__(
        self,
        *,
        ports: tuple[int, int, int, int] = (0, 0, 0, 0),
        package_duration_s: float = 2.0,
        estimation_token: str | None = None,
    ) -> None:
        # Fresh random credentials per instance, so a test can look for them in the logs.
        self.secrets = {
            "gemini-api-key": "AIzaFAKE-" + random_ids.token_urlsafe(24),
            "openai-api-key": "sk-fake-" + random_ids.token_urlsafe(24),
            "kling-access-key": "ak-fake-" + random_ids.token_hex(12),
            "kling-secret-key": "sk-kling-fake-" + random_ids.token_hex(16),
        }
        if estimation_token is not None:
            self.secrets["estimation-token"] = estimation_token
        self.gemini = FakeGemini(api_key=self.secrets["gemini-api-key"])
        self.openai = FakeOpenAi(api_key=self.secrets["openai-api-key"])
        self.kling = FakeKling(
            access_key=self.secrets["kling-access-key"], secret_key=self.secrets["kling-secret-key"]
        )
        self.estimation = FakeEstimation(token=estimation_token, duration_s=package_duration_s)
        services = (self.gemini, self.openai, self.kling, self.estimation)
        self._servers = [FakeHttpServer(s, port=p) for s, p in zip(services, ports, strict=True)]

    def __enter__(self) -> FakeCloud:
        for server in self._servers:
            server.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        for server in self._servers:
            server.stop()

    def write_credentials(self, folder: Path) -> Path:
        """One file per secret (``folder/<name>``, mode 0600), as systemd's
        ``$CREDENTIALS_DIRECTORY`` would hold them. Returns ``folder``."""
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for name, value in self.secrets.items():
            path = folder / name
            path.write_text(value + "\n", encoding="utf-8")
            path.chmod(0o600)
        return folder

    def generation_config(self, root: Path, **overrides: Any) -> GenerationConfig:
        """A configuration for these fakes with fast polls and retries: jobs under
        ``root/jobs``, credentials as files under ``root/credentials``."""
        creds = self.write_credentials(root / "credentials")

        def ref(name: str) -> CredentialRef:
            return CredentialRef(file=creds / name)

        quick: dict[str, Any] = {
            "request_timeout_s": 2.0,
            "connect_timeout_s": 1.0,
            "stage_timeout_s": 10.0,
            "retry": FAST_RETRY,
        }
        polls: dict[str, Any] = {"poll_initial_s": 0.01, "poll_max_s": 0.05}
        config = GenerationConfig(
            gemini=GeminiConfig(
                base_url=f"{self.gemini.base_url}/v1beta",
                model="gemini-fake",
                api_key_credential=ref("gemini-api-key"),
                **quick,
            ),
            openai=OpenAiConfig(
                base_url=f"{self.openai.base_url}/v1",
                model="gpt-fake",
                api_key_credential=ref("openai-api-key"),
                **quick,
            ),
            kling=KlingConfig(
                base_url=self.kling.base_url,
                model_name="kling-fake",
                access_key_credential=ref("kling-access-key"),
                secret_key_credential=ref("kling-secret-key"),
                download_timeout_s=2.0,
                **quick,
                **polls,
            ),
            estimation=EstimationConfig(
                base_url=self.estimation.base_url,
                token_credential=ref("estimation-token")
                if "estimation-token" in self.secrets
                else None,
                **quick,
                **polls,
            ),
            jobs_dir=root / "jobs",
        )
        return dataclasses.replace(config, **overrides)

    def all_requests(self) -> list[FakeRequest]:
        return [
            r for s in (self.gemini, self.openai, self.kling, self.estimation) for r in s.requests
        ]
