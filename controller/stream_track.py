"""Streamed references played through a jitter buffer: newest frame minus a target delay.

Producers send 50 Hz frames over a network and a busy daemon: they arrive late, early and in
bursts. Playing "one frame per tick from the first frame" (SONIC's own consumption) keeps every
delay it ever met. Here a playback cursor (a fractional stream position) is steered, every tick,
toward ``newest frame - target delay`` on the stream's own clock (``StreamRing``):

- at the start it is placed there, not at the oldest frame of the first window;
- every tick it advances by a rate within ``1 ± max_warp``, proportional to how far it is from
  the target (bounded time warping): behind, it plays a little faster; ahead, a little slower.
  No frame is dropped or repeated; the reference is resampled between frames;
- when the buffer runs dry it holds the newest frame (a *starved* tick, counted once the
  buffer has first filled to the target delay: a stream's first frames are not starvation);
- ``catch_up`` messages (SONIC's default) make a cursor more than ``catch_up_frames`` behind jump
  to the target instead (the loop blends the robot there); without it, warping alone catches up.

What the controllers read (``TrackView``) is a *window*: row ``k`` is the reference at the
cursor plus ``k`` frames, interpolated, clamped at the newest frame (SONIC's look-ahead past the
stream's end repeats its last frame). ``frame(i)`` indexes that window, so a controller reads row
0 each tick. The velocity feed-forward (``dq_hw``) is scaled by the playback rate.

``advance`` runs inside the control tick: it allocates nothing and does no I/O.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from controller.embodiment import g1
from controller.robot.base import F64
from controller.stream_ring import TOKEN_DIM, StreamRing

F32 = npt.NDArray[np.float32]

STREAM_PACKAGE_ID = "sonic-stream"


@dataclass(frozen=True)
class StreamPlaybackConfig:
    """The jitter buffer and playback of streamed references."""

    target_delay_s: float = 0.04
    """How far behind the newest frame playback stays. It absorbs arrival jitter up to about
    this much; each 20 ms more of it is 20 ms more latency."""
    max_warp: float = 0.25
    """Playback rate stays within ``1 ± max_warp`` (catches up 80 ms in about 0.4 s)."""
    warp_gain: float = 0.1
    """Rate change per frame of distance from the target (a ~0.2 s time constant)."""
    catch_up_frames: float = 10.0
    """With ``catch_up``, a cursor further behind than this jumps (with a blend)."""
    capacity_frames: int = 512
    window_frames: int = 46
    """Frames after the cursor the controllers may read (SONIC's G1 mode looks 0.9 s ahead)."""
    max_gap_frames: int = 200
    """A jump in frame numbers beyond this is a producer restart (as SONIC's merger)."""
    clock_window: int = 50
    """Messages the stream clock keeps its minimum over (1 s at 50 Hz)."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.target_delay_s) and 0.0 <= self.target_delay_s <= 1.0):
            raise ValueError(f"streaming target_delay_s must be within 0..1 s, got "
                             f"{self.target_delay_s}")  # fmt: skip
        if not 0.0 < self.max_warp < 1.0:
            raise ValueError(f"streaming max_warp must lie in (0, 1), got {self.max_warp}")
        if not self.warp_gain > 0.0 or not self.catch_up_frames > 0.0:
            raise ValueError("streaming warp_gain and catch_up_frames must be positive")
        if self.window_frames < 1 or self.clock_window < 1 or self.max_gap_frames < 1:
            raise ValueError("streaming window_frames, clock_window, max_gap_frames must be >= 1")
        if self.capacity_frames < max(64, 2 * self.window_frames):
            raise ValueError("streaming capacity_frames must be >= 64 and twice window_frames")


# Slots of the tick state (a float array, so the tick keeps no new Python objects alive).
_POS, _RATE, _LAG, _STARVED, _JUMPS, _JUMP_PENDING, _REALIGN, _HEADING, _PRIMED = range(9)


class StreamTrack:
    """A growing reference track played through a jitter buffer (see the module docstring).

    Built once per control process; ``begin`` starts each stream in the same buffers.
    """

    def __init__(self, config: StreamPlaybackConfig, period_s: float) -> None:
        self.config = config
        self.period_ns = round(period_s * 1e9)
        self.ring = StreamRing(
            config.capacity_frames,
            period_ns=self.period_ns,
            max_gap_frames=config.max_gap_frames,
            clock_window=config.clock_window,
        )
        self.package_id = STREAM_PACKAGE_ID
        self.session = -1
        self.protocol = 0
        w = config.window_frames
        self._delay_frames = config.target_delay_s / period_s
        self._state = np.zeros(9)
        self._window_q = np.tile(g1.Q_DEFAULT, (w, 1))
        self._window_dq = np.zeros((w, g1.NUM_BODY_JOINTS))
        self._window_tau = np.zeros((w, g1.NUM_BODY_JOINTS))
        self._window_hand_q = np.zeros((w, 2, 7))
        self._window_hand_state = np.zeros((w, 2), dtype=np.int8)
        self._window_smpl = np.zeros((w, 24, 3))
        self._window_quat = np.tile([1.0, 0.0, 0.0, 0.0], (w, 1))
        self.window_columns = np.zeros((3, w, 2))
        self.window_yaw = np.zeros(w)
        self.window_smpl32: F32 = np.zeros((w, 72), dtype=np.float32)
        """(W, 72) SMPL joints as SONIC's encoder reads them (float32, flat per frame)."""
        self.window_wrists32: F32 = np.zeros((w, 6), dtype=np.float32)
        self.window_q_isaac32: F32 = np.zeros((w, g1.NUM_BODY_JOINTS), dtype=np.float32)
        self.window_dq_isaac32: F32 = np.zeros((w, g1.NUM_BODY_JOINTS), dtype=np.float32)
        self.token: F32 = np.zeros(TOKEN_DIM, dtype=np.float32)
        """The token at the cursor (v4; nearest frame, tokens are not interpolated)."""
        self._token_row: F32 = self.token.reshape(1, TOKEN_DIM)
        # Scratch for the window (indices and interpolation operands).
        self._k = np.arange(w, dtype=np.intp)
        self._ia = np.zeros(w, dtype=np.intp)
        self._ib = np.zeros(w, dtype=np.intp)
        self._a29 = np.zeros((w, g1.NUM_BODY_JOINTS))
        self._b29 = np.zeros((w, g1.NUM_BODY_JOINTS))
        self._a_hand = np.zeros((w, 2, 7))
        self._b_hand = np.zeros((w, 2, 7))
        self._a_smpl = np.zeros((w, 24, 3))
        self._b_smpl = np.zeros((w, 24, 3))
        self._a_quat = np.zeros((w, 4))
        self._b_quat = np.zeros((w, 4))
        self._a_col = np.zeros((3, w, 2))
        self._b_col = np.zeros((3, w, 2))
        self._wrists = np.zeros((w, 6))
        self._isaac = np.zeros((w, g1.NUM_BODY_JOINTS))
        self._near = np.zeros(1, dtype=np.intp)

    # ------------------------------------------------------------------ TrackView
    @property
    def n_frames(self) -> int:
        """Unbounded: a stream ends by a stop or by going stale, never by running out."""
        return sys.maxsize

    @property
    def q_hw(self) -> F64:
        return self._window_q

    @property
    def dq_hw(self) -> F64:
        return self._window_dq

    @property
    def tau_ff_hw(self) -> F64:
        return self._window_tau

    @property
    def hand_q(self) -> F64:
        return self._window_hand_q

    @property
    def hand_state(self) -> npt.NDArray[np.int8]:
        return self._window_hand_state

    @property
    def smpl_joints_local(self) -> F64:
        return self._window_smpl

    @property
    def root_quat_wxyz(self) -> F64:
        return self._window_quat

    @property
    def wrist_isaac(self) -> F64:
        return self._wrists

    def frame(self, index: int) -> int:
        """Row of the window for ``index`` frames after the cursor (clamped into it)."""
        return 0 if index < 0 else min(index, self.config.window_frames - 1)

    # ------------------------------------------------------------------ between ticks
    def begin(self, session: int, protocol: int) -> None:
        """Forget the previous stream; the next ``write`` is this stream's first frame."""
        self.ring.reset()
        self.session, self.protocol = session, protocol
        self._state.fill(0.0)
        self._state[_RATE] = 1.0
        self._state[_POS] = -1.0  # placed at the target by the first advance

    def write(
        self,
        frame_index: npt.NDArray[np.int64],
        frames: dict[str, npt.NDArray[np.floating] | npt.NDArray[np.integer]],
        received_ns: int,
        *,
        catch_up: bool = True,
        heading_increment_rad: float = 0.0,
    ) -> int:
        """Add frames (see ``StreamRing.write``); returns how many were new.

        ``catch_up``: the producer allows a jump to the live edge (SONIC's default).
        ``heading_increment_rad`` accumulates until a controller takes it (``take_heading``).
        """
        restarts = self.ring.restarts
        new = self.ring.write(frame_index, frames, received_ns)
        if self.ring.restarts != restarts and catch_up:
            self._state[_REALIGN] = 1.0  # a producer restart: re-capture the heading
        self._state[_JUMP_PENDING] = 1.0 if catch_up else 0.0
        self._state[_HEADING] += heading_increment_rad
        if self._state[_POS] < 0.0:
            self._place(received_ns)
        return new

    # ------------------------------------------------------------------ the tick
    def advance(self, now_ns: int) -> bool:
        """Move the cursor for this tick and refresh the window. True when it jumped (a
        catch-up): the caller blends the robot to the new reference."""
        state, ring = self._state, self.ring
        if ring.newest < 0:
            return False
        live = (now_ns - ring.newest_arrival_ns()) / self.period_ns + ring.newest
        target = live - self._delay_frames
        position = state[_POS]
        error = target - (position + 1.0)  # how far off a nominal one-frame step would land
        jumped = False
        if state[_JUMP_PENDING] > 0.0 and error > self.config.catch_up_frames:
            position = target
            state[_JUMPS] += 1.0
            state[_REALIGN] = 1.0
            jumped = True
            rate = 1.0
        else:
            rate = 1.0 + min(max(self.config.warp_gain * error, -self.config.max_warp),
                             self.config.max_warp)  # fmt: skip
            position += rate
        if error >= 0.0:
            state[_PRIMED] = 1.0  # the buffer has filled to the target delay once
        if position > ring.newest:
            position = ring.newest
            if state[_PRIMED] > 0.0:  # (while it first fills, holding is not starving)
                state[_STARVED] += 1.0
        if position < ring.oldest:
            position = ring.oldest
        state[_POS] = position
        state[_RATE] = rate
        state[_LAG] = (live - position) * self.period_ns * 1e-6
        self._fill_window(position, rate)
        return jumped

    def _place(self, now_ns: int) -> None:
        ring = self.ring
        target = (now_ns - ring.newest_arrival_ns()) / self.period_ns + ring.newest
        position = min(max(target - self._delay_frames, float(ring.oldest)), float(ring.newest))
        self._state[_POS] = position
        self._fill_window(position, 1.0)

    def _fill_window(self, position: float, rate: float) -> None:
        ring = self.ring
        base = math.floor(position)
        fraction = position - base
        newest, cap = ring.newest, ring.capacity
        for indices, offset in ((self._ia, base), (self._ib, base + 1)):
            np.add(self._k, offset, out=indices)
            np.minimum(indices, newest, out=indices)
            np.remainder(indices, cap, out=indices)
        ia, ib = self._ia, self._ib
        _lerp(ring.q_hw, ia, ib, fraction, self._a29, self._b29, self._window_q, 0)
        _lerp(ring.dq_hw, ia, ib, fraction, self._a29, self._b29, self._window_dq, 0)
        np.multiply(self._window_dq, rate, out=self._window_dq)
        _lerp(ring.hand_q, ia, ib, fraction, self._a_hand, self._b_hand, self._window_hand_q, 0)
        _lerp(ring.smpl_joints, ia, ib, fraction, self._a_smpl, self._b_smpl,
              self._window_smpl, 0)  # fmt: skip
        _lerp(ring.root_quat_wxyz, ia, ib, fraction, self._a_quat, self._b_quat,
              self._window_quat, 0)  # fmt: skip
        _lerp(ring.root_columns, ia, ib, fraction, self._a_col, self._b_col,
              self.window_columns, 1)  # fmt: skip
        near = ib if fraction >= 0.5 else ia
        ring.root_yaw.take(near, 0, self.window_yaw, "clip")
        ring.hand_state.take(near, 0, self._window_hand_state, "clip")
        np.copyto(self._near, near[:1])
        ring.token.take(self._near, 0, self._token_row, "clip")
        np.copyto(self.window_smpl32, self._window_smpl.reshape(-1, 72))
        self._window_q.take(g1.WRIST_HW, 1, self._wrists, "clip")
        np.copyto(self.window_wrists32, self._wrists)
        self._window_q.take(g1.ISAAC_TO_HW, 1, self._isaac, "clip")
        np.copyto(self.window_q_isaac32, self._isaac)
        self._window_dq.take(g1.ISAAC_TO_HW, 1, self._isaac, "clip")
        np.copyto(self.window_dq_isaac32, self._isaac)

    # ------------------------------------------------------------------ for controllers
    def take_heading(self) -> float:
        """Heading increments (rad) received since the last call (SONIC's delta heading)."""
        value = float(self._state[_HEADING])
        self._state[_HEADING] = 0.0
        return value

    def take_realign(self) -> bool:
        """True once after a catch-up or a producer restart: re-capture the heading."""
        if self._state[_REALIGN] > 0.0:
            self._state[_REALIGN] = 0.0
            return True
        return False

    # ------------------------------------------------------------------ figures
    @property
    def position(self) -> float:
        """The cursor, a fractional stream position (-1 before the first frame)."""
        return float(self._state[_POS])

    @property
    def producer_frame(self) -> float:
        """The cursor in the producer's frame numbers (-1 before the first frame)."""
        pos = float(self._state[_POS])
        return pos + self.ring.first_index if pos >= 0.0 else -1.0

    @property
    def rate(self) -> float:
        return float(self._state[_RATE])

    @property
    def lag_ms(self) -> float:
        """How far the cursor is behind the live edge (the newest frame's estimated arrival,
        carried forward to now), in milliseconds."""
        return float(self._state[_LAG])

    @property
    def starved_ticks(self) -> int:
        return int(self._state[_STARVED])

    @property
    def jumps(self) -> int:
        return int(self._state[_JUMPS])


def _lerp(
    source: npt.NDArray[np.floating],
    ia: npt.NDArray[np.intp],
    ib: npt.NDArray[np.intp],
    fraction: float,
    a: npt.NDArray[np.floating],
    b: npt.NDArray[np.floating],
    out: npt.NDArray[np.floating],
    axis: int,
) -> None:
    """``out = source[ia] + fraction * (source[ib] - source[ia])`` along ``axis``, in place."""
    source.take(ia, axis, a, "clip")
    source.take(ib, axis, b, "clip")
    np.subtract(b, a, out=b)
    np.multiply(b, fraction, out=b)
    np.add(a, b, out=out)
