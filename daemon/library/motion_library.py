"""Where the daemon's motions come from: validated, stored packages turned into tracks.

The fleet interface (MQTT ``motionPackages`` topic, ``loadMotion`` action), the ZeroMQ upload
endpoint and the command line all go through one ``MotionLibrary``, so every package meets the
same validation and lands in the same store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from estimators.track import ReferenceTrack


@dataclass(frozen=True)
class IngestResult:
    """The answer to an upload: accepted with an id, or rejected with a stable code."""

    accepted: bool
    package_id: str | None = None
    code: str | None = None
    """The validation error code (``PackageRejectedError.code``) when rejected."""
    field: str | None = None
    detail: str = ""
    already_stored: bool = False
    """Accepted because the same package (same id, same digest) is already stored: nothing was
    validated again or written."""


class UnknownPackageError(KeyError):
    """No accepted package has this id."""

    def __init__(self, package_id: str) -> None:
        self.package_id = package_id
        super().__init__(f"no motion package {package_id!r} in the store")


class MotionLibrary(Protocol):
    async def submit(self, data: bytes, *, source: str) -> IngestResult:
        """Validate and store a package (atomically; acknowledged means it survives a restart).
        A rejected package changes nothing. A stored id is immutable: the same package again
        answers ``already_stored``, another package under that id is refused."""
        ...

    async def track(self, package_id: str) -> ReferenceTrack:
        """The package's 50 Hz reference track, with the PD tracker's feed-forward attached.
        Raises ``UnknownPackageError``. CPU-heavy work runs off the event loop."""
        ...

    def package_ids(self) -> list[str]: ...
