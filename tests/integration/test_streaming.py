"""Issue 12's "what was seen", each as a regression test over real ZeroMQ sockets.

Real: a producer's PUB on tcp loopback, the daemon's streaming input (SUB, session, frames,
refusals), the control link over ipc, the control server, loop, supervisor, stream track and
PD tracker (``tests.support.stream_rig``). Faked: the robot (a standing robot that reports
healthy state and records commands) and the producer (the test publishes what SONIC's producers
send). No timing thresholds: the assertions are about modes, causes, counts and poses.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest

from controller.blend import BlendConfig
from controller.embodiment import g1
from daemon.control.control_link import CommandKind
from daemon.inputs.stream_config import ProducerStop
from daemon.inputs.stream_messages import pack_command_message, pack_pose_message
from tests.support.sonic_producer import realistic_v3_fields, v1_fields, v4_fields
from tests.support.stream_rig import StreamRig, elbow_commands, refusals, stream_rig

pytestmark = pytest.mark.integration

T = TypeVar("T")
ELBOW = g1.joint_index("left_elbow")
SHOULDER_ROLL = g1.joint_index("left_shoulder_roll")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(coro, timeout=60))


def v1(index: int, elbow: float = 1.42) -> bytes:
    """One v1 frame (as webcam-style producers send) with the issue's streamed elbow."""
    fields = v1_fields(1, first=index)
    fields["joint_pos"][:] = g1.Q_DEFAULT[g1.ISAAC_TO_HW].astype(np.float32)
    fields["joint_pos"][0, list(g1.ISAAC_TO_HW).index(ELBOW)] = elbow
    fields["body_quat"][:] = (1.0, 0.0, 0.0, 0.0)
    return pack_pose_message(1, fields)


def v3(index: int, *, send_pose: bool = True, window: int = 5) -> bytes:
    """A PICO-style v3 message: the last ``window`` frames, elbow slowly bending."""
    indices = np.arange(max(0, index - window + 1), index + 1)
    elbow = 0.3 + 0.2 * np.sin(indices / 25.0)
    return pack_pose_message(3, realistic_v3_fields(indices, elbow, send_pose=send_pose))


async def run_out(rig: StreamRig) -> None:
    """The producer stops: the stream goes stale, the robot holds, then damps."""
    await rig.wait_mode("HOLD")
    await rig.wait_mode("DAMP")


def stream_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "daemon.inputs.streaming"]


# ---------------------------------------------------------------------- lifecycle


def test_any_number_of_streams_per_run_each_from_hold(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Seen: after a stream ends (stale -> HOLD -> DAMP), enabling again and streaming left the
    robot in HOLD with no log line. Only a restart fixed it."""

    async def scenario() -> None:
        async with stream_rig(tmp_path) as rig:
            for round_ in range(3):
                await rig.enable()
                await rig.stream(v1, 40)
                assert rig.status().mode == "TRACK", f"stream {round_ + 1}"
                assert rig.status().stream["is_active"]
                await run_out(rig)
            assert rig.streaming.session.streams_started == 3

    with caplog.at_level(logging.INFO):
        run(scenario())
    assert sum("started" in line for line in stream_lines(caplog)) == 3


def test_a_new_stream_may_use_another_protocol(tmp_path: Path) -> None:
    """Seen: a v3 producer after a v1 session was refused "version changed ... streaming
    stopped" until the daemon restarted."""

    async def scenario() -> None:
        async with stream_rig(tmp_path) as rig:
            await rig.enable()
            await rig.stream(v1, 30)
            assert rig.status().stream["protocol"] == 1
            await run_out(rig)
            await rig.enable()
            await rig.stream(v3, 30)
            assert rig.status().mode == "TRACK"
            assert rig.status().stream["protocol"] == 3
            assert "version_changed" not in refusals(rig)

    run(scenario())


def test_a_protocol_change_within_a_stream_stops_it_holds_then_damps(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Seen: a mid-stream version switch held forever (never DAMP) and later messages were
    dropped silently."""

    async def scenario() -> None:
        async with stream_rig(tmp_path) as rig:
            await rig.enable()
            await rig.stream(v1, 30)
            await rig.stream(v3, 1)
            await rig.wait_mode("HOLD")
            assert rig.status().last_cause == "STREAM_PROTOCOL_CHANGED"
            await rig.stream(v3, 45)  # the producer goes on: refused, counted, not silent
            await rig.wait_mode("DAMP")
            assert rig.status().last_cause == "FAULT_HOLD_TIMEOUT"
            causes = refusals(rig)
            assert causes["version_changed"]["count"] == 1
            assert causes["stream_stopped"]["count"] >= 40

    with caplog.at_level(logging.INFO):
        run(scenario())
    lines = stream_lines(caplog)
    assert sum("[version_changed]" in line for line in lines) == 1
    assert sum("[stream_stopped]" in line for line in lines) == 1, "once per cause per 5 s"


# ---------------------------------------------------------------------- refusals


def test_streams_the_robot_cannot_follow_are_refused_loudly_once_per_cause(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Seen: a stream while PASSIVE/DAMP was ignored without a log line; v4 logged one line
    each, unthrottled; a NaN producer logged 300 ERROR lines in 6 s; each refusal twice, with
    different spellings."""

    async def scenario() -> None:
        async with stream_rig(tmp_path) as rig:
            await rig.stream(v1, 20)  # PASSIVE
            assert rig.status().mode == "PASSIVE"
            bad = v1_fields(1)
            bad["joint_pos"][0, 3] = np.nan
            nan_message = pack_pose_message(1, bad)
            for index in range(150):  # a NaN producer and a v4 producer, 3 s at 50 Hz
                await rig.send(nan_message)
                await rig.send(pack_pose_message(4, v4_fields(index)))
                await asyncio.sleep(0.02)
            causes = refusals(rig)
            assert causes["not_holding"]["count"] >= 15
            assert "PASSIVE" in causes["not_holding"]["last_detail"]
            assert causes["non_finite"]["count"] >= 140
            assert causes["protocol_unsupported"]["count"] >= 140
            status = rig.streaming.status()
            assert status["refusals"]["refused"] >= 300
            info = dict(rig.streaming.information())
            assert "streamRefusal" in info

    with caplog.at_level(logging.DEBUG):
        run(scenario())
    lines = stream_lines(caplog)
    assert len(lines) == 3, lines  # one per cause within 5 s, each spelt once
    assert {line.split("]")[0] for line in lines} == {
        "stream refused [not_holding", "stream refused [non_finite",
        "stream refused [protocol_unsupported"}  # fmt: skip
    assert not [r for r in caplog.records if "refused" in r.getMessage() and r.levelno >= 40]


# ---------------------------------------------------------------------- engage, poses


def test_a_stream_engages_with_the_package_blend_never_a_snap(tmp_path: Path) -> None:
    """Seen: at stream start the arm snapped from the hold pose to the streamed one (elbow
    0.6 -> 1.42 rad), limited only by the 0.25 rad/tick clamp."""

    async def scenario() -> np.ndarray:
        async with stream_rig(tmp_path) as rig:
            await rig.enable()
            before = len(rig.control.robot.commands())
            await rig.stream(v1, 100)
            assert rig.status().mode == "TRACK"
            return elbow_commands(rig.control.robot)[before - 1 :]

    elbows = run(scenario())
    steps = np.abs(np.diff(elbows))
    assert steps.max() <= BlendConfig().max_velocity_rad_s * 0.02 + 1e-9  # 0.04, not 0.25
    assert elbows[0] == pytest.approx(g1.Q_DEFAULT[ELBOW])
    assert elbows[-1] == pytest.approx(1.42)


def test_a_zero_smpl_pose_follows_the_joints_and_never_commands_a_t_pose(tmp_path: Path) -> None:
    """Seen: an all-zero smpl_pose mapped to a T-pose (shoulder roll ±1.571, straight elbows);
    producers that fill smpl_joints and leave smpl_pose zero exist."""

    async def scenario() -> np.ndarray:
        async with stream_rig(tmp_path) as rig:
            await rig.enable()
            await rig.stream(lambda i: v3(i, send_pose=False), 80)
            assert rig.status().mode == "TRACK"
            assert "no_body_pose" not in refusals(rig)
            commands = rig.control.robot.commands()[-20:]
            return np.array([c.q for c in commands])

    q = run(scenario())
    assert np.abs(q[:, SHOULDER_ROLL]).max() < 0.5, "arms down, as streamed"
    assert np.all(q[:, ELBOW] < 1.4), "bent elbows, as streamed"


def test_frames_with_no_body_at_all_are_refused_and_say_why(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with stream_rig(tmp_path) as rig:
            await rig.enable()
            empty = realistic_v3_fields(np.array([0]), send_pose=False)
            empty["smpl_joints"][:] = 0.0
            for index in range(30):
                empty["frame_index"][:] = index
                await rig.send(pack_pose_message(3, empty))
                await asyncio.sleep(0.02)
            assert rig.status().mode == "HOLD", "nothing to follow: the robot keeps holding"
            assert refusals(rig)["no_body_pose"]["count"] >= 20
            assert "T-pose" in refusals(rig)["no_body_pose"]["last_detail"]

    run(scenario())


# ---------------------------------------------------------------------- latency


def test_v3_windows_play_near_the_live_edge_with_velocity_feed_forward(tmp_path: Path) -> None:
    """Seen: playback started at the oldest frame of the first window (80 ms behind) and never
    recovered; v3 got no velocity feed-forward; v1 had no jitter buffer at all."""

    async def scenario() -> None:
        async with stream_rig(tmp_path) as rig:
            await rig.enable()
            await rig.stream(v3, 120)
            stream = rig.control.server._streams.stream  # read-only look inside the loop
            newest = stream.ring.newest
            assert newest - stream.position < 4.0, "not stuck a window (4 frames) behind"
            commands = rig.control.robot.commands()[-30:]
            assert max(abs(c.dq[ELBOW]) for c in commands) > 0.0, "velocity feed-forward"
            assert rig.streaming.forwarded_frames <= 120 + 4, "only new frames are forwarded"

    run(scenario())


# ---------------------------------------------------------------------- producer commands


def test_the_producers_stop_is_an_estop_with_its_origin(tmp_path: Path) -> None:
    """Seen: no way to e-stop from the producer side."""

    async def scenario() -> None:
        async with stream_rig(tmp_path) as rig:
            await rig.enable()
            await rig.stream(v1, 20)
            await rig.send(pack_command_message(start=False, stop=True, planner=False))
            await rig.wait_mode("ESTOP")
            assert rig.status().estop_origin == "producer"
            reset = await rig.link.command(CommandKind.RESET_ESTOP)
            assert reset.accepted, "the fleet may clear a producer's e-stop"
            await rig.wait_mode("DAMP")
            await asyncio.sleep(0.2)  # the e-stop's second copy (via the link) arrives late
            assert rig.status().mode == "DAMP", "a copy of a request does not engage again"
            # The producer repeats the very same bytes later: a new request, it engages.
            await rig.send(pack_command_message(start=False, stop=True, planner=False))
            await rig.wait_mode("ESTOP")

    run(scenario())


def test_start_takes_over_a_package_and_planner_mode_ends_the_stream(tmp_path: Path) -> None:
    """Seen: no way to start or stop from the producer side."""
    from tests.unit.controller.test_loop import make_track

    async def scenario() -> None:
        async with stream_rig(tmp_path, producer_stop=ProducerStop.HOLD) as rig:
            await rig.enable()
            loaded = await rig.link.load_track("pkg", make_track(3000))
            assert loaded.accepted
            assert (await rig.link.command(CommandKind.START_TRACK)).accepted
            await rig.stream(v1, 20)
            assert refusals(rig)["motion_running"]["count"] > 0
            await rig.send(pack_command_message(start=True, stop=False, planner=False))
            await rig.stream(v1, 30)
            await rig.wait_for(lambda: bool(rig.status().stream.get("is_active")))
            assert rig.status().loaded_package == "sonic-stream"
            await rig.send(pack_command_message(start=False, stop=False, planner=True))
            await rig.stream(v1, 60)  # pose frames in planner mode are refused
            await rig.wait_mode("HOLD")
            assert rig.status().last_cause == "TRACK_COMPLETE", "blended out, no fault"
            assert refusals(rig)["planner_mode"]["count"] > 0

    run(scenario())


def test_require_start_waits_for_the_producers_start(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with stream_rig(tmp_path, require_start=True) as rig:
            await rig.enable()
            await rig.stream(v1, 20)
            assert rig.status().mode == "HOLD"
            await rig.send(pack_command_message(start=True, stop=False, planner=False))
            await rig.stream(v1, 30)
            assert rig.status().mode == "TRACK"

    run(scenario())
