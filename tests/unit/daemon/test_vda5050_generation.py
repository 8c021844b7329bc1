"""``generateMotion`` in the VDA 5050 state model: accepted as a job, progress, cancellation.

Real: the parser, ``FleetState`` and the official state schema (when ../shared is present).
Faked: nothing runs a job here; the test plays the service's part (progress, finish, fail).
"""

from __future__ import annotations

from daemon.control.control_link import ControlStatus
from daemon.fleet.vda5050.actions import ErrorType, parse_instant_actions

from .test_vda5050_state import Robot, act, payload


def receive(robot: Robot, *actions: dict[str, object]):  # type: ignore[no-untyped-def]
    parsed = parse_instant_actions(payload(*actions), manufacturer="Acme", serial_number="T-1")
    return robot.state.receive(parsed)


def test_generate_motion_is_handed_to_the_service_not_the_step_queue() -> None:
    robot = Robot(mode="PASSIVE")
    reaction = receive(robot, act("generateMotion", "g1", instruction="wave", autoStart=True))
    assert reaction.steps == ()
    assert [a.action_id for a in reaction.generations] == ["g1"]
    assert robot.status_of("g1") == "INITIALIZING"
    robot.state.generation_progress("g1", "video running 40%")
    assert robot.status_of("g1") == "RUNNING"
    robot.state.generation_finished("g1", "package gen-g1 started")
    assert robot.status_of("g1") == "FINISHED"


def test_generate_motion_without_an_instruction_fails_in_the_parser() -> None:
    robot = Robot()
    reaction = receive(robot, act("generateMotion", "g2", view="front"))
    assert reaction.generations == ()
    assert robot.status_of("g2") == "FAILED"
    assert any("instruction" in e["errorDescription"] for e in robot.errors())


def test_cancel_order_cancels_a_running_generation() -> None:
    robot = Robot(mode="HOLD")
    receive(robot, act("generateMotion", "g3", instruction="pick up the box"))
    reaction = receive(robot, act("cancelOrder", "c1"))
    assert reaction.is_generation_cancelled
    assert robot.status_of("c1") == "FINISHED"
    robot.state.generation_failed("g3", ErrorType.ACTION_REFUSED, "cancelled")
    assert robot.status_of("g3") == "FAILED"
    # With nothing generating or moving, cancelOrder has nothing to cancel (VDA 5050 §6.1.3).
    robot.state.on_status(ControlStatus(is_alive=True, mode="HOLD"))
    reaction = receive(robot, act("cancelOrder", "c2"))
    assert not reaction.is_generation_cancelled
    assert robot.status_of("c2") == "FAILED"
