"""The frames of one stream, by position, in preallocated rings; and the stream's clock.

A producer numbers its frames (``frame_index``, 50 Hz); the first frame a stream writes is
position 0. Frames are written by position, so SONIC's sliding windows (each message repeats the
last few frames) overwrite instead of duplicating; a gap is filled with the frame that ends it
(so playback that jumps into a gap, on a catch-up, lands on the producer's new pose, not its old
one); a jump of more than ``max_gap_frames`` either way (a producer restart) continues right
after the newest frame and restarts the clock estimate.

Besides the references themselves the ring keeps what the controllers read per frame, derived
once here instead of every tick: joint velocities (central differences of the streamed
positions, for every protocol: what the robot is asked to follow, not what a producer claims),
the root orientation's first two columns and heading (SONIC's anchor), and tokens (v4).

The clock: each write gives one sample ``arrival - position * period`` (when position 0 would
have arrived had every frame been as fast as this one). The newest frame's arrival time is
estimated from the smallest sample of the last ``clock_window`` writes: network and scheduling
delays only ever add to a sample, so the minimum is the least-delayed path. Everything here runs
between ticks (it may allocate); the tick only reads.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from controller.embodiment import g1
from controller.robot.base import F64
from estimators.rotations import quat_to_matrix

TOKEN_DIM = 64


class StreamFrameError(ValueError):
    """Streamed frames whose arrays disagree in length or shape, or hold non-finite values."""


class StreamRing:
    """Ring-buffered frames of one stream, addressed by position (0 = the first frame)."""

    def __init__(
        self, capacity: int, *, period_ns: int, max_gap_frames: int, clock_window: int
    ) -> None:
        if capacity < 64:
            raise ValueError(f"stream capacity must be >= 64 frames, got {capacity}")
        self.capacity = capacity
        self.period_ns = period_ns
        self.max_gap_frames = max_gap_frames
        self.q_hw = np.tile(g1.Q_DEFAULT, (capacity, 1))
        self.dq_hw = np.zeros((capacity, g1.NUM_BODY_JOINTS))
        self.hand_q = np.zeros((capacity, 2, 7))
        self.hand_state = np.zeros((capacity, 2), dtype=np.int8)
        self.smpl_joints = np.zeros((capacity, 24, 3))
        self.root_quat_wxyz = np.tile([1.0, 0.0, 0.0, 0.0], (capacity, 1))
        self.root_columns = np.zeros((3, capacity, 2))
        """First two columns of each frame's root rotation, stored (3, C, 2) for the anchor."""
        self.root_columns[0, :, 0] = 1.0
        self.root_columns[1, :, 1] = 1.0
        self.root_yaw = np.zeros(capacity)
        self.token = np.zeros((capacity, TOKEN_DIM), dtype=np.float32)
        self._clock_samples = np.full(clock_window, np.inf)
        self._clock_count = 0
        self.first_index = 0
        """The producer's frame index of position 0 (moves when a jump is remapped)."""
        self.newest = -1
        """Newest written position; -1 before any."""
        self.restarts = 0
        """Jumps remapped (producer restarts, or a gap longer than ``max_gap_frames``)."""

    def reset(self) -> None:
        """Forget the stream (a new one starts at position 0); the arrays stay allocated."""
        self.newest = -1
        self.first_index = 0
        self.restarts = 0
        self._clock_samples.fill(np.inf)
        self._clock_count = 0

    @property
    def oldest(self) -> int:
        """Oldest position still in the ring (0 before the ring wraps)."""
        return max(0, self.newest - self.capacity + 1)

    def slot(self, position: int) -> int:
        return position % self.capacity

    # ------------------------------------------------------------------ the clock
    def newest_arrival_ns(self) -> float:
        """Estimated arrival time of the newest frame along the least-delayed path (ns)."""
        return float(self._clock_samples.min()) + self.newest * self.period_ns

    def _sample_clock(self, received_ns: int) -> None:
        self._clock_samples[self._clock_count % self._clock_samples.shape[0]] = (
            received_ns - self.newest * self.period_ns
        )
        self._clock_count += 1

    # ------------------------------------------------------------------ writing
    def write(
        self,
        frame_index: npt.NDArray[np.int64],
        frames: dict[str, npt.NDArray[np.floating] | npt.NDArray[np.integer]],
        received_ns: int,
    ) -> int:
        """Write frames by the producer's frame index; returns how many positions were new.

        Args:
            frame_index: (N,) producer frame numbers, increasing within a message.
            frames: ``q_hw`` (N, 29), ``hand_q`` (N, 2, 7), ``hand_state`` (N, 2), optional
                ``smpl_joints`` (N, 24, 3), ``root_quat_wxyz`` (N, 4), ``token`` (N, 64).
            received_ns: when the daemon received the message (monotonic ns).

        Raises:
            StreamFrameError: mismatched lengths or shapes, non-finite values.
        """
        n = _check(frame_index, frames)
        if self.newest < 0:
            self.first_index = int(frame_index[0])
        positions = frame_index.astype(np.int64) - self.first_index
        if self.newest >= 0 and abs(int(positions[-1]) - self.newest) > self.max_gap_frames:
            # A producer restart or a long gap: the message continues right after the newest
            # frame, and the clock starts over (its old samples describe another timeline).
            shift = int(positions[0]) - (self.newest + 1)
            self.first_index += shift
            positions -= shift
            self._clock_samples.fill(np.inf)
            self.restarts += 1
        before = self.newest
        for row in range(n):
            position = int(positions[row])
            if position < 0 or position <= self.newest - self.capacity:
                continue  # before the stream began, or already overwritten in the ring
            self._set(self.slot(position), frames, row)
            if self.newest >= 0:
                for skipped in range(self.newest + 1, position):
                    self._copy(position, skipped)  # a gap: filled with the frame after it
            self.newest = max(self.newest, position)
        if self.newest < 0:
            return 0
        self._velocities(max(before - 1, self.oldest, 0), self.newest)
        if self.newest > before:
            self._sample_clock(received_ns)
        return self.newest - before

    def _set(
        self,
        slot: int,
        frames: dict[str, npt.NDArray[np.floating] | npt.NDArray[np.integer]],
        row: int,
    ) -> None:
        self.q_hw[slot] = frames["q_hw"][row]
        self.hand_q[slot] = frames["hand_q"][row]
        self.hand_state[slot] = frames["hand_state"][row]
        smpl = frames.get("smpl_joints")
        self.smpl_joints[slot] = 0.0 if smpl is None else smpl[row]
        quat = frames.get("root_quat_wxyz")
        quat_row: F64 = np.array([1.0, 0.0, 0.0, 0.0]) if quat is None else np.asarray(quat[row])
        self.root_quat_wxyz[slot] = quat_row
        rotation = quat_to_matrix(quat_row)
        self.root_columns[:, slot, :] = rotation[:, :2]
        self.root_yaw[slot] = np.arctan2(rotation[1, 0], rotation[0, 0])
        token = frames.get("token")
        self.token[slot] = 0.0 if token is None else token[row]

    def _copy(self, source_position: int, target_position: int) -> None:
        s, t = self.slot(source_position), self.slot(target_position)
        for array in (self.q_hw, self.hand_q, self.hand_state, self.smpl_joints,
                      self.root_quat_wxyz, self.root_yaw, self.token):  # fmt: skip
            array[t] = array[s]
        self.root_columns[:, t, :] = self.root_columns[:, s, :]

    def _velocities(self, first: int, last: int) -> None:
        """Central differences for positions ``first..last`` (one-sided at the ends)."""
        dt = self.period_ns * 1e-9
        oldest = self.oldest
        for position in range(first, last + 1):
            before = max(position - 1, oldest)
            after = min(position + 1, last)
            if after == before:
                self.dq_hw[self.slot(position)] = 0.0
                continue
            np.subtract(self.q_hw[self.slot(after)], self.q_hw[self.slot(before)],
                        out=self.dq_hw[self.slot(position)])  # fmt: skip
            self.dq_hw[self.slot(position)] /= (after - before) * dt


_SHAPES = {"q_hw": (g1.NUM_BODY_JOINTS,), "hand_q": (2, 7), "hand_state": (2,),
           "smpl_joints": (24, 3), "root_quat_wxyz": (4,), "token": (TOKEN_DIM,)}  # fmt: skip
_REQUIRED = ("q_hw", "hand_q", "hand_state")


def _check(
    frame_index: npt.NDArray[np.int64],
    frames: dict[str, npt.NDArray[np.floating] | npt.NDArray[np.integer]],
) -> int:
    if frame_index.ndim != 1 or frame_index.shape[0] < 1:
        raise StreamFrameError(f"frame_index shape {frame_index.shape}; want (N,), N >= 1")
    n = int(frame_index.shape[0])
    if np.any(np.diff(frame_index) <= 0):
        raise StreamFrameError("frame_index must increase within a message")
    for name in _REQUIRED:
        if name not in frames:
            raise StreamFrameError(f"missing {name}")
    for name, array in frames.items():
        if name not in _SHAPES:
            raise StreamFrameError(f"unknown field {name}")
        if array.shape != (n, *_SHAPES[name]):
            raise StreamFrameError(f"{name}: shape {array.shape}, want {(n, *_SHAPES[name])}")
        if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
            raise StreamFrameError(f"{name}: non-finite values")
    return n
