"""Errors of the generation stage. Each names the stage it ended and carries a safe reason.

``reason`` is written for a person (the fleet's error description, the manifest, the command
line) and never contains a key, a token or a signed URL: provider texts that go into it are
shortened and scrubbed of every secret the client holds (``Secret.scrub``).
"""

from __future__ import annotations

import enum
from typing import Any

from daemon.generation.progress import Stage


class ErrorKind(enum.Enum):
    """What went wrong, independent of the provider (stable values for machines)."""

    HTTP_STATUS = "http_status"
    """An HTTP status the client does not retry (most 4xx), or retries ran out."""
    AUTH = "auth"
    """The provider refused the credentials (401/403, or a token it calls invalid/expired)."""
    RATE_LIMITED = "rate_limited"
    """429 / Kling 1303 until the retries ran out, or a Retry-After longer than allowed."""
    TRANSPORT = "transport"
    """No HTTP answer: connection refused or reset, DNS, TLS."""
    TIMEOUT = "timeout"
    """A request or the whole stage took longer than configured."""
    BAD_RESPONSE = "bad_response"
    """The answer is not what the documented API returns (not JSON, fields missing)."""
    NO_IMAGE = "no_image"
    """The image model answered with text only, every time."""
    BLOCKED = "blocked"
    """The provider's safety filter refused the prompt or the output."""
    TASK_FAILED = "task_failed"
    """A remote job (video, estimation) ended in failure."""
    BAD_MEDIA = "bad_media"
    """An image or a video that the next stage cannot use (size, format, aspect ratio)."""
    CAMERA = "camera"
    CREDENTIALS = "credentials"
    PACKAGE_REJECTED = "package_rejected"
    """The motion library refused the package (its validation code is in ``code``)."""
    REFUSED = "refused"
    """The control process refused to load or start the package."""
    CANCELLED = "cancelled"
    INTERNAL = "internal"
    """Anything else (a local I/O error, a bug): the job still ends with a manifest."""


class GenerationError(Exception):
    """A generation stage failed.

    Args:
        stage: the stage that failed.
        kind: what went wrong.
        reason: a one-line description safe to show.
        provider: e.g. "gemini", "kling"; empty for local stages.
        status: the HTTP status, when there was one.
        code: the provider's error code or status text, or the library's rejection code.
        is_retryable: whether another attempt may succeed (used by the retry loop).
        retry_after_s: the delay the provider asked for (Retry-After), if any.
    """

    def __init__(
        self,
        stage: Stage,
        kind: ErrorKind,
        reason: str,
        *,
        provider: str = "",
        status: int | None = None,
        code: str | None = None,
        is_retryable: bool = False,
        retry_after_s: float | None = None,
    ) -> None:
        self.stage = stage
        self.kind = kind
        self.reason = reason
        self.provider = provider
        self.status = status
        self.code = code
        self.is_retryable = is_retryable
        self.retry_after_s = retry_after_s
        self.attempts = 0
        """Attempts made before giving up (set by the retry loop)."""
        super().__init__(f"{stage.value}: {reason}")

    def gave_up(self, attempts: int, elapsed_s: float) -> GenerationError:
        """This error, marked as final after ``attempts`` tries over ``elapsed_s``."""
        self.attempts = attempts
        if attempts > 1:
            self.reason = f"{self.reason} (gave up after {attempts} attempts in {elapsed_s:.1f} s)"
            self.args = (f"{self.stage.value}: {self.reason}",)
        return self

    def to_dict(self) -> dict[str, Any]:
        """The manifest's (and the fleet's) view of the error: JSON-ready, secret-free."""
        return {
            "stage": self.stage.value,
            "kind": self.kind.value,
            "reason": self.reason,
            "provider": self.provider or None,
            "status": self.status,
            "code": self.code,
            "attempts": self.attempts,
        }


class CameraError(GenerationError):
    """No usable frame from the camera or the simulator."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        super().__init__(Stage.CAPTURE, ErrorKind.CAMERA, f"{source}: {reason}")


class CredentialError(GenerationError):
    """A credential is missing or unreadable (its content is never part of the message)."""

    def __init__(self, stage: Stage, name: str, reason: str) -> None:
        self.name = name
        super().__init__(stage, ErrorKind.CREDENTIALS, f"credential {name}: {reason}")


class StageTimeoutError(GenerationError):
    """The stage as a whole ran past its configured time limit."""

    def __init__(self, stage: Stage, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        super().__init__(
            stage, ErrorKind.TIMEOUT, f"no result within the stage limit of {timeout_s:g} s"
        )


class JobBusyError(RuntimeError):
    """A generation job is already running (one at a time: the robot does one thing)."""

    def __init__(self, running_job_id: str) -> None:
        self.running_job_id = running_job_id
        super().__init__(f"generation job {running_job_id} is still running")
