"""A procedural ExoActor-style motion: "pick up the box and stand up".

Atomic actions as ExoActor's task decomposition would list them (approach, bend down, grasp,
lift, stand), written as SMPL-X body motion at 30 fps in GENMO's Y-up world, with WiLoR-like
hands (open -> closed -> open, from ``estimators.hands.synthetic``) or plain hand states. Legs
stay moderate (thighs at most ~0.5 rad forward, knees ~0.9 rad) so a G1 hanging in a gantry can
follow. The motion is built from keyframed human joint angles with cosine easing:

========  ==========  =====================================================================
time (s)  action      what moves
========  ==========  =====================================================================
0-3       approach    three small steps forward, arms swinging
3-5       bend down   pelvis tilts, hips, knees and spine flex, arms reach down and forward
5-6       grasp       hands close (half-open, then closed)
6-8       lift        stand up, elbows bend to hold the box at the chest
8-10      stand       hold; hands open at 9.6 s
10-12     release     arms return to the sides
========  ==========  =====================================================================
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

import numpy as np
import numpy.typing as npt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from estimators.fk import local_rotations
from estimators.g1_mapping import smpl_to_g1
from estimators.hands.synthetic import mirror_to_left, synthetic_hand
from estimators.package.codec import encode_package
from estimators.package.meta import (
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
from estimators.rotations import axis_rotation, matrix_to_axis_angle
from estimators.smpl import joint
from estimators.track import HandState

F64 = npt.NDArray[np.float64]

DEMO_INSTRUCTION = "Pick up the brown box and stand up"
DEMO_DURATION_S = 12.0

# Keyframes: time (s) -> pose parameters (rad unless noted). Missing keys keep their value.
_KEYS: list[tuple[float, dict[str, float]]] = [
    (0.0, {"walk": 0.0, "thigh": 0.0, "knee": 0.05, "pelvis_tilt": 0.0, "spine": 0.0,
           "arm_flex": 0.0, "arm_abd": 0.12, "elbow": 0.25, "drop": 0.0, "closure": 0.0}),
    (0.4, {"walk": 1.0}),
    (2.6, {"walk": 1.0}),
    (3.0, {"walk": 0.0, "elbow": 0.25}),
    (5.0, {"thigh": 0.45, "knee": 0.85, "pelvis_tilt": 0.3, "spine": 0.45, "arm_flex": 1.05,
           "arm_abd": 0.2, "elbow": 0.35, "drop": 0.16, "closure": 0.0}),
    (5.3, {"closure": 0.45}),
    (5.8, {"closure": 1.0}),
    (6.0, {"thigh": 0.45, "knee": 0.85, "pelvis_tilt": 0.3, "spine": 0.45, "arm_flex": 1.05,
           "elbow": 0.35, "drop": 0.16}),
    (8.0, {"thigh": 0.0, "knee": 0.05, "pelvis_tilt": 0.0, "spine": 0.0, "arm_flex": 0.55,
           "arm_abd": 0.25, "elbow": 1.25, "drop": 0.0}),
    (9.4, {"closure": 1.0, "arm_flex": 0.6}),
    (9.8, {"closure": 0.0, "arm_flex": 0.7, "elbow": 0.9}),
    (10.5, {"arm_flex": 0.7, "elbow": 0.9}),
    (12.0, {"arm_flex": 0.0, "arm_abd": 0.12, "elbow": 0.25}),
]  # fmt: skip

_Y = np.array([0.0, 1.0, 0.0])
_Z = np.array([0.0, 0.0, 1.0])
_STEP_HZ = 0.9
_WALK_SPEED_M_S = 0.25
_PELVIS_HEIGHT_M = 0.95


def _curves(times: F64) -> dict[str, F64]:
    """Per-frame parameters, cosine-eased between keyframes."""
    names = list(_KEYS[0][1])
    curves: dict[str, F64] = {}
    for name in names:
        knots_t: list[float] = []
        knots_v: list[float] = []
        value = _KEYS[0][1][name]
        for t, values in _KEYS:
            value = values.get(name, value)
            knots_t.append(t)
            knots_v.append(value)
        kt, kv = np.array(knots_t), np.array(knots_v)
        idx = np.clip(np.searchsorted(kt, times, side="right") - 1, 0, len(kt) - 2)
        span = np.maximum(kt[idx + 1] - kt[idx], 1e-9)
        u = np.clip((times - kt[idx]) / span, 0.0, 1.0)
        ease = 0.5 - 0.5 * np.cos(math.pi * u)
        curves[name] = kv[idx] + (kv[idx + 1] - kv[idx]) * ease
    return curves


def _rx(angles: F64) -> F64:
    return axis_rotation(np.array([1.0, 0.0, 0.0]), angles)


def demo_body(fps: float = 30.0, duration_s: float = DEMO_DURATION_S) -> tuple[BodyMotion, F64]:
    """Body motion and the hand closure per frame ``(T,)`` in [0, 1]."""
    n = round(duration_s * fps) + 1
    times = np.arange(n) / fps
    c = _curves(times)
    phase = 2.0 * math.pi * _STEP_HZ * times
    swing = c["walk"] * np.sin(phase)
    lift = c["walk"] * np.maximum(0.0, np.sin(phase))
    lift_other = c["walk"] * np.maximum(0.0, -np.sin(phase))

    local = np.tile(np.eye(3), (n, 24, 1, 1))
    tilt = c["pelvis_tilt"]
    for side, thigh_extra, knee_extra in (("left", 0.22 * swing, 0.4 * lift),
                                          ("right", -0.22 * swing, 0.4 * lift_other)):  # fmt: skip
        thigh = c["thigh"] + thigh_extra  # forward angle of the thigh in the world
        knee = c["knee"] + knee_extra
        hip_flex = thigh + tilt
        local[:, joint(f"{side}_hip")] = _rx(-hip_flex)
        local[:, joint(f"{side}_knee")] = _rx(knee)
        local[:, joint(f"{side}_ankle")] = _rx(thigh - knee)  # keeps the foot level
    for name in ("spine1", "spine2", "spine3"):
        local[:, joint(name)] = _rx(c["spine"] / 3.0)
    for side, sign, arm_swing in (("left", 1.0, -0.25 * swing), ("right", -1.0, 0.25 * swing)):
        flex = c["arm_flex"] + arm_swing
        hang = axis_rotation(_Z, -sign * (math.pi / 2.0 - c["arm_abd"]))
        local[:, joint(f"{side}_shoulder")] = _rx(-flex) @ hang
        local[:, joint(f"{side}_elbow")] = axis_rotation(_Y, -sign * c["elbow"])
    root = _rx(tilt)
    transl = np.zeros((n, 3))
    transl[:, 1] = _PELVIS_HEIGHT_M - c["drop"]
    walked = np.cumsum(c["walk"]) * _WALK_SPEED_M_S / fps
    transl[:, 2] = walked
    body = BodyMotion(
        global_orient=matrix_to_axis_angle(root).astype(np.float32),
        body_pose=matrix_to_axis_angle(local[:, 1:22]).astype(np.float32),
        transl=transl.astype(np.float32),
    )
    return body, np.clip(c["closure"], 0.0, 1.0)


def _demo_hands(closure: F64, hands_format: HandsFormat, seed: int) -> WilorHands | HandStates:
    n = closure.shape[0]
    if hands_format is HandsFormat.STATES:
        states = np.where(closure > 0.7, HandState.CLOSED,
                          np.where(closure > 0.3, HandState.HALF, HandState.OPEN))  # fmt: skip
        return HandStates(states=np.repeat(states[:, None], 2, axis=1).astype(np.int8))
    rng = np.random.default_rng(seed)
    noisy = np.clip(closure[:, None] + rng.normal(0.0, 0.04, (n, 2)), 0.0, 1.0)
    pose, kp = synthetic_hand(noisy)
    kp = kp + rng.normal(0.0, 0.002, kp.shape)
    kp[:, 0] = mirror_to_left(kp[:, 0])
    confidence = np.clip(0.9 + rng.normal(0.0, 0.03, (n, 2)), 0.0, 1.0)
    valid = np.ones((n, 2), dtype=np.uint8)
    # A short occlusion of the left hand and a low-confidence patch on the right: both hold.
    gap = slice(n // 2, n // 2 + 6)
    valid[gap, 0] = 0
    confidence[n // 3 : n // 3 + 5, 1] = 0.2
    return WilorHands(
        hand_pose=pose.astype(np.float32),
        keypoints=kp.astype(np.float32),
        confidence=confidence.astype(np.float32),
        valid=valid,
    )


def make_demo_motion(
    *,
    fps: float = 30.0,
    duration_s: float = DEMO_DURATION_S,
    hands_format: HandsFormat = HandsFormat.WILOR,
    include_g1_reference: bool = False,
    package_id: str = "demo-pick-box",
    seed: int = 0,
) -> MotionPackage:
    """The demo motion as an in-memory package (see the module docstring)."""
    body, closure = demo_body(fps, duration_s)
    hands = None if hands_format is HandsFormat.NONE else _demo_hands(closure, hands_format, seed)
    meta = PackageMeta(
        package_id=package_id,
        task_instruction=DEMO_INSTRUCTION,
        created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
        source=PackageSource.PROCEDURAL,
        fps=fps,
        n_frames=body.transl.shape[0],
        axis_convention=AxisConvention.SMPL_Y_UP,
        skeleton_id="canonical-adult-v1",
        camera_view=CameraView.FRONT,
        body_model=BodyModel.SMPLX,
        rotation_format=RotationFormat.AXIS_ANGLE,
        hands_format=hands_format,
        producer="exoactor-edge demo_motion",
    )
    q_ref = None
    if include_g1_reference:
        q_ref = smpl_to_g1(local_rotations(body.global_orient, body.body_pose)).astype(np.float32)
    return MotionPackage(meta=meta, body=body, hands=hands, g1_q_ref=q_ref)


def make_demo_package(
    *,
    fps: float = 30.0,
    duration_s: float = DEMO_DURATION_S,
    hands_format: HandsFormat = HandsFormat.WILOR,
    include_g1_reference: bool = False,
    signing_key: Ed25519PrivateKey | None = None,
    key_id: str | None = None,
    seed: int = 0,
) -> bytes:
    """The demo motion encoded as a v1 wire message (what a producer would send)."""
    package = make_demo_motion(
        fps=fps,
        duration_s=duration_s,
        hands_format=hands_format,
        include_g1_reference=include_g1_reference,
        seed=seed,
    )
    return encode_package(package, signing_key=signing_key, key_id=key_id)
