"""The stream relay: producer messages -> decisions -> the control process, on a thread of its own.

Why a thread (at real-time priority where permitted, below the control loop and the e-stop
relay): a frame is worth something only if it arrives within the jitter buffer's target delay
(40 ms). The event loop shares the CPU with everything else the daemon does, and on a loaded
machine a normal-priority process waits its turn for tens of milliseconds; the benchmark
(``scripts/bench_stream.py --load``) showed the stream starving then. The relay waits on the
producer's socket, decodes, decides (``daemon.inputs.stream_session``), builds frames
(``daemon.inputs.stream_frames``) and hands them to the control process over its own connection
(``daemon.inputs.stream_control``), one message at a time, in order. A producer's e-stop is sent
from here at once.

What the event loop needs (status, refusals for the fleet, the robot's re-enable) crosses
under one lock: ``status`` and ``robot_enabled`` may be called from any thread.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from daemon.inputs.stream_control import StreamChunk, StreamControlClient
from daemon.inputs.stream_frames import FrameBuilder
from daemon.inputs.stream_messages import PoseMessage, ProducerCommand
from daemon.inputs.stream_refusals import RefusalCause, StreamRefusals
from daemon.inputs.stream_session import RobotView, Step, StepKind, StreamSession
from daemon.inputs.stream_subscriber import Command, Pose, Refused, StreamReceiver

log = logging.getLogger("daemon.inputs.streaming")

_POLL_MS = 50
_MAP_SAMPLES = 4096
"""Mapping costs kept for the status figures (the last ~80 s at 50 messages/s)."""
_CODE_CAUSES = {
    "not_holding": RefusalCause.NOT_HOLDING,
    "stream_running": RefusalCause.NOT_HOLDING,
    "protocol_unsupported": RefusalCause.PROTOCOL_UNSUPPORTED,
    "motion_running": RefusalCause.MOTION_RUNNING,
    "stream_ended": RefusalCause.STREAM_STOPPED,
}


class StreamRelay:
    """Runs the streaming path on a thread (see the module docstring).

    Args:
        receiver: the producer's SUB (opened).
        control: the relay's connection to the control process.
        session, builder, refusals: the lifecycle, frame building and refusal accounting.
        robot: the robot's mode and stream state now (from the control status; thread-safe).
        on_producer_estop: called (on the relay thread) with the request's id after a
            producer's e-stop was sent, so the daemon can carry it across a control-process
            restart (the same id: the copy engages once).
        priority: SCHED_FIFO priority of the thread; None leaves it as is.
    """

    def __init__(
        self,
        *,
        receiver: StreamReceiver,
        control: StreamControlClient,
        session: StreamSession,
        builder: FrameBuilder,
        refusals: StreamRefusals,
        robot: Callable[[], RobotView],
        on_producer_estop: Callable[[str], None],
        priority: int | None = None,
    ) -> None:
        self._receiver = receiver
        self._control = control
        self._session = session
        self._builder = builder
        self.refusals = refusals
        self._robot = robot
        self._on_producer_estop = on_producer_estop
        self._priority = priority
        self._lock = threading.Lock()
        self._is_stopping = threading.Event()
        self._enabled = False
        self._thread = threading.Thread(target=self._run, name="stream-relay", daemon=True)
        self.failure: BaseException | None = None
        self.sched = "other"
        self.forwarded_frames = 0
        self._map_cpu_ms = np.zeros(_MAP_SAMPLES)
        self._map_count = 0
        self._estop_logged_at = -float("inf")
        self._estops = 0

    # ------------------------------------------------------------------ any thread
    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        self._is_stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def robot_enabled(self) -> None:
        """The robot was enabled (RAMP): an operator's go for a new stream after a stop."""
        with self._lock:
            self._enabled = True

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                **self._session.status(),
                "messages": self._receiver.messages,
                "commands": self._receiver.commands,
                "forwarded_frames": self.forwarded_frames,
                "relay_sched": self.sched,
                **self._map_figures(),
                "refusals": self.refusals.snapshot(),
            }

    def _map_figures(self) -> dict[str, float | int]:
        """CPU milliseconds spent turning a message into frames (the current or last
        stream's recent messages)."""
        count = min(self._map_count, _MAP_SAMPLES)
        if count == 0:
            return {"map_messages": 0}
        recent = self._map_cpu_ms[:count]
        return {
            "map_messages": self._map_count,
            "map_ms_p50": float(np.percentile(recent, 50)),
            "map_ms_p99": float(np.percentile(recent, 99)),
            "map_ms_mean": float(recent.mean()),
        }

    # ------------------------------------------------------------------ the thread
    def _run(self) -> None:
        self._raise_priority()
        try:
            while not self._is_stopping.is_set():
                if not self._receiver.poll(_POLL_MS):
                    continue
                received = self._receiver.receive()
                with self._lock:
                    if self._enabled:
                        self._session.robot_enabled()
                        self._enabled = False
                if isinstance(received, Pose):
                    self._on_pose(received.message, received.received_ns)
                elif isinstance(received, Command):
                    self._on_command(received.command)
                elif isinstance(received, Refused):
                    error = received.error
                    self.refusals.refuse(error.code.value, f"{error.field}: {error.detail}")
        except BaseException as exc:
            # Not handled here: kept for the owner to re-raise on exit, and reported by the
            # thread's excepthook. The stream then goes stale, which the supervisor handles.
            self.failure = exc
            log.critical("the stream relay failed: %s", exc)
            raise

    def _raise_priority(self) -> None:
        if self._priority is None:
            return
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(self._priority))
        except OSError as exc:
            log.warning("stream relay stays at normal priority (SCHED_FIFO %d refused: %s)",
                        self._priority, exc)  # fmt: skip
            return
        self.sched = f"fifo {self._priority}"

    def _on_command(self, command: ProducerCommand) -> None:
        with self._lock:
            steps = self._session.on_command(command)
            session = self._session.session
            is_planner = self._session.is_planner_mode
        for step in steps:
            if step.kind is StepKind.ESTOP:
                # Each stop the producer sends is a request of its own (producers repeat
                # identical bytes), so the id is made here, per message received.
                self._estops += 1
                message_id = f"producer-{os.getpid()}-{self._estops}"
                self._control.estop(message_id)  # at once, before anything else
                self._on_producer_estop(message_id)
                now = time.monotonic()
                if now - self._estop_logged_at >= 1.0:
                    log.critical("e-stop from the streaming producer (command stop)",
                                 extra={"CAUSE": "producer_estop"})  # fmt: skip
                    self._estop_logged_at = now
            elif step.kind is StepKind.CLOSE:
                log.info("stream %d ended by the producer", session)
                self._control.close_stream(session)
        if command.planner and is_planner:
            self.refusals.refuse(RefusalCause.PLANNER_MODE,
                                 "the producer selected planner mode and there is no kinematic "
                                 "planner on this robot: pose frames are not tracked")  # fmt: skip

    def _on_pose(self, message: PoseMessage, received_ns: int) -> None:
        robot = self._robot()
        with self._lock:
            step = self._session.on_pose(message, received_ns * 1e-9, robot)
        if step.kind is StepKind.FORWARD:
            self._send(message, received_ns, step)
        elif step.cause is not None:
            self.refusals.refuse(step.cause, step.detail)
            if step.kind is StepKind.FAULT:
                self._control.fault(self._session.session)

    def _send(self, message: PoseMessage, received_ns: int, step: Step) -> None:
        session = self._session
        if step.is_open:
            self._builder.reset()
            with self._lock:
                self._map_count = 0
        started = time.thread_time_ns()  # CPU time: what mapping costs, not how long it waited
        built = self._builder.build(message)
        with self._lock:
            self._map_cpu_ms[self._map_count % _MAP_SAMPLES] = (
                time.thread_time_ns() - started
            ) * 1e-6
            self._map_count += 1
            heading = session.take_heading()
        if built.refused:
            self.refusals.refuse(RefusalCause.NO_BODY_POSE,
                                 f"{built.refused} frame(s): {built.refusal}")  # fmt: skip
        if built.frames is None:
            if step.is_open:
                with self._lock:
                    session.opened(False)
            return
        chunk = StreamChunk(
            session=session.session,
            frame_index=built.frames.frame_index,
            arrays=built.frames.arrays,
            received_ns=received_ns,
            is_open=step.is_open,
            take_over=step.take_over,
            protocol=message.version,
            catch_up=True if message.catch_up is None else message.catch_up,
            heading_increment_rad=(message.heading_increment_rad or 0.0) + heading,
        )
        result = self._control.frames(chunk)
        with self._lock:
            if step.is_open:
                session.opened(result.accepted)
            elif not result.accepted:
                session.ended(result.reason)
            if result.accepted:
                self.forwarded_frames += built.frames.frame_index.shape[0]
        if step.is_open and result.accepted:
            log.info("stream %d started: protocol v%d%s", session.session, message.version,
                     " (taking over from a motion)" if step.take_over else "")  # fmt: skip
        if not result.accepted:
            cause = _CODE_CAUSES.get(result.code, RefusalCause.CONTROL_REFUSED)
            self.refusals.refuse(cause, result.reason)
