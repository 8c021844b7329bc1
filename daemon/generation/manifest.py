"""A job's folder and its ``manifest.json``: what ran, what it produced, how it ended.

Layout of ``<jobs_dir>/<job_id>/``::

    manifest.json     this record (rewritten atomically after every stage)
    initial.jpg|png   the camera frame
    human.png|jpg     the embodiment-transferred image
    plan.json         the action chain and the video prompt
    video.mp4         the generated video
    motion.pkg        the motion package as the estimation service returned it

The manifest never holds a secret or a provider URL with a signature: artifacts are named by
file, remote work by its id (Kling task id, estimation id, OpenAI response id).
"""

from __future__ import annotations

import enum
import json
import logging
import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from daemon.generation.errors import GenerationError
from daemon.generation.progress import Stage, StageState

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
MANIFEST_SCHEMA = "exoactor-edge/generation-job/1"


class JobStatus(enum.Enum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so a reader sees the old or the new file, never a part."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


class JobManifest:
    """The manifest of one job, kept in memory and written after each change of substance.

    Args:
        folder: the job's folder (created).
        job_id: the job's id.
        request: instruction, view and autoStart as JSON-ready values.
        providers: provider name, model and base URL per stage (no credentials).
    """

    def __init__(
        self, *, folder: Path, job_id: str, request: dict[str, Any], providers: dict[str, Any]
    ) -> None:
        folder.mkdir(parents=True, exist_ok=False, mode=0o750)
        self.folder = folder
        self._started = time.monotonic()
        self._data: dict[str, Any] = {
            "schema": MANIFEST_SCHEMA,
            "job_id": job_id,
            "request": request,
            "providers": providers,
            "status": JobStatus.RUNNING.value,
            "created_at": _now_iso(),
            "finished_at": None,
            "elapsed_s": None,
            "artifacts": {},
            "stages": {},
            "remote_ids": {},
            "package_id": None,
            "is_loaded": False,
            "is_started": False,
            "error": None,
        }
        self.write()

    @property
    def data(self) -> dict[str, Any]:
        """A copy of the manifest's content."""
        copied: dict[str, Any] = json.loads(json.dumps(self._data))
        return copied

    def artifact_path(self, name: str) -> Path:
        return self.folder / name

    def add_artifact(self, key: str, filename: str, size: int) -> None:
        self._data["artifacts"][key] = {"file": filename, "bytes": size}

    def stage(
        self, stage: Stage, state: StageState, *, elapsed_s: float, attempts: int, detail: str = ""
    ) -> None:
        record = self._data["stages"].setdefault(stage.value, {"started_at": _now_iso()})
        record.update(state=state.value, elapsed_s=round(elapsed_s, 4), attempts=attempts)
        if detail:
            record["detail"] = detail

    def remote_id(self, name: str, value: str) -> None:
        self._data["remote_ids"][name] = value

    def set(self, **values: Any) -> None:
        """Top-level fields: ``package_id``, ``is_loaded``, ``is_started``."""
        self._data.update(values)

    def finish(self, status: JobStatus, error: GenerationError | None = None) -> None:
        self._data["status"] = status.value
        self._data["finished_at"] = _now_iso()
        self._data["elapsed_s"] = round(time.monotonic() - self._started, 4)
        self._data["error"] = None if error is None else error.to_dict()
        self.write()

    def write(self) -> None:
        text = json.dumps(self._data, indent=2, sort_keys=False) + "\n"
        write_atomically(self.folder / MANIFEST_NAME, text.encode())


def prune_jobs(jobs_dir: Path, keep: int) -> list[Path]:
    """Remove the oldest job folders so at most ``keep`` remain; only folders holding a
    manifest are touched. Returns the removed folders."""
    dated: list[tuple[float, Path]] = []
    try:
        for folder in jobs_dir.iterdir():
            try:
                dated.append(((folder / MANIFEST_NAME).stat().st_mtime, folder))
            except OSError:  # not a job folder, or gone meanwhile
                continue
    except OSError as exc:
        log.warning("cannot list job folders in %s: %s", jobs_dir, exc.strerror)
        return []
    dated.sort()
    removed = [folder for _, folder in dated[: max(0, len(dated) - keep)]]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed
