"""Builders for estimator tests: small valid packages and a re-sealer for crafted ones.

Real: the package codec, validation and signing. Faked: the motion content (random but valid
SMPL parameters and synthetic WiLoR-like hands; no real GENMO/WiLoR output exists here).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import msgpack
import numpy as np

from estimators.hands.synthetic import mirror_to_left, synthetic_hand
from estimators.package import (
    AxisConvention,
    BodyModel,
    BodyMotion,
    CameraView,
    HandsFormat,
    HandStates,
    MotionPackage,
    PackageMeta,
    PackageSource,
    RotationFormat,
    WilorHands,
)
from estimators.package.codec import package_to_wire_dict, seal_body


def make_meta(n_frames: int, **overrides: Any) -> PackageMeta:
    fields: dict[str, Any] = {
        "package_id": "test-pkg-1",
        "task_instruction": "wave",
        "created_at": datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc),
        "source": PackageSource.GENMO,
        "fps": 30.0,
        "n_frames": n_frames,
        "axis_convention": AxisConvention.SMPL_Y_UP,
        "skeleton_id": "canonical-adult-v1",
        "camera_view": CameraView.FRONT,
        "body_model": BodyModel.SMPLX,
        "rotation_format": RotationFormat.AXIS_ANGLE,
        "hands_format": HandsFormat.WILOR,
    }
    fields.update(overrides)
    return PackageMeta(**fields)


def build_package(
    n_frames: int = 12,
    *,
    seed: int = 0,
    hands_format: HandsFormat = HandsFormat.WILOR,
    rotation_format: RotationFormat = RotationFormat.AXIS_ANGLE,
    body_joints: int = 21,
    g1_q_ref: np.ndarray | None = None,
    **meta_overrides: Any,
) -> MotionPackage:
    """A small valid package with random moderate poses."""
    rng = np.random.default_rng(seed)
    orient = rng.normal(0.0, 0.3, (n_frames, 3))
    pose = rng.normal(0.0, 0.2, (n_frames, body_joints, 3))
    if rotation_format is RotationFormat.ROTMAT:
        from estimators.rotations import axis_angle_to_matrix

        orient, pose = axis_angle_to_matrix(orient), axis_angle_to_matrix(pose)
    body = BodyMotion(
        global_orient=orient.astype(np.float32),
        body_pose=pose.astype(np.float32),
        transl=rng.normal(0.0, 0.5, (n_frames, 3)).astype(np.float32),
        betas=rng.normal(0.0, 1.0, 10).astype(np.float32),
    )
    hands: WilorHands | HandStates | None = None
    if hands_format is HandsFormat.WILOR:
        hand_pose, kp = synthetic_hand(rng.uniform(0.0, 1.0, (n_frames, 2)))
        kp[:, 0] = mirror_to_left(kp[:, 0])
        if rotation_format is RotationFormat.ROTMAT:
            from estimators.rotations import axis_angle_to_matrix

            hand_pose = axis_angle_to_matrix(hand_pose)
        hands = WilorHands(
            hand_pose=hand_pose.astype(np.float32),
            keypoints=kp.astype(np.float32),
            confidence=rng.uniform(0.6, 1.0, (n_frames, 2)).astype(np.float32),
            valid=np.ones((n_frames, 2), dtype=np.uint8),
        )
    elif hands_format is HandsFormat.STATES:
        hands = HandStates(states=rng.integers(0, 3, (n_frames, 2)).astype(np.int8))
    meta = make_meta(
        n_frames, hands_format=hands_format, rotation_format=rotation_format, **meta_overrides
    )
    return MotionPackage(meta=meta, body=body, hands=hands, g1_q_ref=g1_q_ref)


def reseal(body_map: dict[str, Any], **outer_overrides: Any) -> bytes:
    """Encode a (possibly corrupted) body map with a correct digest, then apply outer edits."""
    body = bytes(msgpack.packb(body_map, use_bin_type=True))
    outer = msgpack.unpackb(seal_body(body), raw=False)
    outer.update(outer_overrides)
    return bytes(msgpack.packb(outer, use_bin_type=True))


def wire_dict(package: MotionPackage) -> dict[str, Any]:
    return package_to_wire_dict(package)
