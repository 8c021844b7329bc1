"""Content checks of a motion package, shared by the producer (before encoding) and the daemon.

Order: metadata limits (fps, frames), then per array: shape, finite values, rotations, value
ranges; last the G1 joint references against the G1's limits and velocity limits. The first
failure raises ``PackageRejectedError`` with a stable code and the offending field.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from controller.embodiment.g1 import BODY_JOINT_NAMES, DQ_MAX, Q_MAX, Q_MIN
from estimators.errors import PackageErrorCode, PackageRejectedError
from estimators.package.config import PackageConfig
from estimators.package.meta import (
    HandsFormat,
    HandStates,
    MotionPackage,
    PackageMeta,
    RotationFormat,
    WilorHands,
)
from estimators.package.schema import expected_arrays
from estimators.track import HandState

MAX_ROTVEC_NORM = 2.0 * math.pi + 1e-3
"""Axis-angle vectors longer than a full turn are not canonical rotations."""

Code = PackageErrorCode


def check_meta_limits(meta: PackageMeta, config: PackageConfig) -> None:
    """fps inside ``[min_fps, max_fps]`` and at most ``max_frames`` frames."""
    if not config.min_fps <= meta.fps <= config.max_fps:
        raise PackageRejectedError(
            Code.FPS_OUT_OF_RANGE,
            "meta.fps",
            f"{meta.fps} fps outside {config.min_fps}..{config.max_fps}",
        )
    if meta.n_frames > config.max_frames:
        raise PackageRejectedError(
            Code.TOO_MANY_FRAMES, "meta.n_frames", f"{meta.n_frames} > limit {config.max_frames}"
        )


def _finite(field: str, values: npt.NDArray[np.generic]) -> None:
    if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
        raise PackageRejectedError(Code.NON_FINITE, field, "contains NaN or infinity")


def _rotations(
    field: str, values: npt.NDArray[np.floating], meta: PackageMeta, config: PackageConfig
) -> None:
    if meta.rotation_format is RotationFormat.AXIS_ANGLE:
        norms = np.linalg.norm(values.astype(np.float64, copy=False), axis=-1)
        worst = float(norms.max(initial=0.0))
        if worst > MAX_ROTVEC_NORM:
            raise PackageRejectedError(
                Code.NOT_A_ROTATION, field, f"axis-angle norm {worst:.3f} rad exceeds 2π"
            )
        return
    r = values.astype(np.float64, copy=False)
    gram = np.einsum("...ki,...kj->...ij", r, r)
    ortho_err = float(np.abs(gram - np.eye(3)).max(initial=0.0))
    det_err = float(np.abs(np.linalg.det(r) - 1.0).max(initial=0.0)) if r.size else 0.0
    if ortho_err > config.rotation_tolerance or det_err > config.rotation_tolerance:
        raise PackageRejectedError(
            Code.NOT_A_ROTATION,
            field,
            f"not a rotation matrix (|RᵀR-I| {ortho_err:.2e}, |det-1| {det_err:.2e})",
        )


def _shape(field: str, values: npt.NDArray[np.generic], meta: PackageMeta, name: str) -> None:
    spec = expected_arrays(meta)[name]
    if not spec.matches(tuple(values.shape)):
        raise PackageRejectedError(
            Code.BAD_SHAPE, field, f"shape {tuple(values.shape)}, expected {spec.describe()}"
        )


def _check_hands(hands: WilorHands | HandStates, meta: PackageMeta, config: PackageConfig) -> None:
    if isinstance(hands, HandStates):
        _shape("arrays.hand_state", hands.states, meta, "hand_state")
        if hands.states.size and (
            int(hands.states.min()) < min(HandState) or int(hands.states.max()) > max(HandState)
        ):
            raise PackageRejectedError(
                Code.OUT_OF_RANGE, "arrays.hand_state", "values must be HandState codes 0..2"
            )
        return
    for name, values in (
        ("hand_pose", hands.hand_pose),
        ("hand_keypoints", hands.keypoints),
        ("hand_confidence", hands.confidence),
        ("hand_valid", hands.valid),
    ):
        _shape(f"arrays.{name}", values, meta, name)
        _finite(f"arrays.{name}", values)
    _rotations("arrays.hand_pose", hands.hand_pose, meta, config)
    conf = hands.confidence
    if conf.size and (float(conf.min()) < 0.0 or float(conf.max()) > 1.0):
        raise PackageRejectedError(Code.OUT_OF_RANGE, "arrays.hand_confidence", "outside [0, 1]")
    if hands.valid.size and int(hands.valid.max()) > 1:
        raise PackageRejectedError(Code.OUT_OF_RANGE, "arrays.hand_valid", "values must be 0 or 1")


def _check_g1_reference(q_ref: npt.NDArray[np.floating], fps: float, config: PackageConfig) -> None:
    q = q_ref.astype(np.float64, copy=False)
    tol = config.joint_limit_tolerance_rad
    bad = (q < Q_MIN - tol) | (q > Q_MAX + tol)
    if np.any(bad):
        frame, joint = (int(i) for i in np.argwhere(bad)[0])
        raise PackageRejectedError(
            Code.JOINT_LIMIT,
            f"arrays.g1_q_ref[{frame}, {joint}]",
            f"{BODY_JOINT_NAMES[joint]} = {q[frame, joint]:.4f} rad outside "
            f"[{Q_MIN[joint]:.4f}, {Q_MAX[joint]:.4f}]",
        )
    if q.shape[0] < 2:
        return
    speed = np.abs(np.diff(q, axis=0)) * fps
    limit = DQ_MAX * config.velocity_limit_scale
    too_fast = speed > limit
    if np.any(too_fast):
        frame, joint = (int(i) for i in np.argwhere(too_fast)[0])
        raise PackageRejectedError(
            Code.JOINT_VELOCITY,
            f"arrays.g1_q_ref[{frame + 1}, {joint}]",
            f"{BODY_JOINT_NAMES[joint]} moves {speed[frame, joint]:.2f} rad/s, "
            f"limit {limit[joint]:.2f}",
        )


def validate_package(package: MotionPackage, config: PackageConfig) -> None:
    """Check everything the arrays can get wrong. Raises ``PackageRejectedError``."""
    meta = package.meta
    check_meta_limits(meta, config)
    body = package.body
    for name, values in (
        ("global_orient", body.global_orient),
        ("body_pose", body.body_pose),
        ("transl", body.transl),
    ):
        _shape(f"arrays.{name}", values, meta, name)
        _finite(f"arrays.{name}", values)
    _rotations("arrays.global_orient", body.global_orient, meta, config)
    _rotations("arrays.body_pose", body.body_pose, meta, config)
    if body.betas is not None:
        _shape("arrays.betas", body.betas, meta, "betas")
        _finite("arrays.betas", body.betas)
    hands_type = {HandsFormat.WILOR: WilorHands, HandsFormat.STATES: HandStates}
    wanted = hands_type.get(meta.hands_format)
    if (package.hands is None) != (wanted is None) or (
        wanted is not None and not isinstance(package.hands, wanted)
    ):
        raise PackageRejectedError(
            Code.INVALID_METADATA, "meta.hands_format", "does not match the hand data present"
        )
    if package.hands is not None:
        _check_hands(package.hands, meta, config)
    if package.g1_q_ref is not None:
        _shape("arrays.g1_q_ref", package.g1_q_ref, meta, "g1_q_ref")
        _finite("arrays.g1_q_ref", package.g1_q_ref)
        _check_g1_reference(package.g1_q_ref, meta.fps, config)
