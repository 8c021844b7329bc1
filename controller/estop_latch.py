"""The persisted e-stop latch: an e-stop survives a crash or restart until explicitly reset.

The latch is a small JSON file written atomically (temporary file, fsync, rename, fsync of the
directory), so a power cut leaves either the old or the new content, never a torn file. Reading
it *fails closed*: only a file that is exactly a released latch of this schema reads as
released. A missing file reads as released only when no ``.tmp`` sibling is left behind (an
interrupted write may have been an engage). Anything else (unreadable, unparsable, another
schema, ``{"engaged": null}``, ``0``, ``[]``) reads as engaged, by an unknown origin, which
only the robot side may clear.

Writing never raises: a full or read-only disk must not cost the e-stop. The state is changed
in memory first; a failed write marks the latch *not durable*, records the error and is retried
by ``flush`` (at most every ``retry_s``). While not durable, ``is_durable`` is False and the
supervisor refuses reset and enable. The origin (who engaged it) is persisted beside the cause,
because it decides who may clear it (``may_reset``).
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SCHEMA = 2
"""Bumped whenever the file's meaning changes; any other value reads as engaged."""
RELEASED_CONTENT = {"schema": SCHEMA, "engaged": False}
"""The one content that reads as released."""


class EstopOrigin(enum.Enum):
    """Who engaged the e-stop; persisted, because it decides who may clear it."""

    REMOTE_KEY = "remote_key"
    """The robot's wireless remote (VDA 5050 ``MANUAL``)."""
    FLEET = "fleet"
    """A fleet instant action over MQTT (VDA 5050 ``REMOTE``)."""
    LOCAL = "local"
    """``exoactor-edge estop`` or another client of the robot's own admin socket."""
    PRODUCER = "producer"
    """A streaming producer's e-stop (teleoperation, VLA)."""
    UNKNOWN = "unknown"
    """An unreadable, interrupted or foreign latch file, or an unreadable e-stop message."""


class ResetRequester(enum.Enum):
    """Who asks to clear an e-stop. The robot side may clear any; the fleet only its own."""

    ROBOT = "robot"
    """The local command line / admin socket on the robot."""
    FLEET = "fleet"


ROBOT_SIDE_ORIGINS = frozenset({EstopOrigin.REMOTE_KEY, EstopOrigin.LOCAL, EstopOrigin.UNKNOWN})
"""Origins whose e-stop is acknowledged at the robot (reported as VDA 5050 ``MANUAL``)."""


def estop_message_id(payload: bytes) -> str:
    """The id of an e-stop request message: the same bytes arriving by two paths (the fleet's
    instantActions and its e-stop topic carry the same message) engage once."""
    return hashlib.sha256(payload).hexdigest()[:16]


def may_reset(origin: EstopOrigin, requester: ResetRequester, *, fleet_may_reset_robot_side: bool
              ) -> bool:  # fmt: skip
    """Whether ``requester`` may clear an e-stop engaged by ``origin``."""
    if requester is ResetRequester.ROBOT:
        return True
    return origin not in ROBOT_SIDE_ORIGINS or fleet_may_reset_robot_side


@dataclass(frozen=True)
class LatchState:
    engaged: bool
    cause: str = ""
    origin: EstopOrigin = EstopOrigin.UNKNOWN
    since_unix_s: float = 0.0

    def content(self) -> dict[str, object]:
        if not self.engaged:
            return dict(RELEASED_CONTENT)
        return {"schema": SCHEMA, "engaged": True, "cause": self.cause,
                "origin": self.origin.value, "since_unix_s": self.since_unix_s}  # fmt: skip


RELEASED = LatchState(engaged=False)


class EstopLatch:
    """Reads and writes the e-stop latch file; ``path=None`` keeps the latch in memory only.

    Args:
        path: The latch file (its directory must survive reboots), or None.
        retry_s: Least time between two attempts to write a latch that is not durable.
    """

    def __init__(self, path: Path | None, *, retry_s: float = 1.0) -> None:
        self._path = path
        self._retry_ns = int(retry_s * 1e9)
        self._state = RELEASED
        self._is_dirty = False
        self._retry_at_ns = 0
        self.write_error = ""
        """Why the last write failed ("" once the latch is durable)."""
        self.write_failures = 0

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def state(self) -> LatchState:
        return self._state

    @property
    def is_durable(self) -> bool:
        """True when the file says what the memory says (always True without a file)."""
        return not self._is_dirty

    def load(self) -> LatchState:
        """Read the latch at start-up; see the module docstring for what reads as engaged."""
        self._state = _read(self._path) if self._path is not None else RELEASED
        self._is_dirty = False
        return self._state

    def engage(self, cause: str, origin: EstopOrigin) -> bool:
        """Latch in memory, then persist. False (and not durable) when the write failed."""
        self._state = LatchState(engaged=True, cause=cause, origin=origin,
                                 since_unix_s=time.time())  # fmt: skip
        return self._persist()

    def release(self) -> bool:
        """Persist a released latch. On failure the latch stays engaged, in memory and on disk.

        The file is written first: only a durable release may clear the e-stop.
        """
        if not self._try_write(RELEASED):
            return False
        self._state = RELEASED
        self._is_dirty = False
        return True

    def flush(self) -> bool:
        """Retry a failed write when its retry time has come; True once durable.

        Cheap when there is nothing to do (called after every tick).
        """
        if not self._is_dirty:
            return True
        now_ns = time.monotonic_ns()
        if now_ns < self._retry_at_ns:
            return False
        self._retry_at_ns = now_ns + self._retry_ns
        if self._try_write(self._state):
            self._is_dirty = False
            log.warning("e-stop latch %s is durable again", self._path)
            return True
        return False

    def _persist(self) -> bool:
        self._is_dirty = True
        self._retry_at_ns = time.monotonic_ns() + self._retry_ns
        if self._try_write(self._state):
            self._is_dirty = False
            return True
        return False

    def _try_write(self, state: LatchState) -> bool:
        if self._path is None:
            return True
        try:
            _write_atomically(self._path, json.dumps(state.content()).encode("utf-8"))
        except OSError as exc:
            error = f"{exc.strerror or exc} ({self._path})"
            if error != self.write_error:
                log.critical("e-stop latch write failed: %s; the e-stop stays engaged", error)
            self.write_error = error
            self.write_failures += 1
            return False
        self.write_error = ""
        return True


def _read(path: Path) -> LatchState:
    tmp = _tmp_path(path)
    try:
        has_tmp = tmp.exists()
        if not path.exists():
            if has_tmp:
                return _engaged_unknown(path, f"an interrupted write left {tmp.name}")
            return RELEASED
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return _engaged_unknown(path, f"unreadable: {exc}")
    state = _parse(raw)
    if state is None:
        return _engaged_unknown(path, f"not a latch of schema {SCHEMA}: {str(raw)[:80]}")
    if has_tmp and not state.engaged:
        return _engaged_unknown(path, f"an interrupted write left {tmp.name}")
    return state


def _parse(raw: object) -> LatchState | None:
    """The latch in ``raw``, or None when it is not exactly a latch of this schema."""
    if not isinstance(raw, dict):
        return None
    schema = raw.get("schema")
    if type(schema) is not int or schema != SCHEMA:  # not 2.0, not True
        return None
    if raw.get("engaged") is False and raw.keys() == RELEASED_CONTENT.keys():
        return RELEASED
    if raw.get("engaged") is not True:
        return None
    cause, since = raw.get("cause"), raw.get("since_unix_s")
    try:
        origin = EstopOrigin(raw.get("origin"))
    except ValueError:
        origin = EstopOrigin.UNKNOWN
    return LatchState(
        engaged=True,
        cause=cause if isinstance(cause, str) else "",
        origin=origin,
        since_unix_s=float(since) if isinstance(since, (int, float)) else 0.0,
    )


def _engaged_unknown(path: Path, why: str) -> LatchState:
    log.error("e-stop latch %s: %s; treating it as engaged", path, why)
    return LatchState(engaged=True, cause="ESTOP_LATCHED", origin=EstopOrigin.UNKNOWN)


def _tmp_path(path: Path) -> Path:
    return path.with_name(path.name + ".tmp")


def _write_atomically(path: Path, payload: bytes) -> None:
    """Temporary file, fsync, rename, fsync of the directory. Raises OSError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_path(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        written = os.write(fd, payload)
        if written != len(payload):
            raise OSError(28, f"short write ({written} of {len(payload)} bytes)")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
