"""What a caller hands a ``GenerationRunner`` and gets back: the request, the job, the result."""

from __future__ import annotations

import asyncio
import re
import secrets as random_ids
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from daemon.generation.errors import GenerationError
from daemon.generation.manifest import JobStatus
from daemon.generation.progress import Stage
from estimators.package import CameraView

_JOB_ID = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_MAX_INSTRUCTION_CHARS = 2000


@dataclass(frozen=True)
class GenerationRequest:
    """One ``generateMotion``: what to do, from which side the camera sees the robot."""

    instruction: str
    view: CameraView = CameraView.FRONT
    is_auto_start: bool = False
    job_id: str | None = None
    """Also the package id; default ``gen-<UTC time>-<random>``. Letters, digits, ``._-``."""

    def __post_init__(self) -> None:
        if not self.instruction.strip():
            raise ValueError("instruction is empty")
        if len(self.instruction) > _MAX_INSTRUCTION_CHARS:
            raise ValueError(f"instruction is longer than {_MAX_INSTRUCTION_CHARS} characters")
        if self.job_id is not None and not _JOB_ID.match(self.job_id):
            raise ValueError("job_id must be 1-100 letters, digits, '.', '_' or '-'")


@dataclass(frozen=True)
class JobResult:
    """How a job ended (the manifest in ``folder`` has the details)."""

    job_id: str
    status: JobStatus
    folder: Path
    package_id: str | None = None
    is_loaded: bool = False
    is_started: bool = False
    error: GenerationError | None = None
    stage_elapsed_s: dict[Stage, float] = field(default_factory=dict)


def new_job_id() -> str:
    """``gen-<UTC time>-<6 hex>``: sortable, unique enough for one robot, valid as a package id."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"gen-{stamp}-{random_ids.token_hex(3)}"


class GenerationJob:
    """Handle of a started job."""

    def __init__(self, job_id: str, folder: Path, task: asyncio.Task[JobResult]) -> None:
        self.job_id = job_id
        self.folder = folder
        self._task = task

    @property
    def is_done(self) -> bool:
        return self._task.done()

    def cancel(self) -> None:
        """Stop the job; ``wait`` then returns a CANCELLED result (within a second)."""
        self._task.cancel()

    async def wait(self) -> JobResult:
        return await asyncio.shield(self._task)
