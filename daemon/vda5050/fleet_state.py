"""The robot as fleet control sees it: a sans-I/O model driven by actions, events and status.

Inputs: parsed instantActions (``receive``), command outcomes (``before_step``, ``step_done``,
``step_failed``), supervisor transitions (``on_event``) and status snapshots (``on_status``).
Outputs: ``Step``s for the executor to send to the control process, and the body of the VDA
5050 ``state`` message (``state_body``).

One motion action (``startMotion``) can be live at a time. Its VDA status follows the
supervisor: RUNNING while the robot tracks, PAUSED while paused, FINISHED when the track
completes (TRACK -> HOLD, cause TRACK_COMPLETE), FAILED when it is cancelled or when the
supervisor leaves to DAMP or ESTOP. Command results and mode events may arrive in either order;
each transition below is written so that both orders end in the same state.

VDA 5050 is not a safety standard: this model reports what the on-robot supervisor decides and
asks it for things; the supervisor stays the authority.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from daemon.control_link import CommandResult, ControlStatus, ModeEvent
from daemon.vda5050.actions import ActionType, ErrorType, InstantAction, ParsedInstantActions
from daemon.vda5050.config import FleetConfig
from daemon.vda5050.robot_view import (
    RELEVANT_INFO_LEVEL,
    RobotExtras,
    describe_cause,
    information,
    is_fault,
    is_manual_estop,
    operating_mode,
    power_supply,
    safety_state,
    status_errors,
)
from daemon.vda5050.tracker import ActionStatus, ActionTracker


class StepKind(enum.Enum):
    """One command to the control process (or the motion library) on behalf of an action."""

    LOAD = "load"
    ENABLE = "enable"
    START = "start"
    STOP = "stop"
    PAUSE = "pause"
    RESUME = "resume"
    RESET_ESTOP = "reset_estop"


@dataclass(frozen=True)
class Step:
    kind: StepKind
    action_id: str
    """The instant action this step works for."""
    package_id: str | None = None


@dataclass(frozen=True)
class Reaction:
    """What ``receive`` asks of the service besides the steps."""

    steps: tuple[Step, ...] = ()
    is_factsheet_requested: bool = False
    generations: tuple[InstantAction, ...] = ()
    """``generateMotion`` actions to run as jobs (minutes long: never in the step queue)."""
    is_generation_cancelled: bool = False
    """A ``cancelOrder`` asked to cancel the running generation jobs."""


class _Phase(enum.Enum):
    WAITING = "waiting"
    LOADING = "loading"
    ENABLING = "enabling"
    STARTING = "starting"
    TRACKING = "tracking"
    PAUSING = "pausing"
    PAUSED = "paused"
    RESUMING = "resuming"


_RETAINED_ID = "retained-instantActions"
"""The action id under which a refused retained instantActions message is reported."""

_UNDONE_BY_ESTOP = frozenset(
    {ActionType.RESET_EMERGENCY_STOP, ActionType.START_MOTION, ActionType.STOP_PAUSE}
)
"""Actions that would move the robot or clear the stop: never run after a later e-stop."""

_MOVING = frozenset({_Phase.STARTING, _Phase.TRACKING, _Phase.PAUSING, _Phase.RESUMING})
"""Phases in which the robot may be tracking, so a stop has to wait for HOLD."""


@dataclass
class _Motion:
    action_id: str
    package_id: str | None
    phase: _Phase = _Phase.WAITING
    has_started: bool = False


@dataclass
class _Flags:
    is_state_requested: bool = False
    is_paused: bool = False
    """VDA ``paused``: set by startPause (with or without a motion), cleared by stopPause."""


class FleetState:
    """The fleet-facing model of one robot. Not thread-safe: one event loop drives it."""

    def __init__(self, *, config: FleetConfig) -> None:
        self._config = config
        self.tracker = ActionTracker(capacity=config.instant_action_history)
        self._status = ControlStatus(is_alive=False)
        self._mode = "PASSIVE"
        self._cause = "STARTUP"
        self._motion: _Motion | None = None
        self._stopper: str | None = None
        """A cancelOrder/stopMotion that is RUNNING until the robot holds."""
        self._flags = _Flags()
        self._generating: set[str] = set()
        """Live ``generateMotion`` actions (their jobs run in the service)."""
        self._estops: dict[str, str] = {}
        """emergencyStop actions sent but not yet seen engaged, with their result text: they
        are FINISHED only in a state that already shows the e-stop."""
        self._is_generation_cancelled = False

    # ------------------------------------------------------------------ read-outs
    @property
    def mode(self) -> str:
        return self._mode

    @property
    def cause(self) -> str:
        return self._cause

    @property
    def is_paused(self) -> bool:
        return self._flags.is_paused

    @property
    def motion_action_id(self) -> str | None:
        """The live startMotion action, if any."""
        return self._motion.action_id if self._motion else None

    def take_state_request(self) -> bool:
        """True once after a stateRequest (the service then publishes state at once)."""
        requested, self._flags.is_state_requested = self._flags.is_state_requested, False
        return requested

    def state_body(self, extras: RobotExtras | None = None) -> dict[str, Any]:
        """The ``state`` message without its header."""
        extras = extras or RobotExtras()
        alive = self._status.is_alive
        return {
            "orderId": "",
            "orderUpdateId": 0,
            "lastNodeId": "",
            "lastNodeSequenceId": 0,
            "nodeStates": [],
            "edgeStates": [],
            "driving": self._mode == "TRACK",
            "paused": self._flags.is_paused,
            "actionStates": [],
            "instantActionStates": self.tracker.states(),
            "powerSupply": power_supply(extras),
            "operatingMode": operating_mode(is_alive=alive, extras=extras),
            "errors": status_errors(
                is_alive=alive,
                mode=self._mode,
                cause=self._cause,
                origin=self._status.estop_origin,
                latch_error=self._status.latch_error,
            )
            + self.tracker.errors(),
            "safetyState": safety_state(
                is_estopped=self._mode == "ESTOP",
                cause=self._cause,
                origin=self._status.estop_origin,
            ),
            "information": information(
                self._status,
                mode=self._mode,
                cause=self._cause,
                is_paused=self._flags.is_paused,
                extras=extras,
            ),
        }

    # ------------------------------------------------------------------ actions in
    def receive(self, parsed: ParsedInstantActions, *, estop_error: str | None = None) -> Reaction:
        """Take one parsed instantActions message.

        The service has already called ``ControlLink.estop`` when ``parsed.has_emergency_stop``;
        ``estop_error`` says why that failed, if it did. Actions whose id is already known
        (a redelivery) are ignored.
        """
        steps: list[Step] = []
        generations: list[InstantAction] = []
        self._is_generation_cancelled = False
        factsheet = False
        if parsed.has_emergency_stop:
            self._supersede_by_estop()
        for rejected in parsed.rejected:
            if not self.tracker.add(rejected.action_id, rejected.action_type):
                continue
            if rejected.action_type == ActionType.EMERGENCY_STOP.value and estop_error is None:
                self._await_estop(
                    rejected.action_id,
                    f"e-stop engaged, although the message was rejected: {rejected.description}",
                )
                continue
            self.tracker.fail(
                rejected.action_id, rejected.error_type, rejected.description, hint=rejected.hint
            )
        for action in parsed.actions:
            if not self.tracker.add(
                action.action_id, action.action_type.value, descriptor=action.descriptor
            ):
                continue
            if action.action_type is ActionType.FACTSHEET_REQUEST:
                factsheet = True
            if parsed.has_emergency_stop and action.action_type in _UNDONE_BY_ESTOP:
                self._refuse(
                    action.action_id, "not executed: the same message asks for an emergency stop"
                )
                continue
            if action.action_type is ActionType.GENERATE_MOTION:
                self.tracker.set(action.action_id, ActionStatus.INITIALIZING, "generation queued")
                self._generating.add(action.action_id)
                generations.append(action)
                continue
            steps.extend(self._begin(action, estop_error))
        self._finish_estops_if_engaged()
        return Reaction(tuple(steps), factsheet, tuple(generations), self._is_generation_cancelled)

    # ------------------------------------------------------------------ generation jobs
    def generation_progress(self, action_id: str, description: str) -> None:
        """A running ``generateMotion`` reports its stage and progress."""
        self.tracker.set(action_id, ActionStatus.RUNNING, description)

    def generation_finished(self, action_id: str, description: str) -> None:
        self._generating.discard(action_id)
        self.tracker.set(action_id, ActionStatus.FINISHED, description)

    def generation_failed(self, action_id: str, error_type: ErrorType, description: str) -> None:
        self._generating.discard(action_id)
        self.tracker.fail(action_id, error_type, description)

    def refuse_retained(self, parsed: ParsedInstantActions) -> None:
        """A retained instantActions message: reported once, none of its actions run."""
        ids = ", ".join(a.action_id for a in parsed.actions) or "none readable"
        self.tracker.add(_RETAINED_ID, "")
        estop_note = "; its emergencyStop is engaged at every connect"
        self.tracker.fail(
            _RETAINED_ID,
            ErrorType.VALIDATION,
            f"a retained instantActions message was refused (actions {ids}): retained commands "
            f"are never executed{estop_note if parsed.has_emergency_stop else ''}",
            hint="clear the retained message (publish an empty retained payload); never "
            "publish instantActions with the retain flag",
        )

    def _await_estop(self, action_id: str, result: str) -> None:
        self._estops[action_id] = result
        self.tracker.set(action_id, ActionStatus.RUNNING, "e-stop sent to the control process")

    def _finish_estops_if_engaged(self) -> None:
        if self._mode != "ESTOP" or not self._estops:
            return
        for action_id, result in self._estops.items():
            self.tracker.set(action_id, ActionStatus.FINISHED, result)
        self._estops.clear()

    def _supersede_by_estop(self) -> None:
        """An e-stop overtakes queued work (it is sent at once); work that would move the robot
        or clear the stop must then not run after it, as if it had come later."""
        for kind in _UNDONE_BY_ESTOP:
            for action_id in self.tracker.waiting(kind.value):
                self._refuse(action_id, "not executed: an emergency stop arrived before it ran")
        motion = self._motion
        if motion is not None and not motion.has_started:
            self._end_motion(ActionStatus.FAILED, "cancelled by an emergency stop")

    def _begin(self, action: InstantAction, estop_error: str | None) -> list[Step]:
        kind, action_id = action.action_type, action.action_id
        done = ActionStatus.FINISHED
        if kind is ActionType.EMERGENCY_STOP:
            if estop_error is None:
                self._await_estop(action_id, "e-stop engaged")
            else:
                self._refuse(action_id, f"e-stop could not be sent: {estop_error}", level="FATAL")
        elif kind is ActionType.STATE_REQUEST:
            self._flags.is_state_requested = True
            self.tracker.set(action_id, done)
        elif kind is ActionType.FACTSHEET_REQUEST:
            self.tracker.set(action_id, done)
        elif kind is ActionType.CLEAR_INSTANT_ACTIONS:
            self.tracker.clear_finished()
            self.tracker.set(action_id, done)
        elif kind is ActionType.LOAD_MOTION:
            if self._motion is not None:
                self._refuse(action_id, f"motion {self._motion.action_id} is live; stop it first")
                return []
            return [Step(StepKind.LOAD, action_id, action.text("packageId"))]
        elif kind is ActionType.START_MOTION:
            return self._begin_motion(action)
        elif kind in (ActionType.STOP_MOTION, ActionType.CANCEL_ORDER):
            return self._begin_stop(action)
        elif kind is ActionType.START_PAUSE:
            return self._begin_pause(action_id)
        elif kind is ActionType.STOP_PAUSE:
            return self._begin_unpause(action_id)
        elif kind is ActionType.RESET_EMERGENCY_STOP:
            if (
                self._mode == "ESTOP"
                and is_manual_estop(cause=self._cause, origin=self._status.estop_origin)
                and not self._config.may_reset_manual_estop
            ):
                self._refuse(
                    action_id,
                    "the e-stop was engaged at the robot (MANUAL); reset it at the robot",
                )
                return []
            return [Step(StepKind.RESET_ESTOP, action_id)]
        return []

    def _begin_motion(self, action: InstantAction) -> list[Step]:
        action_id = action.action_id
        if self._motion is not None:
            self._refuse(action_id, f"motion {self._motion.action_id} is live; stop it first")
            return []
        if self._flags.is_paused:
            self._refuse(action_id, "the robot is paused; send stopPause first")
            return []
        package_id = action.text("packageId")
        self._motion = _Motion(action_id, package_id)
        if package_id and package_id != self._status.loaded_package:
            return [Step(StepKind.LOAD, action_id, package_id)]
        return self._after_load(self._motion)

    def _begin_stop(self, action: InstantAction) -> list[Step]:
        motion, action_id = self._motion, action.action_id
        if motion is None:
            if action.action_type is ActionType.CANCEL_ORDER and self._generating:
                self._is_generation_cancelled = True
                self.tracker.set(action_id, ActionStatus.FINISHED, "generation cancelled")
                return []
            if action.action_type is ActionType.CANCEL_ORDER:
                self.tracker.fail(
                    action_id, ErrorType.NO_ORDER_TO_CANCEL, "no motion is running or pending"
                )
                return []
            # stopMotion also stops what was started elsewhere (command line, a stream).
            return [Step(StepKind.STOP, action_id)]
        if motion.phase in _MOVING:
            self._stopper = action_id
        else:
            self._end_motion(ActionStatus.FAILED, f"cancelled by {action.action_type.value}")
        return [Step(StepKind.STOP, action_id)]

    def _begin_pause(self, action_id: str) -> list[Step]:
        motion = self._motion
        if motion is not None and motion.phase in (_Phase.STARTING, _Phase.TRACKING):
            return [Step(StepKind.PAUSE, action_id)]
        self._flags.is_paused = True
        self.tracker.set(action_id, ActionStatus.FINISHED, "paused: no motion starts meanwhile")
        return []

    def _begin_unpause(self, action_id: str) -> list[Step]:
        motion = self._motion
        if motion is not None and motion.phase is _Phase.PAUSED:
            if motion.has_started:
                return [Step(StepKind.RESUME, action_id)]
            self._flags.is_paused = False
            self.tracker.set(action_id, ActionStatus.FINISHED, "pause ended; motion starts")
            return [Step(StepKind.START, motion.action_id)]
        self._flags.is_paused = False
        self.tracker.set(action_id, ActionStatus.FINISHED, "pause ended")
        return []

    # ------------------------------------------------------------------ step outcomes
    def before_step(self, step: Step) -> bool:
        """Called just before a step is sent. False: skip it (its action ended meanwhile)."""
        if not self.tracker.is_live(step.action_id):
            return False
        motion = self._motion_for(step)
        status = ActionStatus.INITIALIZING
        if step.kind is StepKind.LOAD and motion:
            motion.phase = _Phase.LOADING
        elif step.kind is StepKind.ENABLE and motion:
            motion.phase = _Phase.ENABLING
        elif step.kind is StepKind.START and motion:
            motion.phase = _Phase.STARTING
        elif step.kind is StepKind.PAUSE:
            motion = self._motion
            if motion is None or motion.phase not in (_Phase.STARTING, _Phase.TRACKING):
                self._flags.is_paused = True
                self.tracker.set(step.action_id, ActionStatus.FINISHED, "paused")
                return False
            motion.phase, status = _Phase.PAUSING, ActionStatus.RUNNING
        elif step.kind is StepKind.RESUME:
            motion = self._motion
            if motion is None or motion.phase is not _Phase.PAUSED:
                self._flags.is_paused = False
                self.tracker.set(step.action_id, ActionStatus.FINISHED, "pause ended")
                return False
            motion.phase, status = _Phase.RESUMING, ActionStatus.RUNNING
        elif step.kind in (StepKind.STOP, StepKind.RESET_ESTOP):
            status = ActionStatus.RUNNING
        current = self.tracker.status(step.action_id)
        if current in (ActionStatus.WAITING, ActionStatus.PAUSED) or status is ActionStatus.RUNNING:
            self.tracker.set(step.action_id, status)
        return True

    def step_done(self, step: Step, result: CommandResult) -> list[Step]:
        """The control process answered the step's command; returns follow-up steps."""
        handler = {
            StepKind.LOAD: self._loaded,
            StepKind.ENABLE: self._enabled,
            StepKind.START: self._started,
            StepKind.STOP: self._stopped,
            StepKind.PAUSE: self._paused,
            StepKind.RESUME: self._resumed,
            StepKind.RESET_ESTOP: self._reset,
        }[step.kind]
        return handler(step, result)

    def step_failed(
        self, step: Step, error_type: ErrorType, description: str, hint: str = ""
    ) -> None:
        """A step could not be carried out (e.g. the package is unknown)."""
        if self._motion_for(step) is not None:
            self._motion = None
        self.tracker.fail(step.action_id, error_type, description, hint=hint)

    def _loaded(self, step: Step, result: CommandResult) -> list[Step]:
        motion = self._motion_for(step)
        if not result.accepted:
            self._refuse(step.action_id, f"loading {step.package_id} refused: {result.reason}")
            if motion is not None:
                self._motion = None
            return []
        if motion is None:
            self.tracker.set(step.action_id, ActionStatus.FINISHED, f"loaded {step.package_id}")
            return []
        return self._after_load(motion)

    def _enabled(self, step: Step, result: CommandResult) -> list[Step]:
        if not result.accepted and self._motion_for(step) is not None:
            self._refuse(step.action_id, f"enable refused: {result.reason}")
            self._motion = None
        return []

    def _started(self, step: Step, result: CommandResult) -> list[Step]:
        motion = self._motion_for(step)
        if motion is None:
            return []
        if not result.accepted:
            self._refuse(step.action_id, f"start refused: {result.reason}")
            self._motion = None
            return []
        motion.has_started = True
        if motion.phase is _Phase.STARTING:
            motion.phase = _Phase.TRACKING
            self.tracker.set(step.action_id, ActionStatus.RUNNING)
        return []

    def _stopped(self, step: Step, result: CommandResult) -> list[Step]:
        if step.action_id == self._stopper and result.accepted:
            return []  # FINISHED when the robot holds (``on_event``)
        if step.action_id == self._stopper:
            self._stopper = None
        text = "stopped; holding" if result.accepted else "no motion was tracking"
        self.tracker.set(step.action_id, ActionStatus.FINISHED, text)
        return []

    def _paused(self, step: Step, result: CommandResult) -> list[Step]:
        motion = self._motion
        if not result.accepted:
            # The control process pauses only a running track: nothing was running by the
            # time the pause arrived (the track ended, or a fault stopped it; its own event
            # says which). The robot is paused all the same, as a pause of an idle robot is,
            # so the outcome does not depend on which came first.
            self._flags.is_paused = True
            self.tracker.set(
                step.action_id,
                ActionStatus.FINISHED,
                f"paused; no motion was running ({result.reason})",
            )
            if motion is not None and motion.phase is _Phase.PAUSING:
                motion.phase = _Phase.TRACKING
            return []
        self._flags.is_paused = True
        self.tracker.set(step.action_id, ActionStatus.FINISHED, "paused")
        if motion is not None and motion.phase in (_Phase.PAUSING, _Phase.PAUSED):
            motion.phase = _Phase.PAUSED
            self.tracker.set(motion.action_id, ActionStatus.PAUSED)
        return []

    def _resumed(self, step: Step, result: CommandResult) -> list[Step]:
        motion = self._motion
        if not result.accepted:
            self._refuse(step.action_id, f"resume refused: {result.reason}")
            if motion is not None and motion.phase is _Phase.RESUMING:
                motion.phase = _Phase.PAUSED
            return []
        self._flags.is_paused = False
        self.tracker.set(step.action_id, ActionStatus.FINISHED, "resumed")
        if motion is not None and motion.phase is _Phase.RESUMING:
            motion.phase = _Phase.TRACKING
            self.tracker.set(motion.action_id, ActionStatus.RUNNING)
        return []

    def _reset(self, step: Step, result: CommandResult) -> list[Step]:
        if result.accepted:
            self.tracker.set(step.action_id, ActionStatus.FINISHED, "e-stop reset; robot damped")
        else:
            self._refuse(step.action_id, f"reset refused: {result.reason}")
        return []

    def _after_load(self, motion: _Motion) -> list[Step]:
        """Decide how a motion whose track is loaded gets going, from the current mode."""
        if not self._status.is_alive:
            self._fail_motion(ErrorType.CONTROL_PROCESS_DOWN, "the control process is not running")
        elif self._mode in ("PASSIVE", "DAMP"):
            if self._config.may_enable:
                return [Step(StepKind.ENABLE, motion.action_id)]
            self._fail_motion(ErrorType.ACTION_REFUSED, f"robot is {self._mode}; enable it first")
        elif self._mode == "RAMP":
            motion.phase = _Phase.ENABLING
            self.tracker.set(motion.action_id, ActionStatus.INITIALIZING)
        elif self._mode == "HOLD":
            return self._start_unless_paused(motion)
        elif self._mode == "ESTOP":
            self._fail_motion(ErrorType.EMERGENCY_STOP, "e-stop engaged; reset it first")
        else:
            self._fail_motion(ErrorType.ACTION_REFUSED, f"robot is {self._mode}; cannot start")
        return []

    def _start_unless_paused(self, motion: _Motion) -> list[Step]:
        if self._flags.is_paused:
            motion.phase = _Phase.PAUSED
            self.tracker.set(motion.action_id, ActionStatus.PAUSED, "paused before it started")
            return []
        return [Step(StepKind.START, motion.action_id)]

    # ------------------------------------------------------------------ control process in
    def on_event(self, event: ModeEvent) -> list[Step]:
        """A supervisor transition; returns follow-up steps (start after the ramp)."""
        self._mode, self._cause = event.mode, event.cause
        motion = self._motion
        steps: list[Step] = []
        if motion is not None:
            steps = self._motion_event(motion, event)
        if self._stopper is not None and self._motion is None and event.mode != "TRACK":
            self.tracker.set(self._stopper, ActionStatus.FINISHED, f"robot is {event.mode}")
            self._stopper = None
        self._finish_estops_if_engaged()
        return steps

    def _motion_event(self, motion: _Motion, event: ModeEvent) -> list[Step]:
        mode, cause, phase = event.mode, event.cause, motion.phase
        if mode in ("DAMP", "ESTOP", "PASSIVE"):
            self._end_motion(
                ActionStatus.FAILED,
                f"interrupted: supervisor went to {mode} ({cause}: {describe_cause(cause)})",
            )
        elif mode == "TRACK" and phase in (_Phase.STARTING, _Phase.RESUMING):
            motion.phase, motion.has_started = _Phase.TRACKING, True
            self.tracker.set(motion.action_id, ActionStatus.RUNNING)
        elif mode != "HOLD":
            pass
        elif cause == "TRACK_COMPLETE" and (
            phase in _MOVING or (phase is _Phase.PAUSED and motion.has_started)
        ):
            # PAUSED too: a pause acknowledged before the track's own end arrives (the pause
            # landed after the last frame, and the control process completed the track).
            self._end_motion(ActionStatus.FINISHED, "motion complete")
        elif cause == "RAMP_COMPLETE" and phase is _Phase.ENABLING:
            return self._start_unless_paused(motion)
        elif cause == "TRACK_STOPPED" and phase is _Phase.PAUSING:
            motion.phase = _Phase.PAUSED
            self._flags.is_paused = True
            self.tracker.set(motion.action_id, ActionStatus.PAUSED)
        elif (
            phase in (_Phase.STARTING, _Phase.TRACKING, _Phase.RESUMING)
            and cause != "RAMP_COMPLETE"
        ):
            if is_fault(cause):
                text = f"interrupted: {describe_cause(cause)} ({cause})"
            elif self._stopper is not None:
                text = f"cancelled by {self._stopper}"
            else:
                text = "stopped outside the fleet interface"
            self._end_motion(ActionStatus.FAILED, text)
        return []

    def on_status(self, status: ControlStatus) -> None:
        """A status snapshot. Only its edges move the model: snapshots may lag the events."""
        previous, self._status = self._status, status
        if previous.is_alive and not status.is_alive and self._motion is not None:
            self._end_motion(ActionStatus.FAILED, "interrupted: the control process stopped")
        if status.mode != previous.mode or status.is_alive != previous.is_alive:
            self._mode, self._cause = status.mode, status.last_cause
            self._finish_estops_if_engaged()
        if status.is_paused != previous.is_paused:
            self._flags.is_paused = status.is_paused

    # ------------------------------------------------------------------ helpers
    def _motion_for(self, step: Step) -> _Motion | None:
        motion = self._motion
        return motion if motion is not None and motion.action_id == step.action_id else None

    def _end_motion(self, status: ActionStatus, result: str) -> None:
        if self._motion is not None:
            self.tracker.set(self._motion.action_id, status, result)
            self._motion = None

    def _fail_motion(self, error_type: ErrorType, description: str) -> None:
        if self._motion is not None:
            self.tracker.fail(self._motion.action_id, error_type, description)
            self._motion = None

    def _refuse(self, action_id: str, description: str, *, level: str = "WARNING") -> None:
        self.tracker.fail(action_id, ErrorType.ACTION_REFUSED, description, level=level)


def relevant_part(body: dict[str, Any]) -> dict[str, Any]:
    """The part of a state body whose change warrants a message now (figures excluded)."""
    relevant = dict(body)
    relevant["information"] = [
        i for i in body.get("information", []) if i.get("infoLevel") == RELEVANT_INFO_LEVEL
    ]
    return relevant
