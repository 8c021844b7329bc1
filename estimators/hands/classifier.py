"""Closure scores -> discrete hand states with hysteresis and a minimum dwell time.

Two thresholds split the closure score into OPEN < ``open_half`` <= HALF < ``half_closed`` <=
CLOSED. A state is left only when the score crosses its boundary by more than ``hysteresis``,
and a new state must be held ``min_dwell_s`` before the next change, so a sequence of ``T``
frames changes state at most ``ceil(T / dwell_frames)`` times whatever the noise. Frames that
are missing, invalid or below ``min_confidence`` hold the last state (WiLoR is per-frame and
drops hands under occlusion). Frame ``t`` of the output belongs to body frame ``t``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from estimators.track import HandState


@dataclass(frozen=True)
class HandStateConfig:
    """Thresholds of the hand-state classifier (closure score units, seconds)."""

    open_half: float = 0.38
    """Boundary between OPEN and HALF."""
    half_closed: float = 0.66
    """Boundary between HALF and CLOSED."""
    hysteresis: float = 0.06
    """How far past a boundary the score must go to change state."""
    min_dwell_s: float = 0.3
    """A state, once entered, is held at least this long."""
    min_confidence: float = 0.5
    """Frames with a lower WiLoR confidence hold the previous state."""

    def __post_init__(self) -> None:
        if not 0.0 < self.open_half < self.half_closed < 1.0:
            raise ValueError("need 0 < open_half < half_closed < 1")
        gap = self.half_closed - self.open_half
        if not 0.0 <= self.hysteresis < gap / 2.0:
            raise ValueError(f"hysteresis must lie in [0, {gap / 2.0:.3f})")
        if not 0.0 <= self.min_dwell_s <= 5.0:
            raise ValueError("min_dwell_s must lie in 0..5 s")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError("min_confidence must lie in 0..1")

    def dwell_frames(self, fps: float) -> int:
        """Minimum frames between state changes at ``fps`` (at least 1)."""
        return max(1, math.ceil(self.min_dwell_s * fps - 1e-9))


def classify_hand_states(
    scores: npt.ArrayLike,
    usable: npt.ArrayLike,
    fps: float,
    config: HandStateConfig,
    initial: HandState = HandState.OPEN,
) -> npt.NDArray[np.int8]:
    """Classify closure scores into ``HandState`` per frame and hand.

    Args:
        scores: ``(T, H)`` closure scores in [0, 1] (``H`` hands, normally 2).
        usable: ``(T, H)`` bool; False frames hold the previous state.
        fps: frame rate of ``scores`` (Hz), for the dwell time.
        config: thresholds.
        initial: the state before the first frame.

    Returns:
        ``(T, H)`` int8 ``HandState`` values.
    """
    s = np.asarray(scores, dtype=np.float64)
    ok = np.asarray(usable, dtype=bool) & np.isfinite(s)
    n_frames, n_hands = s.shape
    up_1 = config.open_half + config.hysteresis
    up_2 = config.half_closed + config.hysteresis
    down_1 = config.open_half - config.hysteresis
    down_2 = config.half_closed - config.hysteresis
    dwell = config.dwell_frames(fps)
    out = np.empty((n_frames, n_hands), dtype=np.int8)
    # Plain Python floats and ints: a per-frame scalar loop is faster on lists than on arrays.
    score_rows = s.T.tolist()
    ok_rows = ok.T.tolist()
    for h in range(n_hands):
        state = int(initial)
        since_change = dwell  # the first change may happen at once
        column = [0] * n_frames
        for t, (value, good) in enumerate(zip(score_rows[h], ok_rows[h], strict=True)):
            if good:
                level_up = (value > up_1) + (value > up_2)
                level_down = (value > down_1) + (value > down_2)
                wanted = (
                    level_up if level_up > state else (level_down if level_down < state else state)
                )
                if wanted != state and since_change >= dwell:
                    state = wanted
                    since_change = 0
            since_change += 1
            column[t] = state
        out[:, h] = column
    return out
