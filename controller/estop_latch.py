"""The persisted e-stop latch: an e-stop survives a crash or restart until explicitly reset.

The latch is a small JSON file written atomically (temporary file, fsync, rename, fsync of the
directory), so a power cut leaves either the old or the new content, never a torn file. A latch
file that exists but cannot be read or parsed counts as *engaged*: when in doubt, stay stopped.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LatchState:
    engaged: bool
    cause: str = ""
    since_unix_s: float = 0.0


class EstopLatch:
    """Reads and writes the e-stop latch file; ``path=None`` keeps the latch in memory only."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._state = LatchState(engaged=False)

    @property
    def path(self) -> Path | None:
        return self._path

    def load(self) -> LatchState:
        """Read the latch at start-up. Missing file: released. Unreadable file: engaged."""
        if self._path is None or not self._path.exists():
            self._state = LatchState(engaged=False)
            return self._state
        try:
            raw = json.loads(self._path.read_text(encoding="utf-8"))
            self._state = LatchState(
                engaged=bool(raw["engaged"]),
                cause=str(raw.get("cause", "")),
                since_unix_s=float(raw.get("since_unix_s", 0.0)),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.error("e-stop latch %s is unreadable (%s): treating it as engaged", self._path, exc)
            self._state = LatchState(engaged=True, cause=f"latch file unreadable: {exc}")
        return self._state

    def engage(self, cause: str) -> None:
        self._state = LatchState(engaged=True, cause=cause, since_unix_s=time.time())
        self._write()

    def release(self) -> None:
        self._state = LatchState(engaged=False)
        self._write()

    def _write(self) -> None:
        if self._path is None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_name(self._path.name + ".tmp")
        payload = json.dumps(self._state.__dict__).encode("utf-8")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, payload)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self._path)
        dir_fd = os.open(self._path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
