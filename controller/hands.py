"""Dex3 hand command shaping inside the control tick: limits, close ratio, per-tick step clamp.

Arrays are ``(2, 7)``: row 0 left, row 1 right, Dex3 slot order (``controller.embodiment.dex3``).
Per tick, in order: clamp the target into the hand's range narrowed by the close ratio, limit the
move from the reference pose (the measured hand ``q``, as SONIC's ``Dex3Hands::writeOnce`` does,
or the last command) to ``max_step_rad``, and clamp into the joint limits again (a reference
slightly outside the limits must not leak into the command). ``shape`` allocates nothing.

Close ratio (SONIC's ``max_close_ratio``): each joint's *closing* side is the side its
mid-range lies on (fingers close toward their larger-magnitude limit; thumb_0, whose range is
symmetric, has none); with ratio ``r`` that side's limit becomes ``r`` times itself, so ``r = 1``
allows a full grip and ``r = 0.2`` a gentle one. Derived per hand from the table, never by
negating the other hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from controller.embodiment.dex3 import HAND_Q_MAX, HAND_Q_MIN

F64 = npt.NDArray[np.float64]

MIN_CLOSE_RATIO = 0.2
MAX_CLOSE_RATIO = 1.0


@dataclass(frozen=True)
class HandShaperConfig:
    """Settings of ``HandCommandShaper``."""

    max_step_rad: float = 0.25
    """Largest change per tick from the reference pose (SONIC's ``MAX_DELTA_Q``)."""
    close_ratio: float = 1.0
    """How far fingers may close, in [0.2, 1.0] (SONIC's ``max_close_ratio``)."""

    def __post_init__(self) -> None:
        if not (0.0 < self.max_step_rad <= 1.0 and math.isfinite(self.max_step_rad)):
            raise ValueError(f"max_step_rad must lie in (0, 1], got {self.max_step_rad}")
        _check_ratio(self.close_ratio)


def _check_ratio(ratio: float) -> None:
    if not MIN_CLOSE_RATIO <= ratio <= MAX_CLOSE_RATIO:
        raise ValueError(f"close_ratio must lie in [{MIN_CLOSE_RATIO}, {MAX_CLOSE_RATIO}]")


class HandCommandShaper:
    """Shapes ``(2, 7)`` Dex3 targets in place, allocation-free (buffers made here)."""

    def __init__(self, config: HandShaperConfig | None = None) -> None:
        self._config = config or HandShaperConfig()
        mid = (HAND_Q_MIN + HAND_Q_MAX) / 2.0
        self._closes_up = mid > 1e-9
        self._closes_down = mid < -1e-9
        self._lo = np.empty((2, 7))
        self._hi = np.empty((2, 7))
        self._step_hi = np.full((2, 7), self._config.max_step_rad)
        self._step_lo = -self._step_hi
        self._delta = np.empty((2, 7))
        self._close_ratio = self._config.close_ratio
        self.set_close_ratio(self._config.close_ratio)

    @property
    def close_ratio(self) -> float:
        return self._close_ratio

    @property
    def lower(self) -> F64:
        """(2, 7) current lower bound (rad), after the close ratio."""
        return self._lo

    @property
    def upper(self) -> F64:
        """(2, 7) current upper bound (rad), after the close ratio."""
        return self._hi

    def set_close_ratio(self, ratio: float) -> None:
        """Change the close ratio (outside the tick; raises ``ValueError`` out of range)."""
        _check_ratio(ratio)
        self._close_ratio = ratio
        np.copyto(self._lo, HAND_Q_MIN)
        np.copyto(self._hi, HAND_Q_MAX)
        np.multiply(HAND_Q_MAX, ratio, out=self._hi, where=self._closes_up)
        np.multiply(HAND_Q_MIN, ratio, out=self._lo, where=self._closes_down)

    def shape(self, target: F64, reference: F64, out: F64) -> None:
        """Write the command for this tick into ``out``.

        Args:
            target: ``(2, 7)`` desired hand pose (rad), e.g. the track's ``hand_q[frame]``.
            reference: ``(2, 7)`` pose the step is measured from: measured ``q`` or last command.
            out: ``(2, 7)`` float64 buffer to write (may be ``target`` itself).
        """
        np.minimum(target, self._hi, out=out)
        np.maximum(out, self._lo, out=out)
        np.subtract(out, reference, out=self._delta)
        np.minimum(self._delta, self._step_hi, out=self._delta)
        np.maximum(self._delta, self._step_lo, out=self._delta)
        np.add(reference, self._delta, out=out)
        np.minimum(out, self._hi, out=out)
        np.maximum(out, self._lo, out=out)
