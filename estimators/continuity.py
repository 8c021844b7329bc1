"""Joint speeds of a G1 track against the supervisor's limit, with margin: jumps found early.

The supervisor damps the robot when any measured joint speed exceeds
``SupervisorConfig.max_joint_speed_rad_s`` (15 rad/s). A reference that itself moves near that
speed trips it (tracking overshoots); a pose jump between two frames moves a joint at hundreds
of rad/s. So a track is accepted only if every joint's reference speed stays under
``margin`` times that limit (and that fraction of the motor's own limit). Speeds are measured
between consecutive 50 Hz frames of the track the robot will play.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from controller.embodiment.g1 import BODY_JOINT_NAMES, DQ_MAX
from estimators.errors import PackageErrorCode, PackageRejectedError

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class JointSpeedConfig:
    """How fast a track may move its joints."""

    supervisor_limit_rad_s: float = 15.0
    """The supervisor's trip speed (``SupervisorConfig.max_joint_speed_rad_s``)."""
    margin: float = 0.5
    """Fraction of the trip speed (and of each motor's limit) a reference may reach."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.supervisor_limit_rad_s) and self.supervisor_limit_rad_s > 0):
            raise ValueError("supervisor_limit_rad_s must be a positive number")
        if not 0.0 < self.margin <= 1.0:
            raise ValueError(f"speed margin must lie in (0, 1], got {self.margin}")

    @property
    def limits_rad_s(self) -> F64:
        """(29,) per-joint reference speed limit."""
        limits: F64 = self.margin * np.minimum(self.supervisor_limit_rad_s, DQ_MAX)
        return limits


@dataclass(frozen=True)
class JointSpeedReport:
    """Peak reference speed per joint over a track."""

    peak_rad_s: F64
    """(29,) peak |dq| per joint."""
    peak_frame: npt.NDArray[np.intp]
    """(29,) track frame (50 Hz) where each peak ends."""
    fps: float

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {
            name: {"rad_s": round(float(v), 4), "t_s": round(float(f) / self.fps, 3)}
            for name, v, f in zip(BODY_JOINT_NAMES, self.peak_rad_s, self.peak_frame, strict=True)
        }


def joint_speed_report(q_hw: F64, fps: float) -> JointSpeedReport:
    """Peak |dq| per joint of ``(T, 29)`` references at ``fps``."""
    if q_hw.shape[0] < 2:
        zeros = np.zeros(q_hw.shape[1])
        return JointSpeedReport(zeros, np.zeros(q_hw.shape[1], dtype=np.intp), fps)
    speed = np.abs(np.diff(q_hw, axis=0)) * fps
    frame = np.argmax(speed, axis=0)
    peak = speed[frame, np.arange(speed.shape[1])]
    return JointSpeedReport(peak, (frame + 1).astype(np.intp), fps)


def first_too_fast(
    q_hw: F64, fps: float, config: JointSpeedConfig
) -> tuple[int, int, float] | None:
    """``(frame, joint, rad_s)`` of the first step over the limit, or None."""
    if q_hw.shape[0] < 2:
        return None
    speed = np.abs(np.diff(q_hw, axis=0)) * fps
    bad = speed > config.limits_rad_s
    if not np.any(bad):
        return None
    step, joint = (int(i) for i in np.argwhere(bad)[0])
    return step + 1, joint, float(speed[step, joint])


def check_joint_speeds(
    q_hw: F64,
    fps: float,
    config: JointSpeedConfig,
    *,
    source_fps: float | None = None,
    field: str = "track",
    hint: str = "",
) -> None:
    """Refuse (``JOINT_VELOCITY``) a track that moves a joint too fast, naming the frame (of
    the package when ``source_fps`` is given), the joint and the speed.

    Raises:
        PackageRejectedError: the first frame over the limit.
    """
    found = first_too_fast(q_hw, fps, config)
    if found is None:
        return
    frame, joint, speed = found
    t = frame / fps
    where = f"{field}[{frame}]"
    if source_fps is not None:
        where = f"{field}[{math.ceil(t * source_fps - 1e-6)}]"
    limit = float(config.limits_rad_s[joint])
    raise PackageRejectedError(
        PackageErrorCode.JOINT_VELOCITY,
        where,
        f"{BODY_JOINT_NAMES[joint]} moves at {speed:.2f} rad/s at t {t:.2f} s, limit "
        f"{limit:.2f} rad/s ({config.margin:g} x the supervisor's "
        f"{config.supervisor_limit_rad_s:g}){hint}",
    )
