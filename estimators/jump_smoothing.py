"""Smoothing pose jumps out of a body motion, on request (``from-genmo --smooth``).

A jump is a step between two frames that moves some G1 joint faster than the speed limit
(``estimators.continuity``): an estimator glitch, a flipped limb, a cut. Each jump is replaced
by a bounded transition in the *body motion itself*: over a window around it, every SMPL joint
rotation (root included) is slerped and the translation interpolated from the window's first
to its last frame along a minimum-jerk profile. The window is long enough for the farthest G1
joint to stay under the limit (minimum jerk peaks at 1.875 times the mean speed) and grows
until the mapped motion passes, at most ``max_rounds`` times. The motion keeps its length and
timing; the frames outside the windows are untouched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from controller.embodiment.g1 import Q_MAX, Q_MIN
from estimators.continuity import JointSpeedConfig
from estimators.fk import local_rotations
from estimators.g1_mapping import smpl_to_g1
from estimators.package.meta import BodyMotion, MotionPackage
from estimators.rotations import (
    axis_angle_to_matrix,
    matrix_to_axis_angle,
    matrix_to_quat,
    quat_slerp,
    quat_to_matrix,
)

F64 = npt.NDArray[np.float64]

_MIN_JERK_PEAK = 1.875
_SAFETY = 0.8
"""Windows are sized for 80 % of the limit: resampling to 50 Hz and the mapping's curvature
must not push the result back over it."""
_CHUNK = 2048


@dataclass(frozen=True)
class SmoothedSpan:
    """One replaced window, in package frames (inclusive ends, which are kept as they were)."""

    start: int
    end: int
    fps: float

    def as_dict(self) -> dict[str, float | int]:
        return {"start_frame": self.start, "end_frame": self.end,
                "start_s": round(self.start / self.fps, 3),
                "end_s": round(self.end / self.fps, 3)}  # fmt: skip


def _mapped(orient: F64, pose: F64) -> F64:
    """``(T, 29)`` G1 references at the package rate (clamped, as the track will be)."""
    n = pose.shape[0]
    out = np.empty((n, 29))
    for start in range(0, n, _CHUNK):
        chunk = slice(start, min(start + _CHUNK, n))
        local = local_rotations(orient[chunk], pose[chunk])
        out[chunk] = smpl_to_g1(local, clamp=False)
    clipped: F64 = np.clip(out, Q_MIN, Q_MAX)
    return clipped


def smooth_jumps(
    package: MotionPackage, config: JointSpeedConfig, *, max_rounds: int = 6
) -> tuple[MotionPackage, tuple[SmoothedSpan, ...]]:
    """The package with every jump replaced by a bounded transition, and where.

    Works on axis-angle body motion (what GENMO import produces); the rest of the package is
    kept. Returns the package unchanged (and no spans) when nothing is too fast. A jump that
    survives ``max_rounds`` of widening is left for the caller's speed check to refuse.
    """
    fps = package.meta.fps
    body = package.body
    orient = np.asarray(body.global_orient, dtype=np.float64)
    pose = np.asarray(body.body_pose, dtype=np.float64).reshape(orient.shape[0], -1, 3)
    transl = np.asarray(body.transl, dtype=np.float64)
    n = orient.shape[0]
    limit = _SAFETY * config.limits_rad_s
    spans: list[tuple[int, int]] = []
    scale = 1.0
    for _ in range(max_rounds):
        q = _mapped(orient, pose)
        step = np.abs(np.diff(q, axis=0)) * fps
        bad = np.flatnonzero(np.any(step > limit, axis=1))
        if bad.size == 0:
            break
        for first, last in _runs(bad):
            a, b = first, last + 1  # the frames before and after the too-fast steps
            ratio = float(np.max(np.abs(q[b] - q[a]) / limit))
            frames = math.ceil(scale * _MIN_JERK_PEAK * ratio * fps) + 1
            grow = max(0, frames - (b - a))
            a, b = max(0, a - grow // 2), min(n - 1, b + grow - grow // 2)
            _bridge(orient, pose, transl, a, b)
            spans.append((a, b))
        scale *= 1.5
    if not spans:
        return package, ()
    smoothed = BodyMotion(
        global_orient=orient.astype(np.float32),
        body_pose=pose.reshape(body.body_pose.shape).astype(np.float32),
        transl=transl.astype(np.float32),
        betas=body.betas,
    )
    merged = tuple(SmoothedSpan(a, b, fps) for a, b in _merge(spans))
    return replace(package, body=smoothed), merged


def _runs(frames: npt.NDArray[np.intp]) -> list[tuple[int, int]]:
    breaks = np.flatnonzero(np.diff(frames) > 1)
    starts = np.concatenate([[frames[0]], frames[breaks + 1]])
    ends = np.concatenate([frames[breaks], [frames[-1]]])
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _bridge(orient: F64, pose: F64, transl: F64, a: int, b: int) -> None:
    """Replace frames ``a+1 .. b-1`` by a minimum-jerk slerp from frame ``a`` to frame ``b``."""
    if b - a < 2:
        return
    u = (np.arange(a + 1, b) - a) / (b - a)
    s = u**3 * (10.0 - 15.0 * u + 6.0 * u * u)
    rotvecs = np.concatenate([orient[:, None, :], pose], axis=1)  # (T, 22, 3)
    q0 = matrix_to_quat(axis_angle_to_matrix(rotvecs[a]))
    q1 = matrix_to_quat(axis_angle_to_matrix(rotvecs[b]))
    q1 = np.where(np.sum(q0 * q1, axis=-1, keepdims=True) < 0.0, -q1, q1)
    inner = quat_slerp(q0[None], q1[None], s[:, None])
    bridged = matrix_to_axis_angle(quat_to_matrix(inner))
    orient[a + 1 : b] = bridged[:, 0]
    pose[a + 1 : b] = bridged[:, 1:]
    transl[a + 1 : b] = transl[a] + s[:, None] * (transl[b] - transl[a])
