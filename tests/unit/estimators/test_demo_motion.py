"""The procedural demo package: valid, plausible, and trackable by a G1 in a gantry.

Real: the generator, the codec with the daemon's own checks, the track builder. Faked: nothing
beyond the motion being procedural rather than estimated from video.
"""

from __future__ import annotations

import numpy as np

from controller.embodiment.g1 import DQ_MAX, joint_index
from estimators.demo_motion import make_demo_motion, make_demo_package
from estimators.package import (
    HandsFormat,
    MotionPackage,
    PackageConfig,
    decode_package,
    generate_signing_key,
    public_key_bytes,
)
from estimators.reference_track import build_reference_track


def test_demo_package_passes_the_daemon_checks(demo_bytes: bytes) -> None:
    decoded = decode_package(demo_bytes, PackageConfig())
    meta = decoded.package.meta
    assert meta.fps == 30.0
    assert meta.n_frames == 361
    assert meta.hands_format is HandsFormat.WILOR
    assert "box" in meta.task_instruction


def test_demo_is_deterministic(demo_bytes: bytes) -> None:
    assert make_demo_package() == demo_bytes


def test_demo_motion_keeps_legs_moderate_and_speeds_low(demo_package: MotionPackage) -> None:
    track = build_reference_track(demo_package)
    q = track.q_hw
    for side in ("left", "right"):
        assert np.abs(q[:, joint_index(f"{side}_hip_pitch")]).max() < 0.9
        assert q[:, joint_index(f"{side}_knee")].max() < 1.0
        assert np.abs(q[:, joint_index(f"{side}_hip_roll")]).max() < 0.1
    speed = np.abs(np.diff(q, axis=0)).max(axis=0) * 50.0
    assert np.all(speed < 0.25 * DQ_MAX)


def _frame(t_s: float) -> int:
    return int(t_s * 50)


def test_demo_phases_bend_then_stand(demo_package: MotionPackage) -> None:
    track = build_reference_track(demo_package)
    waist_pitch = track.q_hw[:, joint_index("waist_pitch")]
    shoulder = track.q_hw[:, joint_index("left_shoulder_pitch")]
    assert waist_pitch[_frame(5.5)] > 0.3 > waist_pitch[_frame(1.0)]  # bent down to grasp
    assert shoulder[_frame(5.5)] < -0.8  # arms reach forward
    assert abs(waist_pitch[_frame(9.0)]) < 0.05  # standing with the box
    assert track.smpl_joints_local[_frame(5.5), 15, 0] > track.smpl_joints_local[_frame(1.0), 15, 0]


def test_demo_variants_states_reference_and_signature() -> None:
    key = generate_signing_key()
    data = make_demo_package(
        hands_format=HandsFormat.STATES,
        include_g1_reference=True,
        signing_key=key,
        key_id="demo",
        duration_s=4.0,
    )
    config = PackageConfig(require_signature=True, trusted_keys={"demo": public_key_bytes(key)})
    decoded = decode_package(data, config)
    assert decoded.signed_by == "demo"
    assert decoded.package.g1_q_ref is not None
    motion = make_demo_motion(duration_s=4.0, hands_format=HandsFormat.NONE)
    assert motion.hands is None
