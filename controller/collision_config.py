"""Settings and results of the arm self-collision correction (``controller.collision_fix``).

``CollisionConfig`` says how close an arm may come and how far a fix may go; ``CollisionReport``
says what was changed, per arm, for the package's report and the upload answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class CollisionConfig:
    """Self-collision check and correction of G1 tracks."""

    is_enabled: bool = True
    clearance_m: float = 0.01
    """Every frame must keep at least this between an arm and the body or the other arm."""
    target_clearance_m: float = 0.015
    """Corrections aim for this (the margin covers frames between samples)."""
    max_correction_deg: float = 30.0
    """A frame that needs a larger change is refused, not bent further."""
    sample_period_s: float = 0.1
    ramp_s: float = 0.3
    """Corrections are widened and averaged over this, so they fade in and out."""

    def __post_init__(self) -> None:
        for name in ("clearance_m", "target_clearance_m", "max_correction_deg",
                     "sample_period_s", "ramp_s"):  # fmt: skip
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0.0):
                raise ValueError(f"collision.{name} must be a positive number, got {value}")
        if self.target_clearance_m < self.clearance_m:
            raise ValueError("collision.target_clearance_m must be >= clearance_m")
        if self.max_correction_deg > 90.0:
            raise ValueError("collision.max_correction_deg must be <= 90")


@dataclass(frozen=True)
class ArmCorrection:
    """What was changed on one arm."""

    arm: str
    max_roll_deg: float
    max_elbow_deg: float
    spans_s: tuple[tuple[float, float], ...]
    """Time spans (s from the first frame) where the change is non-zero."""
    frames: int
    worst_before_m: float
    """The closest the arm came before the change (negative: penetration depth)."""
    worst_pair: tuple[str, str]

    def as_dict(self) -> dict[str, object]:
        return {
            "arm": self.arm,
            "max_shoulder_roll_deg": round(self.max_roll_deg, 2),
            "max_elbow_deg": round(self.max_elbow_deg, 2),
            "frames": self.frames,
            "spans_s": [[round(a, 3), round(b, 3)] for a, b in self.spans_s],
            "worst_before_m": round(self.worst_before_m, 4),
            "worst_pair": list(self.worst_pair),
        }


@dataclass(frozen=True)
class CollisionReport:
    """The outcome of ``correct_self_collisions`` for a track."""

    corrections: tuple[ArmCorrection, ...]
    """One entry per arm that was changed (empty: nothing collided)."""
    min_clearance_m: float
    """Closest approach after correction, capped at ``clearance_m`` (nothing closer)."""
    frames_checked: int

    @property
    def is_corrected(self) -> bool:
        return bool(self.corrections)

    def as_dict(self) -> dict[str, object]:
        return {
            "corrected": self.is_corrected,
            "corrections": [c.as_dict() for c in self.corrections],
            "min_clearance_m": round(self.min_clearance_m, 4),
            "frames_checked": self.frames_checked,
        }
