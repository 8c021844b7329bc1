"""The robot as fleet control sees it: a sans-I/O model driven by actions, events and status.

Inputs: parsed instantActions (``receive``), command outcomes (``before_step``, ``step_done``,
``step_failed``), supervisor transitions (``on_event``) and status snapshots (``on_status``).
Outputs: ``Step``s for the executor to send to the control process, and the body of the VDA
5050 ``state`` message (``state_body``).

This module is the state model and the dispatch of actions; the live motion (start, stop,
pause, resume, load) is ``daemon.vda5050.motion_control``, the parts share a
``daemon.vda5050.robot_model.RobotModel``.

VDA 5050 is not a safety standard: this model reports what the on-robot supervisor decides and
asks it for things; the supervisor stays the authority.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from daemon.control_link import CommandResult, ControlStatus, ModeEvent
from daemon.vda5050.actions import ActionType, ErrorType, InstantAction, ParsedInstantActions
from daemon.vda5050.config import FleetConfig
from daemon.vda5050.error_book import ErrorBook, ErrorGroup, error_entry
from daemon.vda5050.motion_control import MotionControl
from daemon.vda5050.robot_model import RobotModel
from daemon.vda5050.robot_view import (
    RELEVANT_INFO_LEVEL,
    RobotExtras,
    information,
    is_manual_estop,
    operating_mode,
    power_supply,
    safety_state,
    status_errors,
)
from daemon.vda5050.steps import Reaction, Step, StepKind
from daemon.vda5050.tracker import ActionStatus, ActionTracker

__all__ = ["FleetState", "Reaction", "Step", "StepKind", "relevant_part"]

_RETAINED_ID = "retained-instantActions"
"""The action id under which a refused retained instantActions message is reported."""

_UNDONE_BY_ESTOP = frozenset(
    {ActionType.RESET_EMERGENCY_STOP, ActionType.START_MOTION, ActionType.STOP_PAUSE}
)
"""Actions that would move the robot or clear the stop: never run after a later e-stop."""


class FleetState:
    """The fleet-facing model of one robot. Not thread-safe: one event loop drives it.

    Args:
        config: Limits, lifetimes and what the fleet may do.
        clock: Monotonic seconds (error lifetimes); tests pin it.
    """

    def __init__(self, *, config: FleetConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self._config = config
        tracker = ActionTracker(
            capacity=config.instant_action_history,
            error_ttl_s=config.error_ttl_s,
            max_errors=config.max_action_errors,
            clock=clock,
        )
        self._robot = RobotModel(config=config, tracker=tracker)
        self.tracker = tracker
        self.errors = ErrorBook(
            ttl_s=config.error_ttl_s, max_entries=config.max_action_errors, clock=clock
        )
        self._motion = MotionControl(self._robot)
        self._generating: set[str] = set()
        """Live ``generateMotion`` actions (their jobs run in the service)."""
        self._estops: dict[str, str] = {}
        """emergencyStop actions sent but not yet seen engaged, with their result text: they
        are FINISHED only in a state that already shows the e-stop."""
        self._is_generation_cancelled = False

    # ------------------------------------------------------------------ read-outs
    @property
    def mode(self) -> str:
        return self._robot.mode

    @property
    def cause(self) -> str:
        return self._robot.cause

    @property
    def is_paused(self) -> bool:
        return self._robot.is_paused

    @property
    def motion_action_id(self) -> str | None:
        """The live startMotion action, if any."""
        return self._motion.action_id

    def take_state_request(self) -> bool:
        """True once after a stateRequest (the service then publishes state at once)."""
        requested, self._robot.is_state_requested = self._robot.is_state_requested, False
        return requested

    def state_body(self, extras: RobotExtras | None = None) -> dict[str, Any]:
        """The ``state`` message without its header."""
        extras = extras or RobotExtras()
        robot = self._robot
        status, mode, cause = robot.status, robot.mode, robot.cause
        return {
            "orderId": "",
            "orderUpdateId": 0,
            "lastNodeId": "",
            "lastNodeSequenceId": 0,
            "nodeStates": [],
            "edgeStates": [],
            "driving": mode == "TRACK",
            "paused": robot.is_paused,
            "actionStates": [],
            "instantActionStates": self.tracker.states(),
            "powerSupply": power_supply(extras),
            "operatingMode": operating_mode(is_alive=status.is_alive, extras=extras),
            "errors": status_errors(
                is_alive=status.is_alive,
                mode=mode,
                cause=cause,
                origin=status.estop_origin,
                latch_error=status.latch_error,
            )
            + self.errors.errors(ErrorGroup.ORDER)
            + self.tracker.errors()
            + self.errors.errors(ErrorGroup.MESSAGE),
            "safetyState": safety_state(
                is_estopped=mode == "ESTOP", cause=cause, origin=status.estop_origin
            ),
            "information": information(
                status, mode=mode, cause=cause, is_paused=robot.is_paused, extras=extras
            ),
        }

    # ------------------------------------------------------------------ actions in
    def receive(self, parsed: ParsedInstantActions, *, estop_error: str | None = None) -> Reaction:
        """Take one parsed instantActions message.

        The service has already called ``ControlLink.estop`` when ``parsed.has_emergency_stop``;
        ``estop_error`` says why that failed, if it did. An action whose id is already known
        is not executed: silently when it is the same action from the same message (a
        redelivery), with a ``duplicateActionId`` error when a new message reuses the id.
        """
        steps: list[Step] = []
        generations: list[InstantAction] = []
        self._is_generation_cancelled = False
        factsheet = False
        if parsed.has_emergency_stop:
            self._supersede_by_estop()
        for rejected in parsed.rejected:
            identity = (parsed.timestamp, rejected.fingerprint)
            if not self._admit(rejected.action_id, rejected.action_type, identity):
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
            identity = (parsed.timestamp, action.fingerprint)
            kind = action.action_type.value
            if not self._admit(action.action_id, kind, identity, action.descriptor):
                continue
            if action.action_type is ActionType.FACTSHEET_REQUEST:
                factsheet = True
            if parsed.has_emergency_stop and action.action_type in _UNDONE_BY_ESTOP:
                self._robot.refuse(
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

    def _admit(
        self,
        action_id: str,
        action_type: str,
        identity: tuple[str, str],
        descriptor: str | None = None,
    ) -> bool:
        """Record a new action; False when its id is known (a redelivery, or a reuse)."""
        if self.tracker.add(action_id, action_type, descriptor=descriptor, identity=identity):
            return True
        if self.tracker.identity(action_id) != identity:
            known = self.tracker.action_type(action_id) or "an action"
            self.errors.add(
                ErrorGroup.MESSAGE,
                f"duplicate:{action_id}",
                error_entry(
                    ErrorType.DUPLICATE_ACTION_ID.value,
                    f"actionId {action_id!r} was already used by {known} in an earlier "
                    f"message; this {action_type or 'action'} was not executed",
                    hint="give every action a new actionId (VDA 5050 suggests a UUID)",
                    references={"actionId": action_id, "actionType": action_type or "?"},
                ),
            )
        return False

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
        if self._robot.mode != "ESTOP" or not self._estops:
            return
        for action_id, result in self._estops.items():
            self.tracker.set(action_id, ActionStatus.FINISHED, result)
        self._estops.clear()

    def _supersede_by_estop(self) -> None:
        """An e-stop overtakes queued work (it is sent at once); work that would move the robot
        or clear the stop must then not run after it, as if it had come later."""
        for kind in _UNDONE_BY_ESTOP:
            for action_id in self.tracker.waiting(kind.value):
                self._robot.refuse(
                    action_id, "not executed: an emergency stop arrived before it ran"
                )
        self._motion.cancel_unstarted("cancelled by an emergency stop")

    def _begin(self, action: InstantAction, estop_error: str | None) -> list[Step]:
        kind, action_id, robot = action.action_type, action.action_id, self._robot
        done = ActionStatus.FINISHED
        if kind is ActionType.EMERGENCY_STOP:
            if estop_error is None:
                self._await_estop(action_id, "e-stop engaged")
            else:
                robot.refuse(action_id, f"e-stop could not be sent: {estop_error}", level="FATAL")
        elif kind is ActionType.STATE_REQUEST:
            robot.is_state_requested = True
            self.tracker.set(action_id, done)
        elif kind is ActionType.FACTSHEET_REQUEST:
            self.tracker.set(action_id, done)
        elif kind is ActionType.CLEAR_INSTANT_ACTIONS:
            self.tracker.clear_finished()
            self.tracker.set(action_id, done)
        elif kind is ActionType.LOAD_MOTION:
            return self._motion.begin_load(action)
        elif kind is ActionType.START_MOTION:
            return self._motion.begin_motion(action)
        elif kind in (ActionType.STOP_MOTION, ActionType.CANCEL_ORDER):
            return self._begin_stop(action)
        elif kind is ActionType.START_PAUSE:
            return self._motion.begin_pause(action_id)
        elif kind is ActionType.STOP_PAUSE:
            return self._motion.begin_unpause(action_id)
        elif kind is ActionType.RESET_EMERGENCY_STOP:
            return self._begin_reset(action_id)
        return []

    def _begin_stop(self, action: InstantAction) -> list[Step]:
        if action.action_type is ActionType.CANCEL_ORDER and self._motion.action_id is None:
            if self._generating:
                self._is_generation_cancelled = True
                self.tracker.set(action.action_id, ActionStatus.FINISHED, "generation cancelled")
                return []
            self.tracker.fail(
                action.action_id, ErrorType.NO_ORDER_TO_CANCEL, "no motion is running or pending"
            )
            return []
        return self._motion.begin_stop(action)

    def _begin_reset(self, action_id: str) -> list[Step]:
        robot = self._robot
        if (
            robot.mode == "ESTOP"
            and is_manual_estop(cause=robot.cause, origin=robot.status.estop_origin)
            and not self._config.may_reset_manual_estop
        ):
            robot.refuse(
                action_id, "the e-stop was engaged at the robot (MANUAL); reset it at the robot"
            )
            return []
        return [Step(StepKind.RESET_ESTOP, action_id)]

    # ------------------------------------------------------------------ step outcomes
    def before_step(self, step: Step) -> bool:
        """Called just before a step is sent. False: skip it (its action ended meanwhile)."""
        return self._motion.before_step(step)

    def step_done(self, step: Step, result: CommandResult) -> list[Step]:
        """The control process answered the step's command; returns follow-up steps."""
        return self._motion.step_done(step, result)

    def step_failed(
        self, step: Step, error_type: ErrorType, description: str, hint: str = ""
    ) -> None:
        """A step could not be carried out (e.g. the package is unknown)."""
        self._motion.step_failed(step, error_type, description, hint)

    # ------------------------------------------------------------------ control process in
    def on_event(self, event: ModeEvent) -> list[Step]:
        """A supervisor transition; returns follow-up steps (start after the ramp)."""
        self._robot.mode, self._robot.cause = event.mode, event.cause
        steps = self._motion.on_event(event)
        self._finish_estops_if_engaged()
        return steps

    def on_status(self, status: ControlStatus) -> None:
        """A status snapshot. Only its edges move the model: snapshots may lag the events."""
        robot = self._robot
        previous, robot.status = robot.status, status
        self._motion.on_status(previous, status)
        if status.mode != previous.mode or status.is_alive != previous.is_alive:
            robot.mode, robot.cause = status.mode, status.last_cause
            self._finish_estops_if_engaged()
        if status.is_paused != previous.is_paused:
            robot.is_paused = status.is_paused


def relevant_part(body: dict[str, Any]) -> dict[str, Any]:
    """The part of a state body whose change warrants a message now (figures excluded)."""
    relevant = dict(body)
    relevant["information"] = [
        i for i in body.get("information", []) if i.get("infoLevel") == RELEVANT_INFO_LEVEL
    ]
    return relevant
