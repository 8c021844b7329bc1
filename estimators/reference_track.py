"""Motion package -> 50 Hz ``ReferenceTrack``, computed once when a package is accepted.

Per output frame ``k`` (time ``k / 50`` s from the package's first frame): root-local SMPL joints
for SONIC's encoder, the base-rotation-removed Z-up root quaternion (slerped), the 29 G1 joint
references (the package's own ``g1_q_ref`` when present, otherwise the analytic SMPL -> G1
mapping; interpolated linearly, clamped to the limits), optional smoothing of the local
rotations (at the package rate, before everything else), and Dex3 targets from hand states held
from the latest source frame (hands stay synchronised to the body by frame index: source frame
``i`` is time ``i / fps`` for both).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from controller.embodiment.g1 import NUM_BODY_JOINTS, Q_MAX, Q_MIN
from estimators.fk import local_rotations, root_local_joints, root_quat_robot_wxyz
from estimators.g1_mapping import smpl_to_g1
from estimators.hands.classifier import HandStateConfig
from estimators.hands.dex3_targets import dex3_targets
from estimators.hands.wilor import hand_states_from_wilor
from estimators.package.meta import AxisConvention, HandStates, MotionPackage, WilorHands
from estimators.resample import (
    SmoothingConfig,
    SmoothingKind,
    resample_grid,
    resample_hold,
    resample_linear,
    resample_slerp,
    smooth_quaternions,
)
from estimators.rotations import matrix_to_quat, quat_make_continuous, quat_to_matrix
from estimators.skeleton import CanonicalAdultSkeleton, Skeleton
from estimators.track import NUM_SMPL_JOINTS, TRACK_FPS, HandState, ReferenceTrack

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TrackBuildConfig:
    """How packages become tracks."""

    smoothing: SmoothingConfig = field(default_factory=SmoothingConfig)
    hand_states: HandStateConfig = field(default_factory=HandStateConfig)


def package_hand_states(package: MotionPackage, config: HandStateConfig) -> npt.NDArray[np.int8]:
    """``(T, 2)`` hand states at the package's fps (OPEN when the package has no hands)."""
    hands = package.hands
    if isinstance(hands, WilorHands):
        return hand_states_from_wilor(hands, package.meta.fps, config)
    if isinstance(hands, HandStates):
        return np.asarray(hands.states, dtype=np.int8)
    return np.full((package.meta.n_frames, 2), int(HandState.OPEN), dtype=np.int8)


def build_reference_track(
    package: MotionPackage,
    *,
    skeleton: Skeleton | None = None,
    config: TrackBuildConfig | None = None,
) -> ReferenceTrack:
    """Precompute the 50 Hz track for an (already validated) package.

    Args:
        package: a decoded, validated motion package.
        skeleton: rest skeleton for the SMPL joints; the canonical adult skeleton by default.
        config: smoothing and hand-state settings.

    Returns:
        The ``ReferenceTrack`` (read-only arrays; see ``estimators.track`` for conventions).
    """
    cfg = config or TrackBuildConfig()
    skel = skeleton or CanonicalAdultSkeleton().load()
    meta = package.meta
    # Everything is computed at the package rate, then resampled: rotations (the root) by slerp,
    # positions and joint angles linearly. Mapping 30 fps frames instead of 50 Hz ones is 40 %
    # cheaper, and between frames 33 ms apart slerp-then-FK and FK-then-lerp differ by < 1 mm.
    joints_src, root_src, q_src = _source_features(package, skel, cfg)
    grid = resample_grid(meta.n_frames, meta.fps, TRACK_FPS)
    joints_local = resample_linear(joints_src, grid)
    del joints_src
    root_quat = resample_slerp(quat_make_continuous(root_src, axis=0), grid)
    q_hw = np.clip(resample_linear(q_src, grid), Q_MIN, Q_MAX)

    states = np.ascontiguousarray(
        resample_hold(package_hand_states(package, cfg.hand_states), grid), dtype=np.int8
    )
    return ReferenceTrack(
        q_hw=q_hw,
        hand_q=dex3_targets(states),
        hand_state=states,
        smpl_joints_local=joints_local,
        root_quat_wxyz=root_quat,
        package_id=meta.package_id,
    )


_CHUNK_FRAMES = 2048
"""Source frames converted at a time: bounds the (chunk, 24, 3, 3) rotation temporaries, which
for a whole 10-minute package would be ~30 MB each and several at once."""


def _source_features(
    package: MotionPackage, skeleton: Skeleton, config: TrackBuildConfig
) -> tuple[F64, F64, F64]:
    """Root-local joints ``(T, 24, 3)``, root quaternions ``(T, 4)`` and G1 angles ``(T, 29)``
    (the package's own ``g1_q_ref`` when present, else mapped), all at the package rate."""
    meta = package.meta
    n = meta.n_frames
    y_up = meta.axis_convention is AxisConvention.SMPL_Y_UP
    smoothed = None
    if config.smoothing.kind is not SmoothingKind.NONE:
        # Smoothing runs along time, so it needs every frame's quaternions at once (4 numbers
        # per joint instead of 9: the smaller whole-sequence form).
        quats = np.empty((n, NUM_SMPL_JOINTS, 4))
        for chunk in _chunks(n):
            quats[chunk] = matrix_to_quat(_local(package, chunk))
        smoothed = smooth_quaternions(
            quat_make_continuous(quats, axis=0), config.smoothing, meta.fps
        )
        del quats
    joints = np.empty((n, NUM_SMPL_JOINTS, 3))
    root = np.empty((n, 4))
    is_mapped = package.g1_q_ref is None
    q = np.empty((n, NUM_BODY_JOINTS)) if is_mapped else np.asarray(package.g1_q_ref, np.float64)
    for chunk in _chunks(n):
        local = _local(package, chunk) if smoothed is None else quat_to_matrix(smoothed[chunk])
        joints[chunk] = root_local_joints(local, skeleton)
        root[chunk] = root_quat_robot_wxyz(local[:, 0], y_up=y_up)
        if is_mapped:
            q[chunk] = smpl_to_g1(local, clamp=False)
    return joints, root, q


def _chunks(n: int) -> list[slice]:
    return [slice(start, min(start + _CHUNK_FRAMES, n)) for start in range(0, n, _CHUNK_FRAMES)]


def _local(package: MotionPackage, chunk: slice) -> F64:
    return local_rotations(package.body.global_orient[chunk], package.body.body_pose[chunk])
