"""Resampling motion to the 50 Hz control rate, and optional Savitzky-Golay smoothing.

Time runs along axis 0. Output frame ``k`` is the source time ``k / target_fps``; the last output
frame is the last one not past the source's end, so nothing is extrapolated. Rotations are
``wxyz`` quaternions interpolated with slerp; translations and joint angles linearly; discrete
signals (hand states) take the latest source frame at or before the output time (no
look-ahead, so a grasp never starts early).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from estimators.rotations import quat_make_continuous, quat_slerp

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ResampleGrid:
    """Where each output frame falls in the source: ``t = (lower + alpha) / source_fps``."""

    lower: npt.NDArray[np.intp]
    """(N,) source frame at or before each output frame."""
    upper: npt.NDArray[np.intp]
    """(N,) the next source frame (clamped to the last)."""
    alpha: F64
    """(N,) interpolation weight in [0, 1)."""

    @property
    def n_frames(self) -> int:
        return int(self.lower.shape[0])


def resample_grid(n_source: int, source_fps: float, target_fps: float) -> ResampleGrid:
    """Index grid for ``n_source`` frames at ``source_fps`` sampled at ``target_fps``."""
    if n_source < 1 or source_fps <= 0.0 or target_fps <= 0.0:
        raise ValueError("need at least one source frame and positive rates")
    duration = (n_source - 1) / source_fps
    n_out = math.floor(duration * target_fps + 1e-9) + 1
    pos = np.arange(n_out, dtype=np.float64) * (source_fps / target_fps)
    lower = np.minimum(np.floor(pos + 1e-9).astype(np.intp), n_source - 1)
    upper = np.minimum(lower + 1, n_source - 1)
    alpha = np.clip(pos - lower, 0.0, 1.0)
    alpha[upper == lower] = 0.0
    return ResampleGrid(lower=lower, upper=upper, alpha=alpha)


def resample_linear(values: npt.ArrayLike, grid: ResampleGrid) -> F64:
    """Linear interpolation of ``(T, ...)`` values onto the grid -> ``(N, ...)``."""
    v = np.asarray(values, dtype=np.float64)
    a = grid.alpha.reshape((-1,) + (1,) * (v.ndim - 1))
    # In place: two output-sized arrays at most (a 10-minute track's joints are 17 MB each).
    out = v[grid.lower]
    out *= 1.0 - a
    upper = v[grid.upper]
    upper *= a
    out += upper
    return out


def resample_slerp(quat_wxyz: npt.ArrayLike, grid: ResampleGrid) -> F64:
    """Slerp of ``(T, ..., 4)`` quaternions onto the grid -> ``(N, ..., 4)``."""
    q = np.asarray(quat_wxyz, dtype=np.float64)
    a = grid.alpha.reshape((-1,) + (1,) * (q.ndim - 2))
    return quat_slerp(q[grid.lower], q[grid.upper], a)


def resample_hold(values: npt.ArrayLike, grid: ResampleGrid) -> npt.NDArray[np.generic]:
    """Zero-order hold of ``(T, ...)`` values (any dtype) -> ``(N, ...)``."""
    return np.asarray(values)[grid.lower]


class SmoothingKind(enum.Enum):
    NONE = "none"
    SAVITZKY_GOLAY = "savitzky_golay"


@dataclass(frozen=True)
class SmoothingConfig:
    """Optional smoothing of the 50 Hz track (after resampling)."""

    kind: SmoothingKind = SmoothingKind.NONE
    window_s: float = 0.18
    """Savitzky-Golay window length (s); rounded to an odd frame count at the track rate."""
    polyorder: int = 2
    """Savitzky-Golay polynomial order (< window frames)."""

    def __post_init__(self) -> None:
        if self.window_s <= 0.0 or not math.isfinite(self.window_s):
            raise ValueError(f"smoothing window_s must be positive, got {self.window_s}")
        if not 0 <= self.polyorder <= 5:
            raise ValueError(f"smoothing polyorder must lie in 0..5, got {self.polyorder}")

    def window_frames(self, fps: float) -> int:
        """Odd window length in frames at ``fps`` (at least ``polyorder + 2``)."""
        n = max(round(self.window_s * fps), self.polyorder + 2)
        return n if n % 2 == 1 else n + 1


def savgol_coefficients(window: int, polyorder: int) -> F64:
    """Centred Savitzky-Golay smoothing weights ``(window,)`` (least-squares polynomial fit)."""
    half = window // 2
    x = np.arange(-half, half + 1, dtype=np.float64)
    vander = np.vander(x, polyorder + 1, increasing=True)
    # Row 0 of the pseudo-inverse evaluates the fitted polynomial at x = 0.
    return np.asarray(np.linalg.pinv(vander)[0], dtype=np.float64)


def savgol_smooth(values: npt.ArrayLike, window: int, polyorder: int) -> F64:
    """Savitzky-Golay filter along axis 0; edges use a mirrored signal (``(T, ...)`` in/out)."""
    v = np.asarray(values, dtype=np.float64)
    n = v.shape[0]
    if n < 3 or window < 3:
        return np.array(v, dtype=np.float64)
    window = min(window, n if n % 2 == 1 else n - 1)
    if window <= polyorder:
        return np.array(v, dtype=np.float64)
    coeffs = savgol_coefficients(window, polyorder)
    half = window // 2
    padded = np.concatenate([v[half:0:-1], v, v[-2 : -half - 2 : -1]], axis=0)
    out = np.zeros_like(v)
    for k in range(window):
        out += coeffs[k] * padded[k : k + n]
    return out


def smooth_quaternions(quat_wxyz: npt.ArrayLike, config: SmoothingConfig, fps: float) -> F64:
    """Smooth ``(T, ..., 4)`` quaternions component-wise (sign-continuous) and renormalise."""
    q = np.asarray(quat_wxyz, dtype=np.float64)
    if config.kind is SmoothingKind.NONE:
        return np.array(q, dtype=np.float64)
    q = quat_make_continuous(q, axis=0)
    out = savgol_smooth(q, config.window_frames(fps), config.polyorder)
    out /= np.linalg.norm(out, axis=-1, keepdims=True)
    return out


def smooth_values(values: npt.ArrayLike, config: SmoothingConfig, fps: float) -> F64:
    """Smooth ``(T, ...)`` real values (translations, joint angles) per config."""
    v = np.asarray(values, dtype=np.float64)
    if config.kind is SmoothingKind.NONE:
        return np.array(v, dtype=np.float64)
    return savgol_smooth(v, config.window_frames(fps), config.polyorder)
