"""The accepted order: VDA 5050's orderId/orderUpdateId rules, and its actions in sequence.

An order here is one node, the robot's station (``orders.parse_order`` refuses the rest).
What this module decides (VDA 5050 §6.1.2, Figure 8, and §6.1.4's rejections):

- a new orderId is accepted only while the robot is idle (no order action waiting or
  running; else ``OTHER_ORDER_ACTIVE``), with orderUpdateId 0, and replaces the previous
  order's ``actionStates``;
- the same orderId: a lower orderUpdateId is ``OUTDATED_ORDER_UPDATE``; any update after a
  cancelOrder is ``ORDER_UPDATE_FOLLOWING_CANCEL``; the same orderUpdateId again is ignored
  when its content is the same (a resend) and ``SAME_ORDER_UPDATE_ID`` when it differs; a
  higher one is an update: its node must be the stitching node (the station with the same
  sequenceId), actions already known must be resent unchanged, new ones are appended;
- an action id used before by any other message is ``INVALID_ORDER_ACTION`` (a reused id).

Actions run one at a time in order: the next begins when the previous one FINISHED and the
robot is not paused; when one FAILED, the rest are FAILED without running ("not run"). The
robot is reported on its station throughout (``lastNodeId``); ``nodeStates`` stays empty
because the one node is reached on acceptance.
"""

from __future__ import annotations

from typing import Any

from daemon.fleet.vda5050.actions import InstantAction
from daemon.fleet.vda5050.orders import Order, OrderErrorType, OrderRejection
from daemon.fleet.vda5050.robot_model import RobotModel
from daemon.fleet.vda5050.tracker import ActionStatus


class OrderControl:
    """The robot's order (at most one), its identity and the sequence of its actions.

    Args:
        robot: The shared model (tracker, pause, status).
        station_node_id: The node the robot stands on (``lastNodeId`` from the start).
    """

    def __init__(self, robot: RobotModel, *, station_node_id: str) -> None:
        self._robot = robot
        self.order_id = ""
        self.order_update_id = 0
        self.last_node_id = station_node_id
        self.last_node_sequence_id = 0
        self._content = ""
        self._is_cancelled = False
        self._queue: list[InstantAction] = []
        self._cursor = 0
        self._is_begun = False
        """Whether ``_queue[_cursor]`` was handed out to run."""

    def is_active(self) -> bool:
        """Some action of the order is still waiting or running (the robot is not idle)."""
        tracker = self._robot.tracker
        return any(tracker.is_live(a.action_id) for a in self._queue[self._cursor :])

    def state_fields(self) -> dict[str, Any]:
        """The order's part of the ``state`` body."""
        return {
            "orderId": self.order_id,
            "orderUpdateId": self.order_update_id,
            "lastNodeId": self.last_node_id,
            "lastNodeSequenceId": self.last_node_sequence_id,
            "nodeStates": [],
            "edgeStates": [],
            "actionStates": self._robot.tracker.states(is_order=True),
        }

    # ------------------------------------------------------------------ orders in
    def accept(self, order: Order) -> OrderRejection | bool:
        """Take ``order`` over, or say why not. True: accepted (new actions WAITING); False:
        the very update already held, resent (ignored, as VDA 5050 asks)."""
        if not self._robot.status.is_alive:
            return _reject(
                order,
                OrderErrorType.MOBILE_ROBOT_NOT_AVAILABLE,
                "the control process is not running (operatingMode STARTUP): no order is "
                "taken until it runs",
                "wait for operatingMode AUTOMATIC, then resend the order",
            )
        if order.order_id == self.order_id:
            return self._update(order)
        if self.is_active():
            return _reject(
                order,
                OrderErrorType.OTHER_ORDER_ACTIVE,
                f"order {self.order_id!r} is still active; a new order is taken only when the "
                "robot is idle",
                f"wait for its actions to end, or cancel it (cancelOrder {self.order_id!r})",
                activeOrderId=self.order_id,
            )
        if order.order_update_id != 0:
            return _reject(
                order,
                OrderErrorType.VALIDATION_FAILURE,
                f"a new order starts with orderUpdateId 0, not {order.order_update_id}: this "
                "robot has not seen the order's earlier updates",
                "send the order from orderUpdateId 0",
            )
        reused = self._reused(order, order.node.actions)
        if reused is not None:
            return reused
        self._robot.tracker.forget_order_actions()
        self.order_id, self.order_update_id = order.order_id, order.order_update_id
        self.last_node_sequence_id = order.node.sequence_id
        self._content, self._is_cancelled = order.content, False
        self._queue, self._cursor, self._is_begun = [], 0, False
        self._append(order, order.node.actions)
        return True

    def _update(self, order: Order) -> OrderRejection | bool:
        if order.order_update_id < self.order_update_id:
            return _reject(
                order,
                OrderErrorType.OUTDATED_ORDER_UPDATE,
                f"orderUpdateId {order.order_update_id} is older than the one held "
                f"({self.order_update_id})",
                "send updates with increasing orderUpdateId",
            )
        if self._is_cancelled:
            return _reject(
                order,
                OrderErrorType.ORDER_UPDATE_FOLLOWING_CANCEL,
                f"order {self.order_id!r} was cancelled; it takes no more updates",
                "send a new order (a new orderId)",
            )
        if order.order_update_id == self.order_update_id:
            if order.content == self._content:
                return False
            return _reject(
                order,
                OrderErrorType.SAME_ORDER_UPDATE_ID,
                f"orderUpdateId {order.order_update_id} is held already with other content",
                "an update with new content needs a higher orderUpdateId",
            )
        if order.node.sequence_id != self.last_node_sequence_id:
            return _reject(
                order,
                OrderErrorType.VALIDATION_FAILURE,
                f"not a continuation: an update's first node is the last base node "
                f"({self.last_node_id!r}, sequenceId {self.last_node_sequence_id}), not "
                f"sequenceId {order.node.sequence_id}",
                "resend the stitching node with its sequenceId",
            )
        known = {a.action_id: a for a in self._queue}
        new = []
        for action in order.node.actions:
            held = known.get(action.action_id)
            if held is None:
                new.append(action)
            elif held.fingerprint != action.fingerprint:
                return _reject(
                    order,
                    OrderErrorType.INVALID_ORDER_ACTION,
                    f"action {action.action_id!r} was sent before with other content; a "
                    "released node's actions cannot change",
                    "resend known actions unchanged; new actions need new actionIds",
                    actionId=action.action_id,
                )
        reused = self._reused(order, tuple(new))
        if reused is not None:
            return reused
        self.order_update_id, self._content = order.order_update_id, order.content
        self._append(order, tuple(new))
        return True

    def _reused(self, order: Order, actions: tuple[InstantAction, ...]) -> OrderRejection | None:
        tracker = self._robot.tracker
        for action in actions:
            if action.action_id in tracker:
                return _reject(
                    order,
                    OrderErrorType.INVALID_ORDER_ACTION,
                    f"actionId {action.action_id!r} was already used by an earlier message "
                    f"({tracker.action_type(action.action_id) or 'an action'})",
                    "give every action a new actionId (VDA 5050 suggests a UUID)",
                    actionId=action.action_id,
                )
        return None

    def _append(self, order: Order, actions: tuple[InstantAction, ...]) -> None:
        tracker = self._robot.tracker
        for action in actions:
            tracker.add(
                action.action_id,
                action.action_type.value,
                descriptor=action.descriptor,
                identity=(order.timestamp, action.fingerprint),
                is_order=True,
            )
            self._queue.append(action)

    # ------------------------------------------------------------------ running
    def next_action(self) -> InstantAction | None:
        """The action to begin now, if the previous one ended and the robot is not paused.

        Call until it returns None; each action it returns is begun by the caller."""
        tracker = self._robot.tracker
        while self._cursor < len(self._queue):
            action = self._queue[self._cursor]
            status = tracker.status(action.action_id)
            if status is not None and not status.is_terminal:
                if self._is_begun or self._robot.is_holding_starts:
                    return None
                self._is_begun = True
                return action
            if status is ActionStatus.FAILED:
                self.fail_waiting(f"not run: {action.action_type.value} {action.action_id} failed")
            self._cursor += 1
            self._is_begun = False
        return None

    def fail_waiting(self, reason: str) -> None:
        """Every action not yet begun is FAILED with ``reason`` (no error entry each: the
        cause has its own)."""
        tracker = self._robot.tracker
        start = self._cursor + 1 if self._is_begun else self._cursor
        for action in self._queue[start:]:
            tracker.set(action.action_id, ActionStatus.FAILED, reason)

    def cancel(self) -> InstantAction | None:
        """cancelOrder: waiting actions FAILED, no more updates taken. Returns the action that
        is running (the caller stops it), if any."""
        self._is_cancelled = True
        self.fail_waiting("cancelled by cancelOrder")
        if self._is_begun and self._cursor < len(self._queue):
            current = self._queue[self._cursor]
            if self._robot.tracker.is_live(current.action_id):
                return current
        return None


def _reject(
    order: Order, error_type: OrderErrorType, description: str, hint: str, **refs: str
) -> OrderRejection:
    return OrderRejection(
        error_type,
        description,
        hint,
        order.order_id,
        order.order_update_id,
        order.header_id,
        references=tuple(refs.items()),
    )
