"""SONIC-protocol streaming into the robot: the composition of the streaming parts.

The parts, each in its own module: the wire format (``stream_wire``, ``stream_messages``), the
SUB socket (``stream_subscriber``), the lifecycle (``stream_session``), frame building
(``stream_frames``), refusal accounting (``stream_refusals``), the relay thread that runs them
(``stream_relay``) with its own connection to the control process (``stream_control``).

This adapter builds them from the configuration, owns the relay thread, and does on the event
loop what belongs there: it watches supervisor transitions (an operator's enable lets a new
stream start after a stopped one), carries a producer's e-stop across a control-process restart
(``ControlLink.estop_now``), and answers ``exoactor-edge status`` and the fleet's state.

Which protocols the configured controller follows decides what a stream becomes: the PD tracker
follows v1 joint references and v3 SMPL frames mapped to joint angles; SONIC follows v3 in its
SMPL encoder mode, v1 in its G1 mode and v4 tokens straight into its decoder.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from controller.estop_latch import EstopOrigin
from controller.sonic.config import SonicConfig
from daemon.control.control_link import ControlLink
from daemon.inputs.stream_config import StreamingConfig
from daemon.inputs.stream_control import StreamControlClient
from daemon.inputs.stream_frames import FrameBuilder
from daemon.inputs.stream_refusals import StreamRefusals, fleet_information
from daemon.inputs.stream_relay import StreamRelay
from daemon.inputs.stream_session import RobotView, StreamSession
from daemon.inputs.stream_subscriber import StreamReceiver


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
        link: the control process (status, transitions, carrying a producer's e-stop).
        run_dir: where the control process's sockets are (the relay connects its own).
        sonic: ``[sonic]`` (None: the PD tracker follows streams).
        priority: SCHED_FIFO priority of the relay thread and its socket's I/O thread
            (``[realtime] stream_relay_priority``); None: normal priority.
        environ: where ``CREDENTIALS_DIRECTORY`` is looked up (CURVE keys).
    """

    def __init__(
        self,
        *,
        config: StreamingConfig,
        link: ControlLink,
        run_dir: str,
        sonic: SonicConfig | None = None,
        priority: int | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._link = link
        self._run_dir = run_dir
        self._priority = priority
        unsupported, maps_body = controller_profile(sonic)
        self.refusals = StreamRefusals(interval_s=config.refusal_log_interval_s)
        self.session = StreamSession(
            unsupported=unsupported,
            require_start=config.require_start,
            producer_stop=config.producer_stop,
            new_session_gap_s=config.new_session_gap_s,
        )
        self._builder = FrameBuilder(maps_body=maps_body)
        self._receiver = StreamReceiver(config=config, io_priority=priority, environ=environ)
        self._relay: StreamRelay | None = None
        self._control: StreamControlClient | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> StreamingInput:
        self._receiver.open()
        self._control = StreamControlClient(self._run_dir)
        loop = asyncio.get_running_loop()
        self._relay = StreamRelay(
            receiver=self._receiver,
            control=self._control,
            session=self.session,
            builder=self._builder,
            refusals=self.refusals,
            robot=self._robot,
            on_producer_estop=lambda message_id: self._call_soon(loop, message_id),
            priority=self._priority,
        )
        self._relay.start()
        self._task = asyncio.create_task(self._watch_modes(), name="stream-modes")
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        relay = self._relay
        if relay is not None:
            await asyncio.to_thread(relay.stop)
        if self._control is not None:
            self._control.close()
        self._receiver.close()
        if relay is not None and relay.failure is not None and ev is None:
            raise relay.failure

    # ------------------------------------------------------------------ status
    def status(self) -> dict[str, Any]:
        """For ``exoactor-edge status``: lifecycle, refusals, counters, the robot's figures."""
        relay = self._relay
        figures = relay.status() if relay is not None else self.session.status()
        return {**figures, "playback": self._link.status().stream}

    def information(self, within_s: float = 10.0) -> tuple[tuple[str, str], ...]:
        """``(infoType, infoDescriptor)`` pairs of recent refusals, for the fleet's state."""
        return fleet_information(self.refusals, within_s)

    @property
    def forwarded_frames(self) -> int:
        return self._relay.forwarded_frames if self._relay is not None else 0

    # ------------------------------------------------------------------ event loop side
    def _robot(self) -> RobotView:
        """(Called on the relay thread: reads the link's newest snapshot, replaced whole.)"""
        status = self._link.status()
        return RobotView(mode=status.mode, is_streaming=bool(status.stream.get("is_active")))

    def _call_soon(self, loop: asyncio.AbstractEventLoop, message_id: str) -> None:
        loop.call_soon_threadsafe(self._carry_estop, message_id)

    def _carry_estop(self, message_id: str) -> None:
        """The relay sent the producer's e-stop; the link carries it across a restart (its copy,
        under the same id, engages nothing a second time)."""
        self._link.estop_now(EstopOrigin.PRODUCER, message_id)

    async def _watch_modes(self) -> None:
        async for event in self._link.events():
            if event.mode == "RAMP" and self._relay is not None:
                self._relay.robot_enabled()
