"""Package -> 50 Hz ReferenceTrack.

Real: the whole build (FK, mapping, resampling, hand classification, Dex3 presets) and the
``ReferenceTrack`` type it must produce. Faked: the motion (the procedural demo package and
random SMPL parameters stand in for GENMO/WiLoR output).
"""

from __future__ import annotations

import numpy as np

from controller.embodiment.g1 import Q_DEFAULT, Q_MAX, Q_MIN
from estimators.fk import local_rotations, root_local_joints
from estimators.g1_mapping import smpl_to_g1
from estimators.hands import dex3_targets
from estimators.package import AxisConvention, HandsFormat, MotionPackage
from estimators.reference_track import TrackBuildConfig, build_reference_track, package_hand_states
from estimators.resample import SmoothingConfig, SmoothingKind, resample_grid, resample_hold
from estimators.rotations import matrix_to_quat
from estimators.skeleton import CanonicalAdultSkeleton
from estimators.smpl import SMPL_TO_ROBOT
from estimators.track import HandState, ReferenceTrack
from tests.unit.estimators.package_builders import build_package


def test_demo_track_shapes_and_rates(demo_package: MotionPackage) -> None:
    track = build_reference_track(demo_package)
    assert isinstance(track, ReferenceTrack)
    assert track.n_frames == 601  # 12 s at 50 Hz, both ends included
    assert track.package_id == "demo-pick-box"
    assert track.smpl_joints_local.shape == (601, 24, 3)
    assert track.wrist_isaac.shape == (601, 6)
    assert not track.q_hw.flags.writeable
    assert np.all(track.q_hw >= Q_MIN)
    assert np.all(track.q_hw <= Q_MAX)
    np.testing.assert_allclose(np.linalg.norm(track.root_quat_wxyz, axis=1), 1.0)
    np.testing.assert_allclose(track.smpl_joints_local[:, 0], 0.0, atol=1e-12)


def test_demo_hands_go_open_closed_open(demo_package: MotionPackage) -> None:
    track = build_reference_track(demo_package)
    for hand in range(2):
        states = track.hand_state[:, hand]
        runs = [int(s) for i, s in enumerate(states) if i == 0 or s != states[i - 1]]
        assert runs[0] == HandState.OPEN
        assert runs[-1] == HandState.OPEN
        assert HandState.CLOSED in runs
        closed_at = np.flatnonzero(states == HandState.CLOSED) / 50.0
        assert 5.0 < closed_at[0] < 6.0
        assert 9.0 < closed_at[-1] < 10.0
    np.testing.assert_array_equal(track.hand_q, dex3_targets(track.hand_state))


def test_hands_are_synchronised_to_the_body_by_frame_index(demo_package: MotionPackage) -> None:
    track = build_reference_track(demo_package)
    source_states = package_hand_states(demo_package, TrackBuildConfig().hand_states)
    grid = resample_grid(demo_package.meta.n_frames, demo_package.meta.fps, 50.0)
    np.testing.assert_array_equal(track.hand_state, resample_hold(source_states, grid))
    # every third source frame (30 fps) is every fifth track frame (50 Hz)
    np.testing.assert_array_equal(
        track.hand_state[::5], source_states[::3][: len(track.hand_state[::5])]
    )


def test_joints_and_angles_at_shared_instants_equal_direct_computation() -> None:
    package = build_package(31, hands_format=HandsFormat.NONE, seed=4)
    track = build_reference_track(package)
    local = local_rotations(package.body.global_orient, package.body.body_pose)
    skeleton = CanonicalAdultSkeleton().load()
    np.testing.assert_allclose(
        track.smpl_joints_local[::5], root_local_joints(local, skeleton)[::3], atol=1e-9
    )
    np.testing.assert_allclose(track.q_hw[::5], smpl_to_g1(local)[::3], atol=1e-9)
    np.testing.assert_array_equal(track.hand_state, HandState.OPEN)
    np.testing.assert_array_equal(track.hand_q, 0.0)


def test_root_quaternion_removes_the_base_rotation_in_z_up() -> None:
    package = build_package(4, hands_format=HandsFormat.NONE, axis_convention=AxisConvention.Z_UP)
    package.body.global_orient[:] = 0.0
    track = build_reference_track(package)
    expected = matrix_to_quat(SMPL_TO_ROBOT.T)
    np.testing.assert_allclose(track.root_quat_wxyz, np.tile(expected, (track.n_frames, 1)))


def test_precomputed_g1_reference_is_used_when_present() -> None:
    n = 31
    q_ref = np.tile(Q_DEFAULT, (n, 1)).astype(np.float32)
    q_ref[:, 3] = np.linspace(0.2, 0.8, n)  # left knee ramps
    package = build_package(n, hands_format=HandsFormat.STATES, g1_q_ref=q_ref)
    track = build_reference_track(package)
    np.testing.assert_allclose(track.q_hw[:, 3], np.linspace(0.2, 0.8, 51), atol=1e-6)
    source_states = np.asarray(package.hands.states)  # type: ignore[union-attr]
    np.testing.assert_array_equal(track.hand_state[::5], source_states[::3])


def test_smoothing_reduces_joint_jitter() -> None:
    package = build_package(90, hands_format=HandsFormat.NONE, seed=9)
    package.body.body_pose[:] *= 0.3  # random per-frame poses = pure jitter
    raw = build_reference_track(package)
    smooth_cfg = TrackBuildConfig(smoothing=SmoothingConfig(kind=SmoothingKind.SAVITZKY_GOLAY))
    smooth = build_reference_track(package, config=smooth_cfg)
    jitter_raw = np.abs(np.diff(raw.smpl_joints_local, 2, axis=0)).mean()
    jitter_smooth = np.abs(np.diff(smooth.smpl_joints_local, 2, axis=0)).mean()
    assert jitter_smooth < 0.5 * jitter_raw


def test_single_frame_package_gives_a_single_frame_track() -> None:
    smooth_cfg = TrackBuildConfig(smoothing=SmoothingConfig(kind=SmoothingKind.SAVITZKY_GOLAY))
    track = build_reference_track(build_package(1), config=smooth_cfg)
    assert track.n_frames == 1
    assert track.hand_q.shape == (1, 2, 7)
