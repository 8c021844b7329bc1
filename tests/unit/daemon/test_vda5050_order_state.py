"""Orders in the fleet model (``FleetState`` with ``OrderControl``), driven by hand: VDA 5050's
orderId/orderUpdateId rules, node actions in sequence, cancelOrder, pause between actions.

Real: the order parser, the model, the official VDA 5050 state schema (every state body is
validated). Faked: nothing; the control process is played by hand (``Robot``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from daemon.control.control_link import CommandResult, ControlStatus
from daemon.fleet.vda5050.actions import ErrorType
from daemon.fleet.vda5050.config import FleetConfig
from daemon.fleet.vda5050.header import HeaderFactory
from daemon.fleet.vda5050.messages import node_action, order_message, order_node
from daemon.fleet.vda5050.orders import Order, parse_order
from daemon.fleet.vda5050.steps import Reaction, Step, StepKind
from tests.unit.daemon.test_vda5050_state import LATER, NOW, OK, Robot, act

STATION = "cell-3"
CONFIG = FleetConfig(manufacturer="Acme", serial_number="T-1", station_node_id=STATION)


class OrderRobot(Robot):
    def __init__(self, **status: Any) -> None:
        super().__init__(CONFIG, **status)

    def order(
        self,
        *actions: dict[str, Any],
        order_id: str = "o-1",
        update: int = 0,
        sequence_id: int = 0,
        now: datetime = NOW,
    ) -> Reaction:
        headers = HeaderFactory(manufacturer="Acme", serial_number="T-1")
        document = order_message(
            headers,
            order_id=order_id,
            order_update_id=update,
            nodes=[order_node(STATION, list(actions), sequence_id=sequence_id)],
            now=now,
        )
        parsed = parse_order(
            json.dumps(document).encode(),
            manufacturer="Acme",
            serial_number="T-1",
            station_node_id=STATION,
        )
        assert isinstance(parsed, Order), parsed
        return self.state.receive_order(parsed)

    def order_status(self, action_id: str) -> str | None:
        for entry in self.body()["actionStates"]:
            if entry["actionId"] == action_id:
                return str(entry["actionStatus"])
        return None

    def error_types(self) -> list[str]:
        return [e["errorType"] for e in self.errors()]

    def finish_motion(self, step: Step) -> list[Step]:
        """START answered, the track played to its end; returns the follow-up steps."""
        follow = self.run(step)
        self.event("TRACK", "TRACK_REQUESTED")
        return follow + self.event("HOLD", "TRACK_COMPLETE")


def start(action_id: str, package_id: str | None = None) -> dict[str, Any]:
    return node_action("startMotion", action_id, {"packageId": package_id} if package_id else None)


def test_node_actions_run_one_after_another_and_the_state_reports_the_order() -> None:
    robot = OrderRobot()
    body = robot.body()
    assert (body["lastNodeId"], body["orderId"]) == (STATION, "")
    reaction = robot.order(node_action("loadMotion", "a1", {"packageId": "wave"}), start("a2"))
    (load,) = reaction.steps
    assert load == Step(StepKind.LOAD, "a1", "wave")
    assert (robot.order_status("a1"), robot.order_status("a2")) == ("WAITING", "WAITING")
    body = robot.body()
    assert (body["orderId"], body["orderUpdateId"], body["nodeStates"]) == ("o-1", 0, [])
    assert body["instantActionStates"] == []
    (start_step,) = robot.run(load)
    assert start_step == Step(StepKind.START, "a2")
    assert robot.order_status("a1") == "FINISHED"
    assert robot.finish_motion(start_step) == []
    assert robot.order_status("a2") == "FINISHED"
    assert robot.errors() == []


def test_a_failed_action_fails_the_rest_without_running_them() -> None:
    robot = OrderRobot()
    (first,) = robot.order(start("a1"), start("a2"), node_action("stopMotion", "a3")).steps
    assert robot.run(first, CommandResult(False, "no motion loaded")) == []
    assert [robot.order_status(i) for i in ("a1", "a2", "a3")] == ["FAILED"] * 3
    entry = robot.body()["actionStates"][1]
    assert entry["actionResult"].startswith("not run: startMotion a1 failed")
    assert robot.error_types() == ["actionRefused"], "one error: the cause, not each victim"


def test_a_new_order_while_one_is_active_is_refused_and_changes_nothing() -> None:
    robot = OrderRobot()
    robot.order(start("a1"))
    assert robot.order(start("b1"), order_id="o-2").steps == ()
    body = robot.body()
    assert body["orderId"] == "o-1"
    assert robot.order_status("b1") is None
    (error,) = body["errors"]
    assert error["errorType"] == "OTHER_ORDER_ACTIVE"
    refs = {r["referenceKey"]: r["referenceValue"] for r in error["errorReferences"]}
    assert (refs["orderId"], refs["activeOrderId"]) == ("o-2", "o-1")


def test_a_new_order_when_idle_replaces_the_previous_action_states_and_clears_order_errors() -> (
    None
):
    robot = OrderRobot()
    (step,) = robot.order(start("a1")).steps
    robot.order(start("b1"), order_id="o-2")  # refused: o-1 active
    robot.finish_motion(step)
    assert robot.error_types() == ["OTHER_ORDER_ACTIVE"], "listed until an order is accepted"
    robot.order(start("b1"), order_id="o-2")
    body = robot.body()
    assert [a["actionId"] for a in body["actionStates"]] == ["b1"]
    assert body["errors"] == []


def test_order_update_ids_follow_vda_5050() -> None:
    robot = OrderRobot()
    robot.order(start("a1"), update=0)
    assert robot.order(start("a1"), update=0).steps == ()  # the same update resent: ignored
    assert robot.errors() == []
    robot.order(start("a1", "jump"), update=0)
    assert robot.error_types() == ["SAME_ORDER_UPDATE_ID"]
    robot.order(start("a1"), start("a2"), update=2)
    assert robot.body()["orderUpdateId"] == 2
    assert robot.errors() == [], "an accepted update clears the order errors"
    robot.order(start("a1"), update=1)
    assert robot.error_types() == ["OUTDATED_ORDER_UPDATE"]
    assert [a["actionId"] for a in robot.body()["actionStates"]] == ["a1", "a2"]


def test_an_update_appends_actions_that_run_after_the_current_one() -> None:
    robot = OrderRobot()
    (step,) = robot.order(start("a1"), sequence_id=4).steps
    assert robot.order(start("a1"), start("a2"), update=1, sequence_id=4).steps == ()
    assert robot.order_status("a2") == "WAITING"
    (next_step,) = robot.finish_motion(step)
    assert next_step == Step(StepKind.START, "a2")
    assert robot.body()["lastNodeSequenceId"] == 4


def test_an_update_that_is_no_continuation_or_changes_a_released_action_is_refused() -> None:
    robot = OrderRobot()
    robot.order(start("a1"), sequence_id=0)
    robot.order(start("a2"), update=1, sequence_id=2)
    assert robot.error_types() == ["VALIDATION_FAILURE"]
    robot.order(start("a1", "other"), update=1)
    assert robot.error_types() == ["VALIDATION_FAILURE", "INVALID_ORDER_ACTION"]
    assert robot.body()["orderUpdateId"] == 0


def test_an_action_id_used_before_refuses_the_order() -> None:
    robot = OrderRobot()
    robot.send(act("stateRequest", "s1"))
    robot.order(start("s1"))
    assert robot.error_types() == ["INVALID_ORDER_ACTION"]
    assert robot.body()["orderId"] == ""
    robot.order(start("a1"), order_id="o-9", now=LATER)
    robot.send(act("stateRequest", "a1"), now=LATER)  # an instant action reusing it
    assert "duplicateActionId" in robot.error_types()


def test_cancel_order_fails_waiting_actions_stops_the_running_one_and_keeps_the_ids() -> None:
    robot = OrderRobot()
    (step,) = robot.order(start("a1"), start("a2")).steps
    robot.run(step)
    robot.event("TRACK", "TRACK_REQUESTED")
    (stop,) = robot.send(act("cancelOrder", "c1"))
    assert stop == Step(StepKind.STOP, "c1")
    assert robot.order_status("a2") == "FAILED"
    robot.run(stop)
    assert robot.status_of("c1") == "RUNNING", "RUNNING until the robot holds"
    assert robot.event("HOLD", "TRACK_STOPPED") == []
    assert (robot.status_of("c1"), robot.order_status("a1")) == ("FINISHED", "FAILED")
    body = robot.body()
    assert (body["orderId"], body["orderUpdateId"]) == ("o-1", 0)
    assert robot.errors() == [], "a requested cancel is not an error"
    robot.order(start("a1"), start("a3"), update=1)
    assert robot.error_types() == ["ORDER_UPDATE_FOLLOWING_CANCEL"]
    assert robot.order(start("b1"), order_id="o-2").steps != ()
    assert robot.errors() == []


def test_cancel_order_naming_another_order_fails_with_no_order_to_cancel() -> None:
    robot = OrderRobot()
    robot.order(start("a1"))
    assert robot.send(act("cancelOrder", "c1", orderId="o-7")) == []
    assert robot.status_of("c1") == "FAILED"
    assert robot.error_types() == [ErrorType.NO_ORDER_TO_CANCEL.value]
    assert robot.order_status("a1") == "WAITING"


def test_a_pause_holds_the_next_action_until_stop_pause() -> None:
    robot = OrderRobot()
    (step,) = robot.order(start("a1"), start("a2")).steps
    robot.run(step)
    robot.event("TRACK", "TRACK_REQUESTED")
    (pause,) = robot.send(act("startPause", "p1"))
    robot.state.before_step(pause)
    robot.event("HOLD", "TRACK_COMPLETE")  # the pause landed after the last frame
    assert robot.state.step_done(pause, OK) == []
    assert (robot.order_status("a1"), robot.order_status("a2")) == ("FINISHED", "WAITING")
    assert robot.body()["paused"] is True
    (next_step,) = robot.send(act("stopPause", "r1"))
    assert next_step == Step(StepKind.START, "a2")


def test_an_emergency_stop_ends_the_order() -> None:
    robot = OrderRobot()
    (step,) = robot.order(start("a1"), start("a2")).steps
    robot.run(step)
    robot.event("TRACK", "TRACK_REQUESTED")
    robot.send(act("emergencyStop", "e1"))
    robot.event("ESTOP", "ESTOP_COMMAND")
    assert (robot.order_status("a1"), robot.order_status("a2")) == ("FAILED", "FAILED")
    assert robot.error_types() == ["emergencyStop"]


def test_no_order_is_taken_while_the_control_process_is_down() -> None:
    robot = OrderRobot()
    robot.state.on_status(ControlStatus(is_alive=False))
    robot.order(start("a1"))
    assert robot.error_types() == ["controlProcessDown", "MOBILE_ROBOT_NOT_AVAILABLE"]
    robot.state.on_status(ControlStatus(is_alive=True, mode="HOLD"))
    assert robot.errors() == [], "resolved once orders are possible again"


def test_generate_motion_on_a_node_is_a_job_and_the_next_action_follows_it() -> None:
    robot = OrderRobot()
    reaction = robot.order(
        node_action("generateMotion", "g1", {"instruction": "wave"}), start("a2")
    )
    assert reaction.steps == ()
    assert [g.action_id for g in reaction.generations] == ["g1"]
    robot.state.generation_finished("g1", "package gen-g1 loaded")
    (step,) = robot.state.take_pending().steps
    assert step == Step(StepKind.START, "a2")
