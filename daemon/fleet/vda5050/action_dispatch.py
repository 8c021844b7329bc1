"""Actions in: instantActions dispatched to the motion, the order, the e-stop and the jobs.

``ActionDispatch`` takes a parsed instantActions message and begins each action (or refuses
it), begins an order's next actions when the previous ones end (``advance``), and reports
e-stops FINISHED only in a state that shows them. It returns ``Step``s; generation jobs it
asks for wait in ``take_generations``. ``FleetState`` owns it and routes inputs here.

Sans-I/O; not thread-safe: one event loop drives it.
"""

from __future__ import annotations

from daemon.fleet.vda5050.actions import ActionType, ErrorType, InstantAction, ParsedInstantActions
from daemon.fleet.vda5050.error_book import ErrorBook, ErrorGroup, error_entry
from daemon.fleet.vda5050.motion_control import MotionControl
from daemon.fleet.vda5050.order_control import OrderControl
from daemon.fleet.vda5050.robot_model import RobotModel
from daemon.fleet.vda5050.robot_view import is_manual_estop
from daemon.fleet.vda5050.steps import Reaction, Step, StepKind
from daemon.fleet.vda5050.tracker import ActionStatus

_RETAINED_ID = "retained-instantActions"
"""The action id under which a refused retained instantActions message is reported."""

_UNDONE_BY_ESTOP = frozenset(
    {ActionType.RESET_EMERGENCY_STOP, ActionType.START_MOTION, ActionType.STOP_PAUSE}
)
"""Actions that would move the robot or clear the stop: never run after a later e-stop."""


class ActionDispatch:
    """Begins actions for one robot (see the module docstring)."""

    def __init__(
        self,
        *,
        robot: RobotModel,
        motion: MotionControl,
        orders: OrderControl,
        errors: ErrorBook,
    ) -> None:
        self._robot = robot
        self._tracker = robot.tracker
        self._motion = motion
        self._orders = orders
        self._errors = errors
        self.generating: set[str] = set()
        """Live ``generateMotion`` actions (their jobs run in the service)."""
        self._pending_generations: list[InstantAction] = []
        self._estops: dict[str, str] = {}
        """emergencyStop actions sent but not yet seen engaged, with their result text: they
        are FINISHED only in a state that already shows the e-stop."""
        self._is_generation_cancelled = False

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
            self._tracker.fail(
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
                self._tracker.set(action.action_id, ActionStatus.INITIALIZING, "generation queued")
                self.generating.add(action.action_id)
                generations.append(action)
                continue
            steps.extend(self._begin(action, estop_error))
        self.finish_estops_if_engaged()
        steps.extend(self.advance())  # a stopPause or cancelOrder moves the order on
        generations.extend(self.take_generations())
        return Reaction(tuple(steps), factsheet, tuple(generations), self._is_generation_cancelled)

    def _admit(
        self,
        action_id: str,
        action_type: str,
        identity: tuple[str, str],
        descriptor: str | None = None,
    ) -> bool:
        """Record a new action; False when its id is known (a redelivery, or a reuse)."""
        if self._tracker.add(action_id, action_type, descriptor=descriptor, identity=identity):
            return True
        if self._tracker.identity(action_id) != identity:
            known = self._tracker.action_type(action_id) or "an action"
            self._errors.add(
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

    def refuse_retained(self, parsed: ParsedInstantActions) -> None:
        """A retained instantActions message: reported once, none of its actions run."""
        ids = ", ".join(a.action_id for a in parsed.actions) or "none readable"
        self._tracker.add(_RETAINED_ID, "")
        estop_note = "; its emergencyStop is engaged at every connect"
        self._tracker.fail(
            _RETAINED_ID,
            ErrorType.VALIDATION,
            f"a retained instantActions message was refused (actions {ids}): retained commands "
            f"are never executed{estop_note if parsed.has_emergency_stop else ''}",
            hint="clear the retained message (publish an empty retained payload); never "
            "publish instantActions with the retain flag",
        )

    def advance(self) -> list[Step]:
        """Begin the order's next actions, as far as they can go now."""
        steps: list[Step] = []
        while (action := self._orders.next_action()) is not None:
            if action.action_type is ActionType.GENERATE_MOTION:
                self._tracker.set(action.action_id, ActionStatus.INITIALIZING, "generation queued")
                self.generating.add(action.action_id)
                self._pending_generations.append(action)
            else:
                steps.extend(self._begin(action, None))
        return steps

    def _await_estop(self, action_id: str, result: str) -> None:
        self._estops[action_id] = result
        self._tracker.set(action_id, ActionStatus.RUNNING, "e-stop sent to the control process")

    def finish_estops_if_engaged(self) -> None:
        if self._robot.mode != "ESTOP" or not self._estops:
            return
        for action_id, result in self._estops.items():
            self._tracker.set(action_id, ActionStatus.FINISHED, result)
        self._estops.clear()

    def _supersede_by_estop(self) -> None:
        """An e-stop overtakes queued work (it is sent at once); work that would move the robot
        or clear the stop must then not run after it, as if it had come later. The order's
        actions not yet begun do not run either."""
        self._orders.fail_waiting("not run: an emergency stop arrived")
        for kind in _UNDONE_BY_ESTOP:
            for action_id in self._tracker.waiting(kind.value):
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
            self._tracker.set(action_id, done)
        elif kind is ActionType.FACTSHEET_REQUEST:
            self._tracker.set(action_id, done)
        elif kind is ActionType.CLEAR_INSTANT_ACTIONS:
            self._tracker.clear_finished()
            self._tracker.set(action_id, done)
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
        if action.action_type is ActionType.CANCEL_ORDER:
            wanted = action.text("orderId")
            if self._orders.is_active() and wanted in (None, self._orders.order_id):
                return self._cancel_order(action)
            if wanted is not None:
                self._tracker.fail(
                    action.action_id,
                    ErrorType.NO_ORDER_TO_CANCEL,
                    f"no active order {wanted!r} to cancel"
                    + (
                        f" (the robot's order is {self._orders.order_id!r})"
                        if self._orders.order_id
                        else ""
                    ),
                )
                return []
        if action.action_type is ActionType.CANCEL_ORDER and self._motion.action_id is None:
            if self.generating:
                self._is_generation_cancelled = True
                self._tracker.set(action.action_id, ActionStatus.FINISHED, "generation cancelled")
                return []
            self._tracker.fail(
                action.action_id, ErrorType.NO_ORDER_TO_CANCEL, "no motion is running or pending"
            )
            return []
        return self._motion.begin_stop(action)

    def _cancel_order(self, action: InstantAction) -> list[Step]:
        """VDA 5050 §6.1.3: waiting actions FAILED, the running one stopped (FAILED); the
        cancelOrder is RUNNING until the robot holds, then FINISHED."""
        running = self._orders.cancel()
        done = ActionStatus.FINISHED
        if running is None:
            self._tracker.set(action.action_id, done, "order cancelled")
        elif running.action_id == self._motion.action_id:
            return self._motion.begin_stop(action)
        elif running.action_type is ActionType.GENERATE_MOTION:
            self._is_generation_cancelled = True
            self._tracker.set(action.action_id, done, "order cancelled; generation cancelled")
        else:
            self._tracker.set(running.action_id, ActionStatus.FAILED, "cancelled by cancelOrder")
            self._tracker.set(action.action_id, done, "order cancelled")
        return []

    def _begin_reset(self, action_id: str) -> list[Step]:
        robot = self._robot
        if (
            robot.mode == "ESTOP"
            and is_manual_estop(cause=robot.cause, origin=robot.status.estop_origin)
            and not self._robot.config.may_reset_manual_estop
        ):
            robot.refuse(
                action_id, "the e-stop was engaged at the robot (MANUAL); reset it at the robot"
            )
            return []
        return [Step(StepKind.RESET_ESTOP, action_id)]

    def take_generations(self) -> list[InstantAction]:
        generations, self._pending_generations = self._pending_generations, []
        return generations
