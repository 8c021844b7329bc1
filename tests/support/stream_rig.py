"""The streaming path end to end in one test process: producer PUB -> StreamingInput (SUB) ->
ZmqControlLink (ipc) -> ControlServer -> ControlLoop, every socket real.

Real: the ZeroMQ sockets (tcp loopback for the producer, ipc for the control link), the
daemon's streaming input and control link, the control server, loop, supervisor, stream track
and controller. Faked: the robot (a backend that reports a healthy standing robot stamped with
the wall clock and records commands) and the process boundary: the control loop runs in a thread
of the test process (same pid) instead of a child process, so a test can look inside it.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import zmq
import zmq.asyncio

from controller.clock import MonotonicClock
from controller.dynamics import FeedforwardJoints
from controller.embodiment import g1
from controller.estop_latch import EstopLatch, EstopOrigin
from controller.loop import ControlLoop, LoopConfig
from controller.pd_tracker import PdTracker, PdTrackerConfig
from controller.process.server import ControlServer, ServerConfig
from controller.robot.base import RobotCommand, RobotState
from controller.safety import Supervisor, SupervisorConfig
from controller.sonic.config import SonicConfig
from controller.stream_track import StreamPlaybackConfig
from controller.tracking import TrackingController
from daemon.control.control_ipc import LinkConfig, ZmqControlLink
from daemon.control.control_link import CommandKind, ControlStatus
from daemon.inputs.stream_config import ProducerStop, StreamingConfig
from daemon.inputs.streaming import StreamingInput

FAST_SUPERVISOR = SupervisorConfig(ramp_time_s=0.2, fault_hold_s=0.6)


class WallClockRobot:
    """A standing robot that holds still; stamped with the monotonic clock; keeps commands."""

    def __init__(self) -> None:
        self.state = RobotState(has_imu=True, has_hands=True)
        self.state.q[:] = g1.Q_DEFAULT
        self.state.imu_quat_wxyz[:] = (1.0, 0.0, 0.0, 0.0)
        self.state.motor_temp_c.fill(40.0)
        self.written: list[RobotCommand] = []
        self._lock = threading.Lock()

    def read_state(self, out: RobotState) -> None:
        self.state.stamp_ns = time.monotonic_ns()
        out.copy_from(self.state)

    def write_command(self, command: RobotCommand) -> None:
        copy = RobotCommand()
        copy.copy_from(command)
        with self._lock:
            self.written.append(copy)

    def commands(self) -> list[RobotCommand]:
        with self._lock:
            return list(self.written)

    def close(self) -> None:
        pass


class ThreadedControl:
    """The control loop and its server in a thread; what ``ZmqControlLink`` needs of a
    ``ControlProcess`` (alive, pid, restarts, e-stop carrying)."""

    def __init__(
        self,
        run_dir: Path,
        *,
        controller: TrackingController | None = None,
        supervisor: SupervisorConfig = FAST_SUPERVISOR,
        playback: StreamPlaybackConfig | None = None,
    ) -> None:
        self.robot = WallClockRobot()
        self.loop = ControlLoop(
            backend=self.robot,
            supervisor=Supervisor(supervisor, EstopLatch(run_dir / "estop.json")),
            controller=controller
            or PdTracker(None, PdTrackerConfig(feedforward=FeedforwardJoints.NONE)),
            clock=MonotonicClock(),
            waiter=None,  # type: ignore[arg-type]  # the server, below
            config=LoopConfig(),
        )
        self.server = ControlServer(
            self.loop,
            ServerConfig(run_dir=str(run_dir), stream=playback or StreamPlaybackConfig()),
        )
        self.loop.waiter = self.server
        self.pid = os.getpid()
        self.restarts = 0
        self.carried: list[EstopOrigin] = []
        self._thread = threading.Thread(target=self.loop.run, name="test-control", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.loop.stop()
        self._thread.join(5.0)
        self.server.close()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def carry_estop(self, origin: EstopOrigin) -> None:
        self.carried.append(origin)

    def note_status(self, status: ControlStatus) -> None:
        pass

    def note_reset(self) -> None:
        pass


@dataclass
class StreamRig:
    control: ThreadedControl
    link: ZmqControlLink
    streaming: StreamingInput
    producer: zmq.asyncio.Socket
    frames_sent: int = 0
    elbow_log: list[float] = field(default_factory=list)

    def status(self) -> ControlStatus:
        return self.link.status()

    async def wait_for(self, what: Callable[[], bool], timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not what():
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout_s} s; status {self.status()}")
            await asyncio.sleep(0.01)

    async def wait_mode(self, mode: str, timeout_s: float = 10.0) -> None:
        await self.wait_for(lambda: self.link.status().mode == mode, timeout_s)

    async def enable(self) -> None:
        answer = await self.link.command(CommandKind.ENABLE)
        assert answer.accepted, answer.reason
        await self.wait_mode("HOLD")

    async def send(self, message: bytes) -> None:
        await self.producer.send(message)

    async def stream(
        self, make: Callable[[int], bytes], frames: int, period_s: float = 0.02
    ) -> None:
        """Publish ``make(i)`` for ``frames`` consecutive frame numbers at ``period_s``."""
        for _ in range(frames):
            await self.producer.send(make(self.frames_sent))
            self.frames_sent += 1
            await asyncio.sleep(period_s)


@asynccontextmanager
async def stream_rig(
    run_dir: Path,
    *,
    sonic: SonicConfig | None = None,
    controller: TrackingController | None = None,
    require_start: bool = False,
    producer_stop: ProducerStop = ProducerStop.ESTOP,
    supervisor: SupervisorConfig = FAST_SUPERVISOR,
    playback: StreamPlaybackConfig | None = None,
) -> AsyncIterator[StreamRig]:
    """Everything started, the producer bound and joined; the robot still PASSIVE.

    ``run_dir`` must exist (the control sockets and the e-stop latch go there).
    """
    control = ThreadedControl(
        run_dir, controller=controller, supervisor=supervisor, playback=playback
    )
    control.start()
    ctx = zmq.asyncio.Context()
    producer = ctx.socket(zmq.PUB)
    producer.setsockopt(zmq.LINGER, 0)
    port = producer.bind_to_random_port("tcp://127.0.0.1")
    config = StreamingConfig(
        endpoint=f"tcp://127.0.0.1:{port}",
        require_start=require_start,
        producer_stop=producer_stop,
        playback=playback or StreamPlaybackConfig(),
    )
    try:
        async with (
            ZmqControlLink(
                process=control,  # type: ignore[arg-type]  # the ControlProcess surface it uses
                run_dir=str(run_dir),
                config=LinkConfig(),
            ) as link,
            StreamingInput(
                config=config, link=link, run_dir=str(run_dir), sonic=sonic
            ) as streaming,
        ):
            rig = StreamRig(control, link, streaming, producer)
            await rig.wait_for(lambda: link.status().is_alive)
            await asyncio.sleep(0.3)  # the SUB joins the PUB (ZeroMQ's slow joiner)
            yield rig
    finally:
        producer.close(0)
        ctx.term()
        control.stop()


def elbow_commands(robot: WallClockRobot, joint: str = "left_elbow") -> np.ndarray:
    index = g1.joint_index(joint)
    return np.array([c.q[index] for c in robot.commands()])


def refusals(rig: StreamRig) -> dict[str, Any]:
    by_cause: dict[str, Any] = rig.streaming.status()["refusals"]["by_cause"]
    return by_cause
