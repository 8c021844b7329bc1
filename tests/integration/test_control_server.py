"""The control process's IPC server: e-stop priority and ordering against queued commands.

Real: ZeroMQ ``ipc://`` sockets in tmp_path, the loop, supervisor and server. Faked: the robot
(``FakeBackend`` from the controller unit tests) and nothing else.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import zmq

from controller.clock import MonotonicClock
from controller.dynamics import FeedforwardJoints
from controller.estop_latch import EstopLatch, EstopOrigin
from controller.ipc import COMMAND_SOCKET, ESTOP_SOCKET, endpoint
from controller.ipc.wire import pack, unpack
from controller.loop import ControlLoop, LoopConfig
from controller.pd_tracker import PdTracker, PdTrackerConfig
from controller.process.server import ControlServer, ServerConfig
from controller.safety import Cause, Mode, Supervisor, SupervisorConfig
from tests.unit.controller.conftest import FakeBackend, FakeClock

pytestmark = pytest.mark.integration


class WallClockBackend(FakeBackend):
    """The fake robot, stamped with the real monotonic clock the server waits on."""

    def read_state(self, out):  # type: ignore[no-untyped-def]
        self.state.stamp_ns = time.monotonic_ns()
        out.copy_from(self.state)


def make_server(tmp_path: Path) -> tuple[ControlServer, ControlLoop, FakeBackend]:
    clock = MonotonicClock()
    backend = WallClockBackend(FakeClock(time.monotonic_ns()))
    supervisor = Supervisor(SupervisorConfig(ramp_time_s=0.2), EstopLatch(tmp_path / "estop.json"))
    loop = ControlLoop(
        backend=backend,
        supervisor=supervisor,
        controller=PdTracker(None, PdTrackerConfig(feedforward=FeedforwardJoints.NONE)),
        clock=clock,
        waiter=None,  # type: ignore[arg-type]  # replaced by the server below
        config=LoopConfig(),
    )
    server = ControlServer(loop, ServerConfig(run_dir=str(tmp_path)))
    loop.waiter = server
    return server, loop, backend


def connect_clients(run_dir: Path) -> tuple[zmq.Socket[bytes], zmq.Socket[bytes]]:
    """The daemon's e-stop PUSH and command DEALER, connected to the server in ``run_dir``."""
    ctx = zmq.Context.instance()
    estop = ctx.socket(zmq.PUSH)
    estop.connect(endpoint(str(run_dir), ESTOP_SOCKET))
    commands = ctx.socket(zmq.DEALER)
    commands.connect(endpoint(str(run_dir), COMMAND_SOCKET))
    return estop, commands


def test_estop_overtakes_a_queued_reset_and_the_reset_is_refused(tmp_path: Path) -> None:
    server, loop, backend = make_server(tmp_path)
    estop, commands = connect_clients(tmp_path)
    try:
        loop.estop_now(Cause.ESTOP_COMMAND, EstopOrigin.FLEET)  # engaged by an earlier e-stop
        time.sleep(0.1)  # connections settle
        reset_sent = time.monotonic_ns()
        commands.send(pack({"kind": "reset_estop", "id": 1, "sent_ns": reset_sent}))
        estop.send(pack({"kind": "estop", "source": "test", "sent_ns": reset_sent + 1}))
        time.sleep(0.05)  # both are queued before the server polls
        written_before = len(backend.written)
        server.wait_until(time.monotonic_ns() + 30_000_000)
        answer = unpack(commands.recv(zmq.NOBLOCK))
        assert answer["accepted"] is False
        assert "e-stop was sent after" in answer["reason"]
        assert loop.supervisor.mode is Mode.ESTOP
        assert len(backend.written) == written_before, "already in ESTOP: nothing new to write"
        # A reset sent after the e-stop is accepted.
        commands.send(pack({"kind": "reset_estop", "id": 2, "sent_ns": time.monotonic_ns()}))
        server.wait_until(time.monotonic_ns() + 30_000_000)
        assert unpack(commands.recv(zmq.NOBLOCK))["accepted"] is True
        assert loop.supervisor.mode is Mode.DAMP
    finally:
        estop.close(0)
        commands.close(0)
        server.close()


def test_an_estop_is_acted_on_between_ticks_and_damping_is_written_at_once(
    tmp_path: Path,
) -> None:
    server, loop, backend = make_server(tmp_path)
    ctx = zmq.Context.instance()
    estop = ctx.socket(zmq.PUSH)
    estop.connect(endpoint(str(tmp_path), ESTOP_SOCKET))
    try:
        loop.supervisor.request_enable(time.monotonic_ns())
        loop.run(max_ticks=3)
        time.sleep(0.05)
        estop.send(b"garbage is still an e-stop")
        deadline = time.monotonic_ns() + 200_000_000
        server.wait_until(deadline)  # returns at the deadline, having served the e-stop
        assert loop.supervisor.mode is Mode.ESTOP
        last = backend.written[-1]
        assert np.all(last.kp == 0.0)
        assert np.all(last.kd > 0.0)
        assert (tmp_path / "estop.json").exists(), "the latch is persisted"
    finally:
        estop.close(0)
        server.close()


def test_a_reset_names_its_requester_and_only_the_robot_side_clears_a_local_estop(
    tmp_path: Path,
) -> None:
    server, loop, _ = make_server(tmp_path)
    estop, commands = connect_clients(tmp_path)
    try:
        time.sleep(0.1)  # connections settle
        estop.send(pack({"kind": "estop", "source": "local", "sent_ns": time.monotonic_ns()}))
        time.sleep(0.05)
        server.wait_until(time.monotonic_ns() + 30_000_000)
        assert loop.supervisor.estop_origin is EstopOrigin.LOCAL
        for requester, accepted in ((None, False), ("fleet", False), ("robot", True)):
            message = {"kind": "reset_estop", "id": 3, "sent_ns": time.monotonic_ns()}
            if requester is not None:
                message["requester"] = requester
            commands.send(pack(message))
            server.wait_until(time.monotonic_ns() + 30_000_000)
            answer = unpack(commands.recv(zmq.NOBLOCK))
            assert answer["accepted"] is accepted, (requester, answer)
        assert loop.supervisor.mode is Mode.DAMP
    finally:
        estop.close(0)
        commands.close(0)
        server.close()


def test_the_same_estop_request_by_two_paths_engages_once(tmp_path: Path) -> None:
    """The fleet sends each e-stop on its e-stop topic (relay) and on instantActions (fast
    lane): a copy arriving after a reset must not engage again; a new request does."""
    server, loop, _ = make_server(tmp_path)
    estop, commands = connect_clients(tmp_path)
    try:
        time.sleep(0.1)  # connections settle

        def send_estop(message_id: str) -> None:
            estop.send(pack({"kind": "estop", "source": "fleet", "id": message_id,
                             "sent_ns": time.monotonic_ns()}))  # fmt: skip
            time.sleep(0.05)
            server.wait_until(time.monotonic_ns() + 30_000_000)

        send_estop("a1")
        assert loop.supervisor.mode is Mode.ESTOP
        commands.send(pack({"kind": "reset_estop", "id": 1, "sent_ns": time.monotonic_ns()}))
        server.wait_until(time.monotonic_ns() + 30_000_000)
        assert unpack(commands.recv(zmq.NOBLOCK))["accepted"] is True
        send_estop("a1")  # the late copy
        assert loop.supervisor.mode is Mode.DAMP
        send_estop("b2")  # a new request
        assert loop.supervisor.mode is Mode.ESTOP
    finally:
        estop.close(0)
        commands.close(0)
        server.close()


def _track_played_to(tmp_path: Path, frames_left: int) -> tuple[ControlServer, ControlLoop]:
    """A server whose loop is in TRACK with ``frames_left`` of a 5-frame track still to play."""
    from tests.unit.controller.test_loop import make_track

    server, loop, _ = make_server(tmp_path)
    loop.load_track(make_track(5))
    assert loop.supervisor.request_enable(time.monotonic_ns())
    loop.run(max_ticks=20)  # real time: the 0.2 s ramp ends in HOLD
    assert loop.supervisor.mode is Mode.HOLD
    assert loop.start_track()
    for _ in range(500):  # through the blend-in (if any), then the frames
        if loop.next_frame >= 5 - frames_left:
            break
        loop.tick(time.monotonic_ns())
    assert loop.next_frame == 5 - frames_left
    assert loop.supervisor.mode is Mode.TRACK
    return server, loop


def _command(server: ControlServer, commands: zmq.Socket[bytes], kind: str) -> dict[str, object]:
    commands.send(pack({"kind": kind, "id": 7, "sent_ns": time.monotonic_ns()}))
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        server.wait_until(time.monotonic_ns() + 20_000_000)
        try:
            return dict(unpack(commands.recv(zmq.NOBLOCK)))
        except zmq.Again:
            continue
    raise AssertionError(f"no answer to {kind}")


@pytest.mark.parametrize("kind", ["pause", "stop_track"])
def test_a_pause_or_stop_after_the_last_frame_completes_the_track(
    tmp_path: Path, kind: str
) -> None:
    """Issue 13: a startPause at the last tick left a pause that could never be resumed ("mode
    is HOLD; cannot resume"), and a stop there reported a fully played motion as cancelled.
    Landing after the last frame, either one now ends the track as complete."""
    server, loop = _track_played_to(tmp_path, frames_left=0)
    _, commands = connect_clients(tmp_path)
    try:
        time.sleep(0.05)
        answer = _command(server, commands, kind)
        assert answer["accepted"] is True, answer
        assert loop.supervisor.mode is Mode.HOLD
        assert loop.supervisor.log.since(0)[-1].cause is Cause.TRACK_COMPLETE
        refused = _command(server, commands, "resume")
        assert (refused["accepted"], refused["reason"]) == (False, "nothing is paused")
    finally:
        commands.close(0)
        server.close()


def test_a_pause_with_one_frame_left_resumes_and_completes(tmp_path: Path) -> None:
    server, loop = _track_played_to(tmp_path, frames_left=1)
    _, commands = connect_clients(tmp_path)
    try:
        time.sleep(0.05)
        assert _command(server, commands, "pause")["accepted"] is True
        assert loop.supervisor.log.since(0)[-1].cause is Cause.TRACK_STOPPED
        assert _command(server, commands, "resume")["accepted"] is True
        for _ in range(500):  # the blend back in, the last frame, the blend out to rest
            if loop.supervisor.mode is not Mode.TRACK:
                break
            loop.tick(time.monotonic_ns())
        assert loop.supervisor.mode is Mode.HOLD
        assert loop.supervisor.log.since(0)[-1].cause is Cause.TRACK_COMPLETE
    finally:
        commands.close(0)
        server.close()
