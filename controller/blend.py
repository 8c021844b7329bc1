"""Bounded joint-space transitions: blend from one pose to another without a jump.

A blend moves every joint along the straight line from ``q_from`` to ``q_to`` with one shared,
normalised time profile, so the pose never leaves the segment between the two and all joints
arrive together. The profile is an S-curve: the speed of the joint that moves farthest rises
along a smoothstep (3x² - 2x³, so the acceleration starts and ends at zero), cruises, and falls
the same way. Its duration is the shortest that keeps that joint under ``max_velocity_rad_s``
and ``max_acceleration_rad_s2``; every other joint moves proportionally slower. Short moves
never reach the cruise speed and become a smooth bell, close to a minimum-jerk move.

Used when a track starts, resumes from a pause and ends (``controller.loop``) and meant for any
later engage/disengage (streaming). ``JointBlend`` is built once, planned between ticks or in a
tick, and stepped inside the tick: ``plan``, ``retarget`` and ``step`` allocate nothing.

At the defaults (2.0 rad/s, 8 rad/s²) a blend covers up to 1.25 rad in 1 s; the largest step
between two 50 Hz ticks is 0.04 rad. A move farther than ``max_duration_s`` allows takes longer
rather than faster: the limits always win, and ``duration_s`` says how long it takes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]

_RAMP_PEAK_ACCEL = 1.5
"""Peak of d/dx (3x² - 2x³): a smoothstep ramp to speed V over Ta peaks at 1.5 V / Ta."""


@dataclass(frozen=True)
class BlendConfig:
    """Limits of a blend, applied to the joint that moves farthest."""

    max_velocity_rad_s: float = 2.0
    """Peak joint speed (0.04 rad per 50 Hz tick)."""
    max_acceleration_rad_s2: float = 8.0
    """Peak joint acceleration."""
    max_duration_s: float = 1.0
    """The duration the defaults are sized for: moves up to ``reach_rad(max_duration_s)`` fit;
    longer ones are not rushed (see the module docstring)."""
    min_distance_rad: float = 1e-3
    """Below this the poses count as equal and no blend runs."""
    is_blend_out_enabled: bool = True
    """At the end of a track, blend back to the rest (default standing) pose before HOLD."""

    def __post_init__(self) -> None:
        for name in ("max_velocity_rad_s", "max_acceleration_rad_s2", "max_duration_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0.0):
                raise ValueError(f"blend.{name} must be a positive number, got {value}")
        if not (math.isfinite(self.min_distance_rad) and self.min_distance_rad >= 0.0):
            raise ValueError(f"blend.min_distance_rad must be >= 0, got {self.min_distance_rad}")


@dataclass(frozen=True)
class BlendProfile:
    """The S-curve for one distance: speed ``peak_velocity`` after ``ramp_s``, for ``cruise_s``."""

    distance_rad: float
    peak_velocity_rad_s: float
    ramp_s: float
    cruise_s: float

    @property
    def duration_s(self) -> float:
        return 2.0 * self.ramp_s + self.cruise_s


def blend_profile(distance_rad: float, config: BlendConfig) -> BlendProfile:
    """The shortest S-curve covering ``distance_rad`` inside the limits (zero for no distance)."""
    d = abs(distance_rad)
    if d <= config.min_distance_rad:
        return BlendProfile(d, 0.0, 0.0, 0.0)
    v, a = config.max_velocity_rad_s, config.max_acceleration_rad_s2
    ramp = _RAMP_PEAK_ACCEL * v / a
    if d < v * ramp:  # never reaches the cruise speed: two ramps, lower peak
        v = math.sqrt(d * a / _RAMP_PEAK_ACCEL)
        ramp = _RAMP_PEAK_ACCEL * v / a
    return BlendProfile(d, v, ramp, max(0.0, d / v - ramp))


def blend_duration_s(distance_rad: float, config: BlendConfig) -> float:
    """How long a blend over ``distance_rad`` (the farthest joint's move) takes."""
    return blend_profile(distance_rad, config).duration_s


def reach_rad(duration_s: float, config: BlendConfig) -> float:
    """The largest distance a blend covers within ``duration_s`` (the inverse of the above)."""
    v, a = config.max_velocity_rad_s, config.max_acceleration_rad_s2
    ramp = _RAMP_PEAK_ACCEL * v / a
    if duration_s >= 2.0 * ramp:
        return v * (duration_s - ramp)
    half = duration_s / 2.0  # two ramps of half the duration: d = 1.5 v² / a, v = a half / 1.5
    return _RAMP_PEAK_ACCEL * (a * half / _RAMP_PEAK_ACCEL) ** 2 / a


def _ramp_distance(x: float) -> float:
    """∫₀ˣ (3u² - 2u³) du: distance covered by a unit ramp, in units of ``V · Ta``."""
    return x * x * x - 0.5 * x * x * x * x


def _ramp_speed(x: float) -> float:
    return x * x * (3.0 - 2.0 * x)


class JointBlend:
    """An S-curve blend between two poses, stepped once per control tick.

    ``plan`` fixes the endpoints and the duration; each ``step`` advances one period and writes
    the pose and velocity for that tick. The last step lands exactly on ``q_to``.
    """

    def __init__(self, config: BlendConfig, n_joints: int, period_s: float) -> None:
        if not (math.isfinite(period_s) and period_s > 0.0):
            raise ValueError(f"period_s must be positive, got {period_s}")
        self.config = config
        self.period_s = period_s
        self._from = np.zeros(n_joints)
        self._to = np.zeros(n_joints)
        self._delta = np.zeros(n_joints)
        self._scratch = np.zeros(n_joints)
        # distance, peak speed, ramp, cruise, duration: kept in an array, so that planning in
        # a tick leaves no new Python floats behind (the tick allocates nothing that stays).
        self._profile = np.zeros(5)
        self._ticks_total = 0
        self._tick = 0

    # ------------------------------------------------------------------ queries
    @property
    def is_active(self) -> bool:
        """True while steps remain."""
        return self._tick < self._ticks_total

    @property
    def ticks_total(self) -> int:
        return self._ticks_total

    @property
    def ticks_done(self) -> int:
        return self._tick

    @property
    def duration_s(self) -> float:
        return float(self._profile[4])

    @property
    def distance_rad(self) -> float:
        """The farthest joint's move (rad)."""
        return float(self._profile[0])

    @property
    def target(self) -> F64:
        """The pose the blend ends at (read it, do not write it)."""
        return self._to

    # ------------------------------------------------------------------ planning
    def plan(self, q_from: F64, q_to: F64) -> int:
        """Blend from ``q_from`` to ``q_to``; returns the number of ticks (0: already there).

        Allocates nothing: it may run inside a tick.
        """
        np.copyto(self._from, q_from)
        np.copyto(self._to, q_to)
        np.subtract(self._to, self._from, out=self._delta)
        np.abs(self._delta, out=self._scratch)
        distance = float(self._scratch.max())
        cfg = self.config
        self._tick = 0
        profile = self._profile
        profile.fill(0.0)
        if not math.isfinite(distance) or distance <= cfg.min_distance_rad:
            profile[0] = distance if math.isfinite(distance) else 0.0
            self._ticks_total = 0
            return 0
        v, a = cfg.max_velocity_rad_s, cfg.max_acceleration_rad_s2
        ramp = _RAMP_PEAK_ACCEL * v / a
        if distance < v * ramp:
            v = math.sqrt(distance * a / _RAMP_PEAK_ACCEL)
            ramp = _RAMP_PEAK_ACCEL * v / a
        cruise = max(0.0, distance / v - ramp)
        duration = 2.0 * ramp + cruise
        profile[0], profile[1], profile[2], profile[3], profile[4] = (
            distance, v, ramp, cruise, duration
        )  # fmt: skip
        self._ticks_total = max(1, math.ceil(duration / self.period_s - 1e-9))
        return self._ticks_total

    def retarget(self, q_to: F64) -> None:
        """Move the end pose (e.g. to a controller's fresh proposal); the timing stays."""
        np.copyto(self._to, q_to)
        np.subtract(self._to, self._from, out=self._delta)

    def cancel(self) -> None:
        """Stop where it is (``ticks_total`` and ``duration_s`` keep describing the plan)."""
        self._tick = self._ticks_total

    # ------------------------------------------------------------------ the tick
    def step(self, out_q: F64, out_dq: F64) -> None:
        """Advance one period and write this tick's pose and joint velocities (rad, rad/s).

        After the last step (or with no blend planned) ``out_q`` is ``q_to`` and ``out_dq`` 0.
        """
        if self._tick < self._ticks_total:
            self._tick += 1
        if self._tick >= self._ticks_total:
            np.copyto(out_q, self._to)  # exactly, not from + (to - from)
            out_dq.fill(0.0)
            return
        s, s_dot = self._progress(min(self._tick * self.period_s, float(self._profile[4])))
        np.multiply(self._delta, s, out=out_q)
        np.add(out_q, self._from, out=out_q)
        np.multiply(self._delta, s_dot, out=out_dq)

    def _progress(self, t: float) -> tuple[float, float]:
        """Normalised position s in [0, 1] and its rate (1/s) at time ``t`` into the blend."""
        d, v, ramp, cruise, duration = (float(x) for x in self._profile)
        if d <= 0.0:
            return 1.0, 0.0
        if t < ramp:
            x = t / ramp
            return v * ramp * _ramp_distance(x) / d, v * _ramp_speed(x) / d
        if t <= ramp + cruise:
            return (0.5 * v * ramp + v * (t - ramp)) / d, v / d
        x = max(0.0, (duration - t) / ramp)
        return 1.0 - v * ramp * _ramp_distance(x) / d, v * _ramp_speed(x) / d
