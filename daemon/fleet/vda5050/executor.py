"""Carries out ``FleetState``'s steps against the ``ControlLink`` and the ``MotionLibrary``.

No sockets here: the link and the library are Protocols, so tests drive this with fakes. Steps
run one at a time in the order they were asked for; a step's follow-ups (load, then start)
run before the next queued step. The e-stop never comes through here: the fleet service sends
it straight from its message handler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from daemon.control.control_link import CommandKind, CommandResult, ControlLink
from daemon.fleet.vda5050.actions import ErrorType
from daemon.fleet.vda5050.fleet_state import FleetState
from daemon.fleet.vda5050.steps import Step, StepKind
from daemon.library.motion_library import MotionLibrary, UnknownPackageError

log = logging.getLogger(__name__)

_COMMANDS = {
    StepKind.ENABLE: CommandKind.ENABLE,
    StepKind.START: CommandKind.START_TRACK,
    StepKind.STOP: CommandKind.STOP_TRACK,
    StepKind.PAUSE: CommandKind.PAUSE,
    StepKind.RESUME: CommandKind.RESUME,
    StepKind.RESET_ESTOP: CommandKind.RESET_ESTOP,
}


class StepRunner:
    """Runs steps for one ``FleetState``.

    Args:
        state: The model that decides what each outcome means.
        link: The control process.
        library: Where packages become tracks.
        on_change: Called whenever the state may have changed (the service then publishes).
    """

    def __init__(
        self,
        *,
        state: FleetState,
        link: ControlLink,
        library: MotionLibrary,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self._state = state
        self._link = link
        self._library = library
        self._on_change = on_change

    async def run(self, step: Step) -> None:
        """Run ``step`` and every follow-up step it leads to."""
        pending = [step]
        while pending:
            current = pending.pop(0)
            if not self._state.before_step(current):
                self._on_change()
                continue
            self._on_change()
            pending[:0] = await self._execute(current)
            self._on_change()

    async def _execute(self, step: Step) -> list[Step]:
        if step.kind is StepKind.LOAD:
            result = await self._load(step)
            if not isinstance(result, CommandResult):
                return result  # failed: the follow-ups (an order's next action) run instead
        else:
            result = await self._link.command(_COMMANDS[step.kind])
        log.info(
            "fleet step %s for %s: %s %s",
            step.kind.value,
            step.action_id,
            "accepted" if result.accepted else "refused",
            result.reason,
        )
        return self._state.step_done(step, result)

    async def _load(self, step: Step) -> CommandResult | list[Step]:
        """The link's answer to loading the track, or (it could not be built) the follow-ups."""
        package_id = step.package_id
        if not package_id:
            return self._state.step_failed(
                step, ErrorType.INVALID_PARAMETER, "no packageId to load"
            )
        try:
            track = await self._library.track(package_id)
        except UnknownPackageError:
            return self._state.step_failed(
                step,
                ErrorType.UNKNOWN_PACKAGE,
                f"no motion package {package_id!r} in the store",
                "upload it on the motionPackages topic (or over ZeroMQ) first",
            )
        # The boundary: the library's own errors (re-validation, store I/O) are not part of
        # the MotionLibrary Protocol; whichever it is, it fails this action with its message.
        except Exception as exc:
            return self._state.step_failed(
                step, ErrorType.ACTION_REFUSED, f"package {package_id!r} unusable: {exc}"
            )
        return await self._link.load_track(package_id, track)
