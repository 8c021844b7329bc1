"""A reference track that grows while it plays: frames streamed in by a producer (SONIC protocol).

It offers what the loop and the PD tracker read from a ``ReferenceTrack`` (``q_hw``,
``hand_q``, ``dq_hw``, ``tau_ff_hw``, ... indexed through ``frame``), backed by preallocated ring
buffers. Frames are written by the producer's ``frame_index``, so the overlapping sliding windows
SONIC's producers send overwrite instead of duplicating; a gap is filled by holding the last
frame. The track never completes: when playback catches up with the newest frame it holds that
frame (as SONIC does), and the supervisor's reference-staleness check ends a dead stream.
"""

from __future__ import annotations

import sys

import numpy as np
import numpy.typing as npt

from controller.embodiment import g1
from controller.robot.base import F64
from estimators.track import ReferenceTrack


class StreamTrack:
    """Ring-buffered, growing reference track (duck-types ``ReferenceTrack`` for the tick)."""

    def __init__(
        self, package_id: str = "stream", capacity: int = 4096, max_gap_frames: int = 200
    ) -> None:
        if capacity < 16:
            raise ValueError(f"stream capacity must be >= 16 frames, got {capacity}")
        self.package_id = package_id
        self.capacity = capacity
        self.max_gap_frames = max_gap_frames
        self.q_hw = np.tile(g1.Q_DEFAULT, (capacity, 1))
        self.hand_q = np.zeros((capacity, 2, 7))
        self.hand_state = np.zeros((capacity, 2), dtype=np.int8)
        self.smpl_joints_local = np.zeros((capacity, 24, 3))
        self.root_quat_wxyz = np.tile([1.0, 0.0, 0.0, 0.0], (capacity, 1))
        self.dq_hw = np.zeros((capacity, g1.NUM_BODY_JOINTS))
        self.tau_ff_hw = np.zeros((capacity, g1.NUM_BODY_JOINTS))
        self._first_index: int | None = None
        self._newest = -1
        """Newest written position (0 = the stream's first frame); -1 before any."""

    @property
    def n_frames(self) -> int:
        """Unbounded: a stream ends by a stop command or by going stale, not by running out."""
        return sys.maxsize

    @property
    def newest(self) -> int:
        return self._newest

    @property
    def wrist_isaac(self) -> F64:
        wrists: F64 = self.q_hw[:, g1.WRIST_HW]
        return wrists

    def frame(self, index: int) -> int:
        """Ring slot for playback position ``index``: clamped to the frames available."""
        oldest = max(0, self._newest - self.capacity + 1)
        position = min(max(index, oldest), max(self._newest, 0))
        return position % self.capacity

    def write(self, frame_indices: npt.NDArray[np.int64], rows: ReferenceTrack) -> int:
        """Write frames by the producer's frame index; returns how many were new.

        The first frame ever written becomes position 0. Frames older than the ring are
        dropped; a gap before a new frame is filled by repeating the newest frame; a gap longer
        than ``max_gap_frames`` (a producer restart) continues right after the newest frame.
        """
        if frame_indices.shape[0] != rows.n_frames:
            raise ValueError("one frame index per row is required")
        if self._first_index is None:
            self._first_index = int(frame_indices[0])
        new = 0
        for row, producer_index in enumerate(frame_indices.tolist()):
            position = int(producer_index) - self._first_index
            if position - self._newest > self.max_gap_frames and self._newest >= 0:
                self._first_index += position - self._newest - 1
                position = self._newest + 1
            if position < 0 or position <= self._newest - self.capacity:
                continue  # before the stream began, or already overwritten in the ring
            while self._newest < position - 1:  # a gap: hold the newest frame
                self._copy_slot(self._newest % self.capacity if self._newest >= 0 else 0,
                                (self._newest + 1) % self.capacity)  # fmt: skip
                self._newest += 1
            self._set_slot(position % self.capacity, rows, row)
            if position > self._newest:
                self._newest = position
                new += 1
        return new

    def _set_slot(self, slot: int, rows: ReferenceTrack, row: int) -> None:
        self.q_hw[slot] = rows.q_hw[row]
        self.hand_q[slot] = rows.hand_q[row]
        self.hand_state[slot] = rows.hand_state[row]
        self.smpl_joints_local[slot] = rows.smpl_joints_local[row]
        self.root_quat_wxyz[slot] = rows.root_quat_wxyz[row]
        self.dq_hw[slot] = rows.dq_hw[row] if rows.dq_hw is not None else 0.0
        self.tau_ff_hw[slot] = rows.tau_ff_hw[row] if rows.tau_ff_hw is not None else 0.0

    def _copy_slot(self, source: int, target: int) -> None:
        for array in (self.q_hw, self.hand_q, self.hand_state, self.smpl_joints_local,
                      self.root_quat_wxyz, self.dq_hw, self.tau_ff_hw):  # fmt: skip
            array[target] = array[source]
