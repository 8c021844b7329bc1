"""The fleet-facing state model (``FleetState``), driven by hand: actions, command results and
supervisor events in chosen orders.

Real: the parser, the model, the message builders, the official VDA 5050 state schema (every
state body produced here is validated). Faked: nothing is needed; no sockets, no event loop.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from daemon.control.control_link import CommandResult, ControlStatus, ModeEvent
from daemon.fleet.vda5050.actions import parse_instant_actions
from daemon.fleet.vda5050.config import FleetConfig
from daemon.fleet.vda5050.fleet_state import FleetState, Step, StepKind, relevant_part
from daemon.fleet.vda5050.header import HeaderFactory
from daemon.fleet.vda5050.messages import (
    encode,
    instant_action,
    instant_actions_message,
    state_message,
)
from daemon.fleet.vda5050.robot_view import BatterySource, RobotExtras
from tests.support.vda5050_schemas import check_if_available

CONFIG = FleetConfig(manufacturer="Acme", serial_number="T-1")
NOW = datetime(2026, 11, 21, 12, 0, 0, 123456, tzinfo=timezone.utc)
OK = CommandResult(True)


def payload(*actions: dict[str, Any], now: datetime = NOW) -> bytes:
    headers = HeaderFactory(manufacturer="Acme", serial_number="T-1")
    return encode(instant_actions_message(headers, list(actions), now))


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


def act(kind: str, action_id: str, **parameters: Any) -> dict[str, Any]:
    return instant_action(kind, action_id, parameters or None)


class Robot:
    """A FleetState plus helpers that play the control process by hand."""

    def __init__(self, config: FleetConfig = CONFIG, *, mode: str = "HOLD", **status: Any):
        self.clock = FakeClock()
        self.state = FleetState(config=config, clock=self.clock)
        self.headers = HeaderFactory(manufacturer="Acme", serial_number="T-1")
        self.state.on_status(ControlStatus(is_alive=True, mode=mode, **status))
        self._tick = 0

    def send(
        self, *actions: dict[str, Any], estop_error: str | None = None, now: datetime = NOW
    ) -> list[Step]:
        parsed = parse_instant_actions(
            payload(*actions, now=now), manufacturer="Acme", serial_number="T-1"
        )
        return list(self.state.receive(parsed, estop_error=estop_error).steps)

    def run(self, step: Step, result: CommandResult = OK) -> list[Step]:
        """The executor's part: before_step, then the command's answer."""
        assert self.state.before_step(step)
        return self.state.step_done(step, result)

    def event(self, mode: str, cause: str) -> list[Step]:
        self._tick += 1
        return self.state.on_event(ModeEvent(self._tick, mode, cause))

    def status_of(self, action_id: str) -> str | None:
        for entry in self.body()["instantActionStates"]:
            if entry["actionId"] == action_id:
                return str(entry["actionStatus"])
        return None

    def body(self, extras: RobotExtras | None = None) -> dict[str, Any]:
        body = self.state.state_body(extras)
        check_if_available("state", json.loads(encode(state_message(self.headers, body, NOW))))
        return body

    def errors(self) -> list[dict[str, Any]]:
        return list(self.body()["errors"])

    def tracking(self, action_id: str = "m1") -> None:
        """Start a motion from HOLD until it runs."""
        (start,) = self.send(act("startMotion", action_id))
        assert start == Step(StepKind.START, action_id)
        assert self.run(start) == []
        self.event("TRACK", "TRACK_REQUESTED")
        assert self.status_of(action_id) == "RUNNING"


def test_start_motion_from_passive_loads_enables_ramps_tracks_and_finishes() -> None:
    robot = Robot(mode="PASSIVE")
    (load,) = robot.send(act("startMotion", "m1", packageId="wave"))
    assert load == Step(StepKind.LOAD, "m1", "wave")
    assert robot.status_of("m1") == "WAITING"
    (enable,) = robot.run(load)
    assert enable.kind is StepKind.ENABLE
    assert robot.status_of("m1") == "INITIALIZING"
    assert robot.run(enable) == []
    assert robot.event("RAMP", "ENABLE_REQUESTED") == []
    (start,) = robot.event("HOLD", "RAMP_COMPLETE")
    assert start == Step(StepKind.START, "m1")
    assert robot.run(start) == []
    assert robot.status_of("m1") == "RUNNING"
    robot.event("TRACK", "TRACK_REQUESTED")
    assert robot.body()["driving"] is True
    robot.event("HOLD", "TRACK_COMPLETE")
    assert robot.status_of("m1") == "FINISHED"
    assert robot.state.motion_action_id is None
    assert robot.errors() == []


def test_motion_that_completes_before_its_start_is_acknowledged_still_finishes() -> None:
    robot = Robot()
    (start,) = robot.send(act("startMotion", "m1"))
    assert robot.state.before_step(start)
    robot.event("TRACK", "TRACK_REQUESTED")
    robot.event("HOLD", "TRACK_COMPLETE")
    robot.state.step_done(start, OK)
    assert robot.status_of("m1") == "FINISHED"


def test_start_motion_skips_loading_the_package_already_loaded() -> None:
    robot = Robot(loaded_package="wave")
    (start,) = robot.send(act("startMotion", "m1", packageId="wave"))
    assert start.kind is StepKind.START


@pytest.mark.parametrize(
    ("mode", "cause", "error_type", "level", "estop"),
    [
        ("ESTOP", "ESTOP_COMMAND", "emergencyStop", "FATAL", "REMOTE"),
        ("ESTOP", "ESTOP_REMOTE", "emergencyStop", "FATAL", "MANUAL"),
        ("DAMP", "TILT", "safetyFault", "CRITICAL", "NONE"),
    ],
)
def test_supervisor_leaving_to_a_safe_mode_fails_the_motion_and_reports_why(
    mode: str, cause: str, error_type: str, level: str, estop: str
) -> None:
    robot = Robot()
    robot.tracking()
    robot.event(mode, cause)
    assert robot.status_of("m1") == "FAILED"
    body = robot.body()
    assert body["safetyState"] == {"activeEmergencyStop": estop, "fieldViolation": False}
    (error,) = body["errors"]
    assert (error["errorType"], error["errorLevel"]) == (error_type, level)
    assert cause in error["errorDescription"]


def test_fault_while_holding_is_an_urgent_error_and_clears_with_the_mode() -> None:
    robot = Robot()
    robot.event("HOLD", "REFERENCE_STALE")
    (error,) = robot.errors()
    assert error["errorLevel"] == "URGENT"
    robot.event("RAMP", "ENABLE_REQUESTED")
    assert robot.errors() == []


def test_pause_holds_the_motion_paused_and_resume_runs_it_again() -> None:
    robot = Robot()
    robot.tracking()
    (pause,) = robot.send(act("startPause", "p1"))
    assert pause == Step(StepKind.PAUSE, "p1")
    assert robot.state.before_step(pause)
    robot.event("HOLD", "TRACK_STOPPED")  # the pause's own transition, before its ack
    robot.state.step_done(pause, OK)
    assert (robot.status_of("m1"), robot.status_of("p1")) == ("PAUSED", "FINISHED")
    assert robot.body()["paused"] is True
    (resume,) = robot.send(act("stopPause", "r1"))
    assert resume == Step(StepKind.RESUME, "r1")
    robot.run(resume)
    assert (robot.status_of("m1"), robot.status_of("r1")) == ("RUNNING", "FINISHED")
    assert robot.body()["paused"] is False


_AT_THE_END = ("accepted", OK)
_AFTER_THE_END = ("refused", CommandResult(False, "mode is HOLD; no motion running"))


@pytest.mark.parametrize("answer", [_AT_THE_END, _AFTER_THE_END], ids=lambda a: a[0])
@pytest.mark.parametrize("is_event_first", [True, False], ids=["event-first", "answer-first"])
def test_pause_at_the_end_of_a_track_commutes_with_its_end(
    answer: tuple[str, CommandResult], is_event_first: bool
) -> None:
    """Issue 13: a startPause at about the last tick left startMotion PAUSED for good. Whether
    the pause lands after the last frame (the control process then completes the track and
    accepts the pause) or after the track ended (refused), and whichever of the answer and
    the track's end arrives first: the motion FINISHED, the robot paused, stopPause clears it."""
    robot = Robot()
    robot.tracking()
    (pause,) = robot.send(act("startPause", "p1"))
    assert robot.state.before_step(pause)
    if is_event_first:
        robot.event("HOLD", "TRACK_COMPLETE")
        robot.state.step_done(pause, answer[1])
    else:
        robot.state.step_done(pause, answer[1])
        robot.event("HOLD", "TRACK_COMPLETE")
    assert (robot.status_of("m1"), robot.status_of("p1")) == ("FINISHED", "FINISHED")
    assert robot.body()["paused"] is True
    assert robot.state.motion_action_id is None
    assert robot.send(act("stopPause", "r1")) == []
    assert robot.status_of("r1") == "FINISHED"
    assert robot.body()["paused"] is False
    assert robot.errors() == []


@pytest.mark.parametrize("answer", [_AT_THE_END, _AFTER_THE_END], ids=lambda a: a[0])
@pytest.mark.parametrize("is_event_first", [True, False], ids=["event-first", "answer-first"])
@pytest.mark.parametrize("kind", ["cancelOrder", "stopMotion"])
def test_cancel_or_stop_at_the_end_of_a_track_reports_the_motion_finished(
    answer: tuple[str, CommandResult], is_event_first: bool, kind: str
) -> None:
    robot = Robot()
    robot.tracking()
    (stop,) = robot.send(act(kind, "c1"))
    assert robot.state.before_step(stop)
    if is_event_first:
        robot.event("HOLD", "TRACK_COMPLETE")
        robot.state.step_done(stop, answer[1])
    else:
        robot.state.step_done(stop, answer[1])
        robot.event("HOLD", "TRACK_COMPLETE")
    assert (robot.status_of("m1"), robot.status_of("c1")) == ("FINISHED", "FINISHED")
    assert robot.body()["paused"] is False
    assert robot.errors() == []


def test_stop_pause_after_a_pause_one_frame_before_the_end_resumes_to_the_end() -> None:
    robot = Robot()
    robot.tracking()
    (pause,) = robot.send(act("startPause", "p1"))
    robot.run(pause)
    robot.event("HOLD", "TRACK_STOPPED")
    assert robot.status_of("m1") == "PAUSED"
    (resume,) = robot.send(act("stopPause", "r1"))
    robot.run(resume)
    robot.event("TRACK", "TRACK_REQUESTED")
    robot.event("HOLD", "TRACK_COMPLETE")
    assert (robot.status_of("m1"), robot.status_of("r1")) == ("FINISHED", "FINISHED")
    assert robot.body()["paused"] is False


def test_pause_without_a_motion_blocks_starts_until_stop_pause() -> None:
    robot = Robot()
    assert robot.send(act("startPause", "p1")) == []
    assert robot.body()["paused"] is True
    assert robot.send(act("startMotion", "m1")) == []
    assert robot.status_of("m1") == "FAILED"
    assert robot.send(act("stopPause", "r1")) == []
    assert robot.body()["paused"] is False


def test_pause_while_ramping_keeps_the_motion_paused_until_stop_pause_starts_it() -> None:
    robot = Robot(mode="PASSIVE")
    (enable,) = robot.send(act("startMotion", "m1"))
    robot.run(enable)
    robot.event("RAMP", "ENABLE_REQUESTED")
    assert robot.send(act("startPause", "p1")) == []
    assert robot.event("HOLD", "RAMP_COMPLETE") == []
    assert robot.status_of("m1") == "PAUSED"
    (start,) = robot.send(act("stopPause", "r1"))
    assert start == Step(StepKind.START, "m1")
    robot.run(start)
    assert robot.status_of("m1") == "RUNNING"


def test_cancel_order_runs_until_the_robot_holds_and_fails_the_motion() -> None:
    robot = Robot()
    robot.tracking()
    (stop,) = robot.send(act("cancelOrder", "c1"))
    assert stop == Step(StepKind.STOP, "c1")
    robot.run(stop)
    assert (robot.status_of("c1"), robot.status_of("m1")) == ("RUNNING", "RUNNING")
    robot.event("HOLD", "TRACK_STOPPED")
    assert (robot.status_of("c1"), robot.status_of("m1")) == ("FINISHED", "FAILED")
    assert robot.errors() == []  # a requested cancel is not an error


def test_cancel_order_with_nothing_to_cancel_fails_with_no_order_to_cancel() -> None:
    robot = Robot()
    assert robot.send(act("cancelOrder", "c1")) == []
    assert robot.status_of("c1") == "FAILED"
    (error,) = robot.errors()
    assert error["errorType"] == "noOrderToCancel"


def test_stop_motion_before_the_motion_started_cancels_it_at_once() -> None:
    robot = Robot(mode="PASSIVE")
    robot.send(act("startMotion", "m1", packageId="wave"))
    (stop,) = robot.send(act("stopMotion", "s1"))
    assert robot.status_of("m1") == "FAILED"
    robot.run(stop, CommandResult(False, "mode is PASSIVE; no motion running"))
    assert robot.status_of("s1") == "FINISHED"
    assert not robot.state.before_step(Step(StepKind.LOAD, "m1", "wave"))  # queued load skipped


def test_motion_stopped_from_outside_the_fleet_interface_fails() -> None:
    robot = Robot()
    robot.tracking()
    robot.event("HOLD", "TRACK_STOPPED")
    assert robot.status_of("m1") == "FAILED"


def test_refused_start_fails_the_action_with_the_control_process_reason() -> None:
    robot = Robot()
    (start,) = robot.send(act("startMotion", "m1"))
    robot.run(start, CommandResult(False, "no motion loaded"))
    assert robot.status_of("m1") == "FAILED"
    (error,) = robot.errors()
    assert error["errorType"] == "actionRefused"
    assert "no motion loaded" in error["errorDescription"]
    assert {"referenceKey": "actionId", "referenceValue": "m1"} in error["errorReferences"]


def test_second_motion_is_refused_while_one_is_live() -> None:
    robot = Robot()
    robot.tracking()
    assert robot.send(act("startMotion", "m2"), act("loadMotion", "l1", packageId="x")) == []
    assert robot.status_of("m2") == robot.status_of("l1") == "FAILED"
    assert robot.status_of("m1") == "RUNNING"


def test_malformed_message_fails_its_actions_and_changes_nothing_else() -> None:
    robot = Robot()
    before = robot.body()
    bad = payload(act("startMotion", "m1"), {"actionId": "x2", "actionType": "stopMotion"})
    parsed = parse_instant_actions(bad, manufacturer="Acme", serial_number="T-1")
    reaction = robot.state.receive(parsed)
    assert reaction.steps == ()
    after = robot.body()
    assert robot.status_of("m1") == robot.status_of("x2") == "FAILED"
    assert {e["errorType"] for e in after["errors"]} == {"validationError"}
    unchanged = ("instantActionStates", "errors")
    assert {k: v for k, v in after.items() if k not in unchanged} == {
        k: v for k, v in before.items() if k not in unchanged
    }


def test_unparseable_message_is_answered_under_a_synthetic_action_id() -> None:
    robot = Robot()
    parsed = parse_instant_actions(b"{nope", manufacturer="Acme", serial_number="T-1", sequence=7)
    robot.state.receive(parsed)
    assert robot.status_of("message-7") == "FAILED"
    (error,) = robot.errors()
    assert "not a JSON document" in error["errorDescription"]


def test_unknown_action_fails_alone_and_its_siblings_run() -> None:
    robot = Robot()
    assert robot.send(act("dance", "d1"), act("stateRequest", "s1")) == []
    assert (robot.status_of("d1"), robot.status_of("s1")) == ("FAILED", "FINISHED")
    assert robot.state.take_state_request() is True
    assert robot.state.take_state_request() is False
    (error,) = robot.errors()
    assert error["errorType"] == "unsupportedActionType"


def test_a_redelivered_action_id_is_ignored() -> None:
    robot = Robot()
    robot.tracking()
    assert robot.send(act("startMotion", "m1")) == []
    assert robot.status_of("m1") == "RUNNING"
    assert robot.errors() == []


def test_emergency_stop_is_finished_even_inside_a_malformed_message() -> None:
    robot = Robot()
    bad = payload(act("emergencyStop", "e1"), {"actionId": "x", "actionType": "startMotion"})
    parsed = parse_instant_actions(bad, manufacturer="Acme", serial_number="T-1")
    assert parsed.has_emergency_stop
    robot.state.receive(parsed)
    assert (robot.status_of("e1"), robot.status_of("x")) == ("RUNNING", "FAILED")
    robot.event("ESTOP", "ESTOP_COMMAND")
    assert (robot.status_of("e1"), robot.status_of("x")) == ("FINISHED", "FAILED")


def test_emergency_stop_is_finished_only_in_a_state_that_shows_the_estop() -> None:
    robot = Robot()
    robot.send(act("emergencyStop", "e1"))
    body = robot.body()
    assert body["safetyState"]["activeEmergencyStop"] == "NONE"
    assert robot.status_of("e1") == "RUNNING", "sent, not yet engaged"
    robot.event("ESTOP", "ESTOP_COMMAND")
    body = robot.body()
    assert body["safetyState"]["activeEmergencyStop"] == "REMOTE"
    assert robot.status_of("e1") == "FINISHED"


def test_a_retained_message_is_refused_once_and_runs_nothing() -> None:
    robot = Robot(mode="PASSIVE")
    parsed = parse_instant_actions(
        payload(act("startMotion", "m1", packageId="p")),
        manufacturer="Acme",
        serial_number="T-1",
    )
    robot.state.refuse_retained(parsed)
    robot.state.refuse_retained(parsed)
    assert robot.status_of("m1") is None, "never executed, not even recorded as received"
    errors = [e for e in robot.errors() if "retained" in e["errorDescription"]]
    assert len(errors) == 1
    assert "m1" in errors[0]["errorDescription"]


def test_emergency_stop_that_could_not_be_sent_is_fatal() -> None:
    robot = Robot()
    robot.send(act("emergencyStop", "e1"), estop_error="link down")
    assert robot.status_of("e1") == "FAILED"
    (error,) = robot.errors()
    assert error["errorLevel"] == "FATAL"


@pytest.mark.parametrize("may_reset", [False, True])
def test_reset_of_an_estop_from_the_robots_remote_needs_the_robot_unless_allowed(
    may_reset: bool,
) -> None:
    config = FleetConfig(manufacturer="Acme", serial_number="T-1", may_reset_manual_estop=may_reset)
    robot = Robot(config)
    robot.event("ESTOP", "ESTOP_REMOTE")
    steps = robot.send(act("resetEmergencyStop", "r1"))
    if may_reset:
        assert steps == [Step(StepKind.RESET_ESTOP, "r1")]
        robot.run(steps[0])
        assert robot.status_of("r1") == "FINISHED"
    else:
        assert steps == []
        assert robot.status_of("r1") == "FAILED"


def test_start_while_estopped_fails_with_an_emergency_stop_error() -> None:
    robot = Robot(mode="ESTOP", last_cause="ESTOP_COMMAND", is_estopped=True)
    assert robot.send(act("startMotion", "m1")) == []
    errors = robot.errors()
    assert [e["errorType"] for e in errors] == ["emergencyStop", "emergencyStop"]
    assert robot.status_of("m1") == "FAILED"


def test_control_process_down_fails_the_motion_and_reports_startup() -> None:
    robot = Robot()
    robot.tracking()
    robot.state.on_status(ControlStatus(is_alive=False))
    body = robot.body()
    assert robot.status_of("m1") == "FAILED"
    assert body["operatingMode"] == "STARTUP"
    assert body["errors"][0]["errorType"] == "controlProcessDown"


def test_history_is_bounded_and_clear_instant_actions_forgets_errors() -> None:
    config = FleetConfig(manufacturer="Acme", serial_number="T-1", instant_action_history=4)
    robot = Robot(config)
    for index in range(6):
        robot.send(act("dance", f"d{index}"))
    ids = [e["actionId"] for e in robot.body()["instantActionStates"]]
    assert ids == ["d2", "d3", "d4", "d5"]
    assert len(robot.errors()) == 4
    robot.send(act("clearInstantActions", "c1"))
    assert [e["actionId"] for e in robot.body()["instantActionStates"]] == ["c1"]
    assert robot.errors() == []


def test_relevant_part_ignores_figures_but_not_the_mode() -> None:
    robot = Robot()
    first = relevant_part(robot.body())
    robot.state.on_status(ControlStatus(is_alive=True, mode="HOLD", ticks=999, track_frame=5))
    assert relevant_part(robot.body()) == first
    robot.event("DAMP", "DAMP_REQUESTED")
    assert relevant_part(robot.body()) != first


def test_battery_and_operating_mode_come_from_the_extras() -> None:
    robot = Robot()
    body = robot.body(RobotExtras(state_of_charge_pct=55.0, battery_voltage_v=50.1))
    assert body["powerSupply"] == {"stateOfCharge": 55.0, "charging": False, "batteryVoltage": 50.1}
    assert body["operatingMode"] == "AUTOMATIC"
    unknown = robot.body()
    assert unknown["powerSupply"]["stateOfCharge"] == 80.0
    assert any(i["infoType"] == "batteryReading" for i in unknown["information"])
    simulated = robot.body(RobotExtras(battery_source=BatterySource.SIMULATED))
    assert simulated["powerSupply"]["stateOfCharge"] == 100.0
    (info,) = [i for i in simulated["information"] if i["infoType"] == "batteryReading"]
    assert info["infoDescriptor"].startswith("simulated")


def test_reset_in_the_same_message_as_an_emergency_stop_is_not_executed() -> None:
    robot = Robot(mode="ESTOP", last_cause="ESTOP_COMMAND", is_estopped=True)
    steps = robot.send(act("resetEmergencyStop", "r1"), act("emergencyStop", "e1"))
    assert steps == []
    assert (robot.status_of("r1"), robot.status_of("e1")) == ("FAILED", "FINISHED")


def test_an_emergency_stop_cancels_queued_work_that_would_undo_it() -> None:
    """The e-stop is sent at once, ahead of the step queue; a reset or start still waiting in
    that queue must not run after it and clear or defeat it."""
    robot = Robot(mode="ESTOP", last_cause="ESTOP_COMMAND", is_estopped=True)
    (reset,) = robot.send(act("resetEmergencyStop", "r1"))
    robot.event("DAMP", "ESTOP_RESET")  # e.g. reset from the command line meanwhile
    (load,) = robot.send(act("startMotion", "m1", packageId="wave"))
    robot.send(act("emergencyStop", "e1"))
    assert not robot.state.before_step(reset)
    assert not robot.state.before_step(load)
    assert robot.status_of("r1") == robot.status_of("m1") == "FAILED"
    assert robot.state.motion_action_id is None


LATER = datetime(2026, 11, 21, 12, 0, 5, tzinfo=timezone.utc)


def test_a_new_message_reusing_an_action_id_is_answered_with_an_error() -> None:
    """Issue 13: a reused actionId in a new message was silently ignored."""
    robot = Robot()
    robot.tracking("m1")
    assert robot.send(act("stateRequest", "m1"), now=LATER) == []
    assert robot.status_of("m1") == "RUNNING", "the original action is untouched"
    assert robot.state.take_state_request() is False, "the reusing action did not run"
    (error,) = robot.errors()
    assert error["errorType"] == "duplicateActionId"
    assert "startMotion" in error["errorDescription"]
    assert {"referenceKey": "actionId", "referenceValue": "m1"} in error["errorReferences"]
    assert robot.send(act("stateRequest", "m1"), now=LATER) == []  # its redelivery: no more
    assert len(robot.errors()) == 1


def test_a_reused_id_in_a_rejected_message_is_reported_too() -> None:
    robot = Robot()
    robot.send(act("stateRequest", "s1"))
    robot.send(act("dance", "s1"), now=LATER)
    assert robot.status_of("s1") == "FINISHED"
    assert [e["errorType"] for e in robot.errors()] == ["duplicateActionId"]


def test_action_errors_expire_after_the_ttl_but_the_action_state_stays_failed() -> None:
    config = FleetConfig(manufacturer="Acme", serial_number="T-1", error_ttl_s=30.0)
    robot = Robot(config)
    robot.send(act("dance", "d1"))
    robot.send(act("stateRequest", "d1"), now=LATER)  # a message error (reused id)
    assert len(robot.errors()) == 2
    robot.clock.now_s += 29.0
    assert len(robot.errors()) == 2
    robot.clock.now_s += 1.0
    assert robot.errors() == []
    assert robot.status_of("d1") == "FAILED"
    entry = next(e for e in robot.body()["instantActionStates"] if e["actionId"] == "d1")
    assert "not supported" in entry["actionResult"], "the reason stays with the action"


def test_a_flood_of_rejected_actions_lists_only_the_newest_errors() -> None:
    """Issue 13: 16 errors were seen in one state. At most ``max_action_errors`` are listed."""
    robot = Robot()
    robot.send(*(act("dance", f"d{i}") for i in range(16)))
    errors = robot.errors()
    assert len(errors) == CONFIG.max_action_errors == 8
    ids = [e["errorReferences"][0]["referenceValue"] for e in errors]
    assert ids == [f"d{i}" for i in range(8, 16)]
    assert len(robot.body()["instantActionStates"]) == 16


def test_an_action_error_is_superseded_when_the_same_action_later_succeeds() -> None:
    robot = Robot()
    (start,) = robot.send(act("startMotion", "m1"))
    robot.run(start, CommandResult(False, "no motion loaded"))
    assert [e["errorType"] for e in robot.errors()] == ["actionRefused"]
    robot.tracking("m2")
    robot.event("HOLD", "TRACK_COMPLETE")
    assert robot.status_of("m2") == "FINISHED"
    assert robot.errors() == []
    assert robot.status_of("m1") == "FAILED"


def test_condition_errors_last_as_long_as_the_condition_whatever_the_ttl() -> None:
    config = FleetConfig(manufacturer="Acme", serial_number="T-1", error_ttl_s=1.0)
    robot = Robot(config)
    robot.event("ESTOP", "ESTOP_COMMAND")
    robot.clock.now_s += 3600.0
    assert [e["errorType"] for e in robot.errors()] == ["emergencyStop"]
    robot.event("DAMP", "ESTOP_RESET")
    assert robot.errors() == []
