"""The robot as fleet control sees it: a sans-I/O model driven by actions, events and status.

Inputs: parsed instantActions (``receive``) and orders (``receive_order``, ``order_rejected``),
command outcomes (``before_step``, ``step_done``, ``step_failed``), supervisor transitions
(``on_event``), status snapshots (``on_status``) and generation jobs (``generation_*``).
Outputs: ``Step``s for the executor to send to the control process (returned, or left for
``take_pending`` where the caller cannot take them), generation jobs to start, and the body of
the VDA 5050 ``state`` message (``state_body``).

This module is the state model and routes the inputs: instant actions are begun by
``daemon.fleet.vda5050.action_dispatch``, the live motion (start, stop, pause, resume, load) is
``daemon.fleet.vda5050.motion_control``, the order and the sequence of its actions
``daemon.fleet.vda5050.order_control``; the parts share a
``daemon.fleet.vda5050.robot_model.RobotModel``. Errors and their lifetimes:
``daemon.fleet.vda5050.error_book``.

VDA 5050 is not a safety standard: this model reports what the on-robot supervisor decides and
asks it for things; the supervisor stays the authority.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from daemon.control.control_link import CommandResult, ControlStatus, ModeEvent
from daemon.fleet.vda5050.action_dispatch import ActionDispatch
from daemon.fleet.vda5050.actions import ActionType, ErrorType, InstantAction, ParsedInstantActions
from daemon.fleet.vda5050.config import FleetConfig
from daemon.fleet.vda5050.error_book import ErrorBook, ErrorGroup
from daemon.fleet.vda5050.motion_control import MotionControl
from daemon.fleet.vda5050.order_control import OrderControl
from daemon.fleet.vda5050.orders import Order, OrderErrorType, OrderRejection
from daemon.fleet.vda5050.robot_model import RobotModel
from daemon.fleet.vda5050.robot_view import (
    RELEVANT_INFO_LEVEL,
    RobotExtras,
    information,
    operating_mode,
    power_supply,
    safety_state,
    status_errors,
)
from daemon.fleet.vda5050.steps import Reaction, Step, StepKind
from daemon.fleet.vda5050.tracker import ActionStatus, ActionTracker

__all__ = ["FleetState", "Reaction", "Step", "StepKind", "relevant_part"]


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
        self._orders = OrderControl(self._robot, station_node_id=config.station_node_id)
        self._actions = ActionDispatch(
            robot=self._robot, motion=self._motion, orders=self._orders, errors=self.errors
        )
        self._pending_steps: list[Step] = []

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
            **self._orders.state_fields(),
            "driving": mode == "TRACK",
            "paused": robot.is_paused,
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
        return self._actions.receive(parsed, estop_error=estop_error)

    def refuse_retained(self, parsed: ParsedInstantActions) -> None:
        """A retained instantActions message: reported once, none of its actions run."""
        self._actions.refuse_retained(parsed)

    def receive_order(self, order: Order) -> Reaction:
        """Take one parsed order: accepted (its actions start in sequence), ignored (the
        update already held, resent), or rejected with a VDA 5050 error."""
        outcome = self._orders.accept(order)
        if isinstance(outcome, OrderRejection):
            self.order_rejected(outcome)
            return Reaction()
        if outcome:
            self.errors.clear(ErrorGroup.ORDER)  # VDA 5050: "until a new order is accepted"
        steps = self._actions.advance()
        return Reaction(tuple(steps), generations=tuple(self._actions.take_generations()))

    def order_rejected(self, rejection: OrderRejection) -> None:
        """An order refused: its error is listed until an order is accepted; a newer refusal
        of the same type replaces it."""
        self.errors.add(ErrorGroup.ORDER, _order_error_key(rejection.error_type), rejection.error())

    def take_pending(self) -> Reaction:
        """Steps and generation jobs that inputs without a return value (status snapshots,
        generation outcomes) or the executor's callbacks left to start."""
        steps, self._pending_steps = self._pending_steps, []
        return Reaction(tuple(steps), generations=tuple(self._actions.take_generations()))

    def take_generations(self) -> list[InstantAction]:
        """The generation jobs left to start (the executor's callbacks can start them)."""
        return self._actions.take_generations()

    def shutdown(self, reason: str) -> None:
        """The daemon is stopping (the control process is brought to HOLD or DAMP next): every
        live action is FAILED with ``reason`` so the final state says what became of it. An
        emergencyStop is left as it is: the latch outlives the daemon."""
        for action_id, action_type in self.tracker.live():
            if action_type != ActionType.EMERGENCY_STOP.value:
                self.tracker.set(action_id, ActionStatus.FAILED, reason)

    # ------------------------------------------------------------------ generation jobs
    def generation_progress(self, action_id: str, description: str) -> None:
        """A running ``generateMotion`` reports its stage and progress."""
        self.tracker.set(action_id, ActionStatus.RUNNING, description)

    def generation_finished(self, action_id: str, description: str) -> None:
        self._actions.generating.discard(action_id)
        self.tracker.set(action_id, ActionStatus.FINISHED, description)
        self._pending_steps.extend(self._actions.advance())

    def generation_failed(self, action_id: str, error_type: ErrorType, description: str) -> None:
        self._actions.generating.discard(action_id)
        self.tracker.fail(action_id, error_type, description)
        self._pending_steps.extend(self._actions.advance())

    # ------------------------------------------------------------------ step outcomes
    def before_step(self, step: Step) -> bool:
        """Called just before a step is sent. False: skip it (its action ended meanwhile)."""
        return self._motion.before_step(step)

    def step_done(self, step: Step, result: CommandResult) -> list[Step]:
        """The control process answered the step's command; returns follow-up steps."""
        return self._motion.step_done(step, result) + self._actions.advance()

    def step_failed(
        self, step: Step, error_type: ErrorType, description: str, hint: str = ""
    ) -> list[Step]:
        """A step could not be carried out (e.g. the package is unknown); follow-up steps."""
        self._motion.step_failed(step, error_type, description, hint)
        return self._actions.advance()

    # ------------------------------------------------------------------ control process in
    def on_event(self, event: ModeEvent) -> list[Step]:
        """A supervisor transition; returns follow-up steps (start after the ramp)."""
        self._robot.mode, self._robot.cause = event.mode, event.cause
        steps = self._motion.on_event(event)
        self._actions.finish_estops_if_engaged()
        return steps + self._actions.advance()

    def on_status(self, status: ControlStatus) -> None:
        """A status snapshot. Only its edges move the model: snapshots may lag the events."""
        robot = self._robot
        previous, robot.status = robot.status, status
        self._motion.on_status(previous, status)
        if status.mode != previous.mode or status.is_alive != previous.is_alive:
            robot.mode, robot.cause = status.mode, status.last_cause
            self._actions.finish_estops_if_engaged()
        if status.is_paused != previous.is_paused:
            robot.is_paused = status.is_paused
        if status.is_alive and not previous.is_alive:  # operatingMode allows orders again
            self.errors.remove(_order_error_key(OrderErrorType.MOBILE_ROBOT_NOT_AVAILABLE))
        self._pending_steps.extend(self._actions.advance())


def relevant_part(body: dict[str, Any]) -> dict[str, Any]:
    """The part of a state body whose change warrants a message now (figures excluded)."""
    relevant = dict(body)
    relevant["information"] = [
        i for i in body.get("information", []) if i.get("infoLevel") == RELEVANT_INFO_LEVEL
    ]
    return relevant


def _order_error_key(error_type: OrderErrorType) -> str:
    return f"order:{error_type.value}"
