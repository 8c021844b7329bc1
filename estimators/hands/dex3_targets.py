"""Hand states -> Dex3-1 7-joint targets, per hand, from the embodiment table.

Presets (rad, slot order, row 0 left, row 1 right), all derived from
``controller.embodiment.dex3`` limits so each hand's slot order and mirrored limits come from
the table (never by negating the other hand):

- OPEN: all zeros (Dex3's fully open pose; 0 lies inside every joint's range).
- CLOSED: the mid-point of each joint's range, SONIC's ``Dex3Hands::close()`` preset
  (../shared/reference/estimation-and-cloud.md §5.3): fingers at about ±0.79 / ±0.87 rad toward
  their closing limit, thumb_0 at 0.
- HALF: half of CLOSED (a quarter of each range).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from controller.embodiment.dex3 import HAND_Q_MAX, HAND_Q_MIN
from estimators.track import HandState

F64 = npt.NDArray[np.float64]

_CLOSED = (HAND_Q_MIN + HAND_Q_MAX) / 2.0
DEX3_PRESETS: F64 = np.stack([np.zeros_like(_CLOSED), 0.5 * _CLOSED, _CLOSED])
"""(3, 2, 7): indexed ``[HandState, hand, slot]``."""
DEX3_PRESETS.flags.writeable = False

if not (np.all(DEX3_PRESETS >= HAND_Q_MIN) and np.all(DEX3_PRESETS <= HAND_Q_MAX)):
    raise RuntimeError("Dex3 presets fall outside the Dex3 joint limits")  # table edited badly
if len(HandState) != DEX3_PRESETS.shape[0]:
    raise RuntimeError("one Dex3 preset per HandState is required")


def dex3_targets(states: npt.ArrayLike) -> F64:
    """Map ``(T, 2)`` ``HandState`` codes (row order left, right) to ``(T, 2, 7)`` targets."""
    s = np.asarray(states, dtype=np.intp)
    if s.ndim != 2 or s.shape[1] != 2:
        raise ValueError(f"states shape {s.shape}, want (T, 2)")
    if s.size and (s.min() < 0 or s.max() >= DEX3_PRESETS.shape[0]):
        raise ValueError("hand states must be HandState values 0..2")
    return np.asarray(DEX3_PRESETS[s, np.arange(2)[None, :]], dtype=np.float64)
