"""Clearing arm self-collisions in a G1 joint track by the smallest shoulder-roll/elbow change.

The SMPL -> G1 mapping copies a human arm pose onto a robot whose hips are wider and whose
Dex3 thumb points inward: arms that hang straight put the hands 2-4 cm into the hip links. Per
arm, the fix is an outward shoulder roll and/or more elbow flexion (the forearm forward), the
smallest such change (in degrees, the two combined) that leaves ``target_clearance_m`` between
the arm and the hips, torso and other arm.

How, for a track of T frames at ``fps``:

1. every ``sample_period_s`` (up to 1 s apart where nothing changes), per arm, the smallest
   outward roll that clears is found (the
   value at the previous sample is tried first: motions are smooth, so it usually still fits
   and 10 % less does not; else it is grown or bisected to 0.25°);
2. per arm, one direction of change is kept for the whole track, so that neighbouring frames
   never mix a roll fix with an elbow fix (a mix of two fixes can collide where neither does):
   roll only, elbow only or both equally, whichever needs the smallest peak change;
3. between samples the larger neighbour applies, and the result is widened and averaged over
   ``ramp_s`` so the change fades in and out instead of stepping (it never falls below what a
   sample needed);
4. every frame is then checked at ``clearance_m``; frames still too close become samples of
   their own and steps 3-4 repeat (three rounds at most).

A frame that needs more than ``max_correction_deg`` in every direction is refused
(``SELF_COLLISION``), naming the links, the depth and the time. Nothing else is changed: other
joints, hands, timing.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from controller.collision_config import ArmCorrection, CollisionConfig, CollisionReport
from controller.embodiment import g1
from controller.robot.base import F64
from controller.self_collision import SIDES, SelfCollisionChecker, Side
from estimators.errors import PackageErrorCode, PackageRejectedError

__all__ = ["ArmCorrection", "CollisionConfig", "CollisionReport", "correct_self_collisions"]

_DIRECTIONS = ((1.0, 0.0), (0.0, 1.0), (math.sqrt(0.5), math.sqrt(0.5)))
"""(roll, elbow) unit directions searched: roll only, elbow only, both equally."""
_BISECT_TOL_RAD = math.radians(0.25)
_ACTIVE_RAD = math.radians(0.05)
_MAX_SAMPLE_GAP_S = 1.0
"""Where nothing changes (the same fix fits, or nothing is near), samples thin out to this;
the check of every frame afterwards catches whatever happens in between."""


def correct_self_collisions(
    checker: SelfCollisionChecker,
    q_hw: F64,
    hand_q: F64,
    config: CollisionConfig,
    fps: float,
) -> tuple[F64, CollisionReport]:
    """The track with arm collisions corrected, and what was done.

    Args:
        checker: the robot's collision model.
        q_hw: (T, 29) joint references, hardware order.
        hand_q: (T, 2, 7) Dex3 targets (the fingers' pose changes the hand's shape).
        config: clearances and limits.
        fps: frame rate of ``q_hw`` (for sampling, ramps and reported times).

    Raises:
        PackageRejectedError: ``SELF_COLLISION`` when no change up to ``max_correction_deg``
            clears a frame.
    """
    n = q_hw.shape[0]
    if not config.is_enabled or n == 0:
        return q_hw, CollisionReport((), config.clearance_m, 0)
    fixer = _Fixer(checker, q_hw, hand_q, config, fps)
    stride = max(1, round(config.sample_period_s * fps))
    fixer.solve_adaptive(stride, max_stride=max(stride, round(_MAX_SAMPLE_GAP_S * fps)))
    fixer.choose_directions(sorted(fixer.size))
    corrected = fixer.apply(stride)
    failing = fixer.verify(corrected, np.arange(n))
    for _ in range(3):
        if not failing:
            return corrected, fixer.report(corrected)
        fixer.solve_at(failing)
        previous = corrected
        corrected = fixer.apply(stride)
        # Only frames whose correction changed (or that failed) need another look.
        changed = np.flatnonzero(np.any(corrected != previous, axis=1))
        failing = fixer.verify(corrected, np.union1d(changed, failing))
    if failing:
        raise fixer.refusal(
            failing[0], f"still closer than {config.clearance_m * 100:.1f} cm after 4 rounds"
        )
    return corrected, fixer.report(corrected)


class _Fixer:
    """One correction run: per arm a direction of change and its size at sampled frames."""

    def __init__(
        self,
        checker: SelfCollisionChecker,
        q_hw: F64,
        hand_q: F64,
        config: CollisionConfig,
        fps: float,
    ) -> None:
        self.checker = checker
        self.q = np.asarray(q_hw, dtype=np.float64)
        self.hand_q = hand_q
        self.config = config
        self.fps = fps
        self.max_rad = math.radians(config.max_correction_deg)
        self.roll = [g1.joint_index(f"{s}_shoulder_roll") for s in SIDES]
        self.elbow = [g1.joint_index(f"{s}_elbow") for s in SIDES]
        self.direction = np.array([_DIRECTIONS[0], _DIRECTIONS[0]])
        """(2 arms, 2): unit (roll, elbow) direction of each arm's change."""
        self.size: dict[int, F64] = {}
        """Frame -> (2,) size of each arm's change (rad) along its direction."""
        self.worst: list[tuple[float, tuple[str, str]]] = [(math.inf, ("", "")) for _ in SIDES]
        self.closest_after = np.full(self.q.shape[0], config.clearance_m)
        """Per frame, after the last ``verify`` that saw it: distance capped at clearance."""
        self._warm = np.zeros(2)
        self._applied = np.zeros((self.q.shape[0], 2, 2))
        self.evaluations = 0
        """Poses measured so far (a cost figure)."""

    # ----------------------------------------------------------------- one frame
    def _change(self, sizes: F64) -> F64:
        change: F64 = sizes[:, None] * self.direction
        return change

    def _pose(self, frame: int, change: F64) -> F64:
        q = self.q[frame].copy()
        for side in Side:
            q[self.roll[side]] += (1.0 if side is Side.LEFT else -1.0) * change[side, 0]
            q[self.elbow[side]] -= change[side, 1]
        clipped: F64 = np.clip(q, g1.Q_MIN, g1.Q_MAX)
        return clipped

    def _distance(self, frame: int, change: F64, margin: float) -> F64:
        self.evaluations += 1
        self.checker.set_pose(self._pose(frame, change), self.hand_q[frame])
        return self.checker.measure(margin)

    def _is_clear(self, frame: int, sizes: F64, side: Side) -> bool:
        target = self.config.target_clearance_m
        dist = self._distance(frame, self._change(sizes), target)
        return bool(dist[side] >= target - 1e-6)

    def solve_at(self, frames: list[int]) -> None:
        """The smallest change per arm along its direction at each of ``frames`` (in time
        order, warm-started from the previous one)."""
        for frame in frames:
            sizes = self.size.get(frame, np.zeros(2)).copy()
            for side in Side:
                found = self._size(frame, sizes, side)
                if found is None:
                    raise self.refusal(
                        frame,
                        f"no shoulder-roll/elbow change up to "
                        f"{self.config.max_correction_deg:g}° clears "
                        f"{self.config.target_clearance_m * 100:.1f} cm",
                    )
                sizes[side] = max(sizes[side], found)
                self._warm[side] = sizes[side]
            self.size[frame] = sizes

    def solve_adaptive(self, stride: int, max_stride: int) -> None:
        """``solve_at`` from the first frame to the last, every ``stride`` frames while the
        needed change moves, the gap doubling (up to ``max_stride``) while it does not."""
        n = self.q.shape[0]
        frame, step, previous = 0, stride, 0
        while True:
            before = self.evaluations
            self.solve_at([frame])
            is_steady = self.evaluations - before <= 4  # each arm: its fix fits, 90 % not
            if not is_steady and frame - previous > stride:
                # Something changed inside a long gap: fill it in at the fine spacing, so a
                # fix does not start earlier (or end later) than needed.
                self._warm = self.size[previous].copy()
                self.solve_at(list(range(previous + stride, frame, stride)))
                self._warm = self.size[frame].copy()
            step = min(2 * step, max_stride) if is_steady else stride
            if frame == n - 1:
                return
            previous, frame = frame, min(frame + step, n - 1)

    def _size(self, frame: int, sizes: F64, side: Side) -> float | None:
        """Smallest size for ``side`` (the other arm as in ``sizes``); None if none fits."""
        trial = sizes.copy()
        warm = float(self._warm[side])
        if warm > 0.0:
            trial[side] = warm
            if self._is_clear(frame, trial, side):
                trial[side] = 0.9 * warm
                if not self._is_clear(frame, trial, side):
                    return warm
                return self._bisect(frame, sizes, side, 0.0, 0.9 * warm)
            lo = warm
            for factor in (1.1, 1.25, 1.5):
                trial[side] = min(factor * warm, self.max_rad)
                if self._is_clear(frame, trial, side):
                    return self._bisect(frame, sizes, side, lo, float(trial[side]))
                lo = float(trial[side])
        trial[side] = 0.0
        target = self.config.target_clearance_m
        dist = self._distance(frame, self._change(trial), target)
        if dist[side] >= target - 1e-6:
            return 0.0
        if dist[side] < self.worst[side][0]:
            contact = self.checker.closest[side]
            names = (contact.arm_body, contact.other_body) if contact else ("", "")
            self.worst[side] = (float(dist[side]), names)
        trial[side] = self.max_rad
        if not self._is_clear(frame, trial, side):
            return None
        return self._bisect(frame, sizes, side, 0.0, self.max_rad)

    def _bisect(self, frame: int, sizes: F64, side: Side, lo: float, hi: float) -> float:
        """Smallest size in ``[lo, hi]`` that clears (``hi`` does, ``lo`` does not or is 0)."""
        trial = sizes.copy()
        while hi - lo > _BISECT_TOL_RAD:
            mid = 0.5 * (lo + hi)
            trial[side] = mid
            if self._is_clear(frame, trial, side):
                hi = mid
            else:
                lo = mid
        return hi if hi > _BISECT_TOL_RAD else 0.0

    # ----------------------------------------------------------------- whole track
    def choose_directions(self, samples: list[int]) -> None:
        """Per arm, the direction with the smallest peak change over ``samples`` (roll only
        was solved; the others are tried where roll needs the most, and re-solved if better)."""
        for side in Side:
            sizes = np.array([self.size[f][side] for f in samples])
            if not np.any(sizes > 0.0):
                continue
            peak_frame = samples[int(np.argmax(sizes))]
            best = (float(sizes.max()), 0, {f: self.size[f].copy() for f in samples})
            for k in (1, 2):
                self.direction[side] = _DIRECTIONS[k]
                self._warm[side] = 0.0
                at_peak = self._size(peak_frame, self.size[peak_frame].copy(), side)
                if at_peak is None or at_peak >= best[0]:
                    continue
                try:
                    trial = self._resolve(samples, side)
                except PackageRejectedError:
                    continue
                peak = max(float(v[side]) for v in trial.values())
                if peak < best[0]:
                    best = (peak, k, trial)
            self.direction[side] = _DIRECTIONS[best[1]]
            self.size = best[2]

    def _resolve(self, samples: list[int], side: Side) -> dict[int, F64]:
        saved = self.size
        self.size = {f: v.copy() for f, v in saved.items()}
        for f in samples:
            self.size[f][side] = 0.0
        self._warm[side] = 0.0
        try:
            self.solve_at(samples)
            return self.size
        finally:
            self.size = saved

    def profiles(self, stride: int) -> F64:
        """(T, 2) size per frame and arm: between two samples the larger of the two, then
        widened and averaged over ``ramp_s`` (a box average of a running maximum never drops
        below the original), so a change fades in and out instead of stepping."""
        n = self.q.shape[0]
        dense = np.zeros((n, 2))
        frames = sorted(self.size)
        for a, b in zip(frames, frames[1:] + frames[-1:], strict=True):
            both = np.maximum(self.size[a], self.size[b])
            np.maximum(dense[a : b + 1], both, out=dense[a : b + 1])
        if frames and frames[0] > 0:
            dense[: frames[0]] = np.maximum(dense[: frames[0]], self.size[frames[0]])
        if frames and frames[-1] < n - 1:
            dense[frames[-1] :] = np.maximum(dense[frames[-1] :], self.size[frames[-1]])
        if not np.any(dense):
            return dense
        half = max(1, round(self.config.ramp_s * self.fps / 2))
        width = 2 * half + 1
        # Edge padding: the first and last frames keep their full change.
        padded = np.pad(dense, ((half, half), (0, 0)), mode="edge")
        widened = np.lib.stride_tricks.sliding_window_view(padded, width, axis=0).max(axis=-1)
        csum = np.cumsum(np.pad(widened, ((half + 1, half), (0, 0)), mode="edge"), axis=0)
        out: F64 = (csum[width:] - csum[:-width]) / width
        return out

    def apply(self, stride: int) -> F64:
        self._applied = self.profiles(stride)[:, :, None] * self.direction[None]
        q = self.q.copy()
        for side in Side:
            sign = 1.0 if side is Side.LEFT else -1.0
            q[:, self.roll[side]] += sign * self._applied[:, side, 0]
            q[:, self.elbow[side]] -= self._applied[:, side, 1]
        clipped: F64 = np.clip(q, g1.Q_MIN, g1.Q_MAX)
        return clipped

    def verify(self, corrected: F64, frames: npt.NDArray[np.intp]) -> list[int]:
        """Which of ``frames`` still have an arm closer than ``clearance_m``."""
        clearance = self.config.clearance_m
        failing = []
        for frame in frames.tolist():
            self.checker.set_pose(corrected[frame], self.hand_q[frame])
            dist = float(self.checker.measure(clearance).min())
            self.closest_after[frame] = dist
            if dist < clearance - 1e-6:
                failing.append(frame)
        return failing

    def report(self, corrected: F64) -> CollisionReport:
        change = self._applied
        arms = []
        for side in Side:
            active = np.flatnonzero(np.hypot(change[:, side, 0], change[:, side, 1]) > _ACTIVE_RAD)
            if active.size == 0:
                continue
            arms.append(
                ArmCorrection(
                    arm=SIDES[side],
                    max_roll_deg=math.degrees(float(change[:, side, 0].max())),
                    max_elbow_deg=math.degrees(float(change[:, side, 1].max())),
                    spans_s=_spans(active, self.fps),
                    frames=int(active.size),
                    worst_before_m=self.worst[side][0],
                    worst_pair=self.worst[side][1],
                )
            )
        min_after = float(self.closest_after.min())
        return CollisionReport(tuple(arms), min_after, int(corrected.shape[0]))

    def refusal(self, frame: int, why: str) -> PackageRejectedError:
        dist = self._distance(frame, np.zeros((2, 2)), 0.05)
        side = Side(int(np.argmin(dist)))
        contact = self.checker.closest[side]
        where = f"{contact.arm_body} vs {contact.other_body}" if contact else SIDES[side] + " arm"
        depth = (
            f"{-dist[side] * 100:.1f} cm deep" if dist[side] < 0 else f"{dist[side] * 100:.1f} cm"
        )
        return PackageRejectedError(
            PackageErrorCode.SELF_COLLISION,
            f"track[{frame}]",
            f"{where} at t {frame / self.fps:.2f} s ({depth}): {why}",
        )


def _spans(frames: npt.NDArray[np.intp], fps: float) -> tuple[tuple[float, float], ...]:
    breaks = np.flatnonzero(np.diff(frames) > 1)
    starts = np.concatenate([[frames[0]], frames[breaks + 1]])
    ends = np.concatenate([frames[breaks], [frames[-1]]])
    return tuple((float(a) / fps, float(b) / fps) for a, b in zip(starts, ends, strict=True))
