"""The stream lifecycle, sans I/O: many streams per run, protocol changes, stops, commands.

Real: ``StreamSession`` and the decoded messages it sees. Faked: time (seconds the test
passes) and the robot (a ``RobotView`` the test sets).
"""

from __future__ import annotations

from daemon.inputs.stream_config import ProducerStop
from daemon.inputs.stream_messages import (
    PoseMessage,
    ProducerCommand,
    decode_pose_message,
    pack_pose_message,
)
from daemon.inputs.stream_refusals import RefusalCause
from daemon.inputs.stream_session import RobotView, SessionPhase, StepKind, StreamSession
from tests.support.sonic_producer import v1_fields, v3_fields, v4_fields

HOLD = RobotView(mode="HOLD")
V1 = decode_pose_message(pack_pose_message(1, v1_fields(1)))
V3 = decode_pose_message(pack_pose_message(3, v3_fields(1)))
V4 = decode_pose_message(pack_pose_message(4, v4_fields()))


def started(session: StreamSession, message: PoseMessage, now: float) -> None:
    step = session.on_pose(message, now, HOLD)
    assert step.kind is StepKind.FORWARD
    assert step.is_open
    session.opened(True)
    assert session.phase is SessionPhase.ACTIVE


def test_streams_start_again_after_one_ends_and_may_change_protocol_between_them() -> None:
    session = StreamSession(unsupported={})
    started(session, V1, 0.0)
    assert session.on_pose(V1, 0.02, HOLD).kind is StepKind.FORWARD
    session.ended("stream session 1 is not running (mode HOLD, REFERENCE_STALE)")
    # The robot damped; an operator enables; two minutes later a v3 producer streams.
    assert session.on_pose(V3, 0.04, HOLD).cause is RefusalCause.STREAM_STOPPED
    session.robot_enabled()
    started(session, V3, 120.0)
    assert session.version == 3
    assert session.streams_started == 2


def test_a_version_change_within_a_stream_is_a_fault_and_stops_it() -> None:
    session = StreamSession(unsupported={})
    started(session, V1, 0.0)
    step = session.on_pose(V3, 0.02, HOLD)
    assert step.kind is StepKind.FAULT
    assert step.cause is RefusalCause.VERSION_CHANGED
    assert session.phase is SessionPhase.STOPPED
    refused = session.on_pose(V1, 0.04, HOLD)  # even the old version: stopped
    assert refused.cause is RefusalCause.STREAM_STOPPED
    started(session, V3, 0.04 + 1.0)  # after the producer's pause: a new stream


def test_a_refused_open_fixes_nothing() -> None:
    session = StreamSession(unsupported={})
    step = session.on_pose(V1, 0.0, RobotView(mode="DAMP"))
    assert step.cause is RefusalCause.NOT_HOLDING
    assert "enable" in step.detail
    step = session.on_pose(V1, 0.02, HOLD)
    assert step.is_open
    session.opened(False)  # the control process said no
    assert session.version is None
    started(session, V3, 0.04)


def test_protocols_the_controller_cannot_follow_are_refused_with_its_reason() -> None:
    session = StreamSession(unsupported={4: "the PD tracker cannot follow tokens"})
    step = session.on_pose(V4, 0.0, HOLD)
    assert step.cause is RefusalCause.PROTOCOL_UNSUPPORTED
    assert step.detail == "the PD tracker cannot follow tokens"


def test_a_playing_package_is_taken_over_only_after_the_producers_start() -> None:
    session = StreamSession(unsupported={})
    tracking = RobotView(mode="TRACK")
    assert session.on_pose(V1, 0.0, tracking).cause is RefusalCause.MOTION_RUNNING
    assert session.on_command(ProducerCommand(start=True, stop=False, planner=False)) == []
    step = session.on_pose(V1, 0.02, tracking)
    assert step.is_open
    assert step.take_over
    session.opened(True)
    assert not session.is_start_armed


def test_the_producers_stop_is_an_estop_or_a_graceful_end() -> None:
    stop = ProducerCommand(start=False, stop=True, planner=False)
    estop = StreamSession(unsupported={})
    started(estop, V1, 0.0)
    assert [s.kind for s in estop.on_command(stop)] == [StepKind.ESTOP]
    assert estop.phase is SessionPhase.STOPPED
    graceful = StreamSession(unsupported={}, producer_stop=ProducerStop.HOLD)
    started(graceful, V1, 0.0)
    assert [s.kind for s in graceful.on_command(stop)] == [StepKind.CLOSE]


def test_planner_mode_ends_the_stream_and_refuses_pose_frames_until_it_is_off() -> None:
    session = StreamSession(unsupported={})
    started(session, V3, 0.0)
    steps = session.on_command(ProducerCommand(start=True, stop=False, planner=True))
    assert [s.kind for s in steps] == [StepKind.CLOSE]
    assert session.on_pose(V3, 0.02, HOLD).cause is RefusalCause.PLANNER_MODE
    session.on_command(ProducerCommand(start=False, stop=False, planner=False))
    started(session, V3, 0.04)


def test_require_start_waits_for_the_producers_start() -> None:
    session = StreamSession(unsupported={}, require_start=True)
    assert session.on_pose(V1, 0.0, HOLD).cause is RefusalCause.START_REQUIRED
    session.on_command(
        ProducerCommand(start=True, stop=False, planner=False, delta_heading_rad=0.1)
    )
    started(session, V1, 0.02)
    assert session.take_heading() == 0.1
    assert session.take_heading() == 0.0
