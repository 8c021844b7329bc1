"""SONIC-protocol streaming into the robot: producer messages -> decisions -> the control process.

The parts, each in its own module: the wire format (``stream_wire``, ``stream_messages``), the
SUB socket (``stream_subscriber``), the lifecycle (``stream_session``), frame building
(``stream_frames``) and refusal accounting (``stream_refusals``). This adapter wires them to the
``ControlLink``: pose messages are queued (newest kept) and forwarded in order by one task; a
producer's e-stop goes to the control process's e-stop socket at once, from the receive path,
never behind queued frames; supervisor transitions are watched so an operator's enable can start
a new stream after a stopped one.

Which protocols the configured controller follows decides what a stream becomes: the PD tracker
follows v1 joint references and v3 SMPL frames mapped to joint angles here; SONIC follows v3 in
its SMPL encoder mode, v1 in its G1 mode and v4 tokens straight into its decoder.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import numpy as np

from controller.estop_latch import EstopOrigin
from controller.sonic.config import SonicConfig
from daemon.control_link import ControlLink, StreamChunk
from daemon.stream_config import StreamingConfig
from daemon.stream_frames import FrameBuilder
from daemon.stream_messages import PoseMessage, ProducerCommand
from daemon.stream_refusals import RefusalCause, StreamRefusals, fleet_information
from daemon.stream_session import RobotView, Step, StepKind, StreamSession
from daemon.stream_subscriber import StreamSubscriber
from daemon.stream_wire import StreamDecodeError

log = logging.getLogger(__name__)

_QUEUE_MESSAGES = 16
_MAP_SAMPLES = 4096
"""Mapping costs kept for the status figures (the last ~80 s at 50 messages/s)."""
_CODE_CAUSES = {
    "not_holding": RefusalCause.NOT_HOLDING,
    "stream_running": RefusalCause.NOT_HOLDING,
    "protocol_unsupported": RefusalCause.PROTOCOL_UNSUPPORTED,
    "motion_running": RefusalCause.MOTION_RUNNING,
    "stream_ended": RefusalCause.STREAM_STOPPED,
}


def controller_profile(sonic: SonicConfig | None) -> tuple[dict[int, str], bool]:
    """``(unsupported protocols -> why, maps_body)`` for the configured controller."""
    if sonic is None:
        return {4: "protocol v4 streams SONIC tokens; the PD tracker cannot follow them "
                   "(configure [sonic] to track token streams)"}, True  # fmt: skip
    if sonic.token_mode or sonic.encoder_path is None:
        why = "SONIC runs in token mode only (no encoder): protocol v{} needs its encoder"
        return {1: why.format(1), 3: why.format(3)}, False
    return {}, False


class StreamingInput:
    """Subscribes to a SONIC-protocol producer and drives the control process (context manager).

    Args:
        config: ``[streaming]``.
        link: the control process.
        sonic: ``[sonic]`` (None: the PD tracker follows streams).
        refusals: where refusals are counted and logged (a fresh one by default).
    """

    def __init__(
        self,
        *,
        config: StreamingConfig,
        link: ControlLink,
        sonic: SonicConfig | None = None,
        refusals: StreamRefusals | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._link = link
        unsupported, maps_body = controller_profile(sonic)
        self.refusals = refusals or StreamRefusals(interval_s=config.refusal_log_interval_s)
        self.session = StreamSession(
            unsupported=unsupported,
            require_start=config.require_start,
            producer_stop=config.producer_stop,
            new_session_gap_s=config.new_session_gap_s,
        )
        self._builder = FrameBuilder(maps_body=maps_body)
        self._queue: asyncio.Queue[tuple[PoseMessage, int]] = asyncio.Queue(_QUEUE_MESSAGES)
        self._subscriber = StreamSubscriber(
            config=config,
            on_pose=self._enqueue,
            on_command=self._on_command,
            on_refusal=self._on_decode_refusal,
            environ=environ,
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._closing: set[asyncio.Task[Any]] = set()
        self._estop_logged_at = -float("inf")
        self.dropped = 0
        self.forwarded_frames = 0
        self._map_cpu_ms = np.zeros(_MAP_SAMPLES)
        self._map_count = 0

    async def __aenter__(self) -> StreamingInput:
        await self._subscriber.__aenter__()
        self._tasks = [
            asyncio.create_task(self._forward(), name="stream-forward"),
            asyncio.create_task(self._watch_modes(), name="stream-modes"),
        ]
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        tasks = [*self._tasks, *self._closing]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._subscriber.__aexit__(et, ev, tb)

    # ------------------------------------------------------------------ status
    def status(self) -> dict[str, Any]:
        """For ``exoactor-edge status``: lifecycle, refusals, counters, the robot's figures."""
        return {
            **self.session.status(),
            "messages": self._subscriber.messages,
            "commands": self._subscriber.commands,
            "dropped": self.dropped,
            "forwarded_frames": self.forwarded_frames,
            **self.map_figures(),
            "refusals": self.refusals.snapshot(),
            "playback": self._link.status().stream,
        }

    def map_figures(self) -> dict[str, float | int]:
        """CPU milliseconds the daemon spent turning a message into frames (the current or
        last stream's recent messages)."""
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

    def information(self, within_s: float = 10.0) -> tuple[tuple[str, str], ...]:
        """``(infoType, infoDescriptor)`` pairs of recent refusals, for the fleet's state."""
        return fleet_information(self.refusals, within_s)

    # ------------------------------------------------------------------ receive path
    def _enqueue(self, message: PoseMessage, received_ns: int) -> None:
        if self._queue.full():  # keep the newest: the jitter buffer bridges a gap
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait((message, received_ns))

    def _on_decode_refusal(self, error: StreamDecodeError) -> None:
        self.refusals.refuse(error.code.value, f"{error.field}: {error.detail}")

    def _on_command(self, command: ProducerCommand) -> None:
        for step in self.session.on_command(command):
            if step.kind is StepKind.ESTOP:
                # At once, from the receive path: never behind queued frames.
                self._link.estop_now(EstopOrigin.PRODUCER)
                now = time.monotonic()
                if now - self._estop_logged_at >= 1.0:
                    log.critical("e-stop from the streaming producer (command stop)",
                                 extra={"CAUSE": "producer_estop"})  # fmt: skip
                    self._estop_logged_at = now
            elif step.kind is StepKind.CLOSE:
                log.info("stream %d ended by the producer", self.session.session)
                task = asyncio.get_running_loop().create_task(
                    self._link.stream_close(self.session.session), name="stream-close"
                )
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
        if command.planner and self.session.is_planner_mode:
            self.refusals.refuse(RefusalCause.PLANNER_MODE,
                                 "the producer selected planner mode and there is no kinematic "
                                 "planner on this robot: pose frames are not tracked")  # fmt: skip

    # ------------------------------------------------------------------ forwarding
    def _robot(self) -> RobotView:
        status = self._link.status()
        return RobotView(mode=status.mode, is_streaming=bool(status.stream.get("is_active")))

    async def _forward(self) -> None:
        while True:
            message, received_ns = await self._queue.get()
            step = self.session.on_pose(message, received_ns * 1e-9, self._robot())
            if step.kind is StepKind.FORWARD:
                await self._send(message, received_ns, step)
            elif step.cause is not None:
                self.refusals.refuse(step.cause, step.detail)
                if step.kind is StepKind.FAULT:
                    await self._link.stream_fault(self.session.session)

    async def _send(self, message: PoseMessage, received_ns: int, step: Step) -> None:
        session = self.session
        if step.is_open:
            self._builder.reset()
            self._map_count = 0
        started = time.thread_time_ns()  # CPU time: what mapping costs, not how long it waited
        built = self._builder.build(message)
        self._map_cpu_ms[self._map_count % _MAP_SAMPLES] = (time.thread_time_ns() - started) * 1e-6
        self._map_count += 1
        if built.refused:
            self.refusals.refuse(RefusalCause.NO_BODY_POSE,
                                 f"{built.refused} frame(s): {built.refusal}")  # fmt: skip
        if built.frames is None:
            if step.is_open:
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
            heading_increment_rad=(message.heading_increment_rad or 0.0) + session.take_heading(),
        )
        result = await self._link.stream_frames(chunk)
        if step.is_open:
            session.opened(result.accepted)
            if result.accepted:
                log.info("stream %d started: protocol v%d%s", session.session, message.version,
                         " (taking over from a motion)" if step.take_over else "")  # fmt: skip
        elif not result.accepted:
            session.ended(result.reason)
        if result.accepted:
            self.forwarded_frames += built.frames.frame_index.shape[0]
        else:
            cause = _CODE_CAUSES.get(result.code, RefusalCause.CONTROL_REFUSED)
            self.refusals.refuse(cause, result.reason)

    async def _watch_modes(self) -> None:
        """An operator's enable (RAMP) lets a new stream start after a stopped one."""
        async for event in self._link.events():
            if event.mode == "RAMP":
                self.session.robot_enabled()
