"""SONIC-protocol streaming into the robot: decoded producer messages -> the control process.

``daemon.sonic_stream`` decodes SONIC's wire format; this adapter turns each message into
reference-track rows and forwards them, in order, to the control process, which plays one frame
per tick. v1 frames carry G1 joint positions; v3 frames carry SMPL joints and pose (plus the six
wrist angles): their body joints are mapped from the SMPL pose with the same SMPL -> G1 mapping
the motion packages use. The first frames start tracking when the robot holds; a stream that
stops makes the supervisor hold, then damp (reference staleness); a protocol version change
mid-stream stops streaming (the subscriber refuses it) and the robot holds. A stopped stream
restarts only as a new session, after the producer has been silent for ``NEW_SESSION_GAP_S``:
resuming mid-motion would snap the robot to wherever the operator now is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from types import TracebackType

import numpy as np

from controller.embodiment import g1
from daemon.control_link import ControlLink
from daemon.sonic_stream import (
    PoseMessage,
    SonicStreamConfig,
    SonicStreamSubscriber,
    StreamDecodeError,
    pose_message_to_track,
)
from estimators.g1_mapping import smpl_to_g1
from estimators.rotations import axis_angle_to_matrix
from estimators.track import ReferenceTrack

log = logging.getLogger(__name__)

NEW_SESSION_GAP_S = 1.0


def rows_from_message(message: PoseMessage, last_hand_q: np.ndarray | None) -> ReferenceTrack:
    """Reference rows for a v1 or v3 message (v3 body joints from its SMPL pose)."""
    rows = pose_message_to_track(message, last_hand_q=last_hand_q)
    if message.version != 3 or message.smpl_pose is None:
        return rows
    n = message.n_frames
    local = np.tile(np.eye(3), (n, 24, 1, 1))
    local[:, 1:22] = axis_angle_to_matrix(message.smpl_pose)
    q_hw = smpl_to_g1(local)
    q_hw[:, g1.WRIST_HW] = rows.q_hw[:, g1.WRIST_HW]  # the producer's wrist angles, as SONIC uses
    return replace(rows, q_hw=q_hw, dq_hw=None)


class StreamingInput:
    """Subscribes to a SONIC-protocol producer and feeds the control process (context manager)."""

    def __init__(self, *, config: SonicStreamConfig, link: ControlLink) -> None:
        self._link = link
        self._queue: asyncio.Queue[PoseMessage] = asyncio.Queue(maxsize=64)
        self._subscriber = SonicStreamSubscriber(
            config=config, on_message=self._enqueue, on_error=self._on_error
        )
        self._task: asyncio.Task[None] | None = None
        self._is_streaming = False
        self._may_start = True
        self._last_message_at = 0.0
        self._last_hand_q: np.ndarray | None = None
        self.dropped = 0
        self.forwarded = 0

    async def __aenter__(self) -> StreamingInput:
        await self._subscriber.__aenter__()
        self._task = asyncio.create_task(self._forward(), name="stream-forward")
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._subscriber.__aexit__(et, ev, tb)

    def _enqueue(self, message: PoseMessage) -> None:
        if self._queue.full():  # keep the newest: the control process plays the present
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(message)

    def _on_error(self, error: StreamDecodeError) -> None:
        log.error("stream message refused: %s", error, extra={"CAUSE": str(error.code)})
        if self._subscriber.is_stopped and self._is_streaming:
            self._is_streaming = False
            asyncio.get_running_loop().create_task(self._link.stop_stream())

    async def _forward(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            message = await self._queue.get()
            now = loop.time()
            if now - self._last_message_at >= NEW_SESSION_GAP_S:
                self._may_start = True  # the producer was silent: this is a new session
            self._last_message_at = now
            if message.version == 4:
                log.warning("protocol v4 tokens need the SONIC policy in token mode; ignored")
                continue
            if not self._is_streaming and not self._may_start:
                continue
            rows = await asyncio.to_thread(rows_from_message, message, self._last_hand_q)
            self._last_hand_q = rows.hand_q[-1]
            result = await self._link.stream(
                message.frame_index, rows, start=not self._is_streaming
            )
            if result.accepted:
                self._is_streaming = True
                self.forwarded += message.n_frames
            elif self._is_streaming:
                log.warning("stream stopped by the control process: %s", result.reason)
                self._is_streaming = False
                self._may_start = False
