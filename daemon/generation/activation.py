"""What happens to an accepted package: the ``PackageActivator`` seam the caller passes in.

The generation job never touches the control process itself. The fleet layer decides how a
package is loaded and started (its ``startMotion`` also enables and ramps the robot first);
``ControlLinkActivator`` is the plain version: the library's track into ``load_track``, then
``START_TRACK`` (accepted only while the robot holds).
"""

from __future__ import annotations

from typing import Any, Protocol

from daemon.control.control_link import CommandKind, CommandResult, ControlLink
from daemon.library.motion_library import MotionLibrary, UnknownPackageError


class PackageActivator(Protocol):
    async def load(self, package_id: str) -> CommandResult:
        """Load the stored package into the control process."""
        ...

    async def start(self, package_id: str) -> CommandResult:
        """Start the loaded package (only with autoStart)."""
        ...


class ControlLinkActivator:
    """``PackageActivator`` straight over the ``ControlLink``."""

    def __init__(self, *, link: ControlLink, library: MotionLibrary) -> None:
        self._link = link
        self._library = library

    async def load(self, package_id: str) -> CommandResult:
        try:
            track = await self._library.track(package_id)
        except UnknownPackageError as exc:
            return CommandResult(False, str(exc))
        return await self._link.load_track(package_id, track)

    async def start(self, package_id: str) -> CommandResult:
        return await self._link.command(CommandKind.START_TRACK)


LOAD_MOTION_COMMAND = "load_motion"
"""Admin socket request ``{"command": "load_motion", "package_id": ID, "start": bool}``."""


async def answer_load_motion(
    request: dict[str, Any], activator: PackageActivator
) -> dict[str, Any]:
    """The admin socket's answer to ``load_motion`` (``{"ok": bool, "reason": str}``), for
    ``exoactor-edge generate --auto-start`` against a running service."""
    package_id = request.get("package_id")
    if not isinstance(package_id, str) or not package_id:
        return {"ok": False, "reason": "load_motion needs a package_id"}
    loaded = await activator.load(package_id)
    if not loaded.accepted or not request.get("start"):
        return {"ok": loaded.accepted, "reason": loaded.reason}
    started = await activator.start(package_id)
    return {"ok": started.accepted, "reason": started.reason}
