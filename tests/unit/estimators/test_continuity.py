"""Joint speeds of a track against the supervisor's limit, and smoothing jumps on request.

Real: ``estimators.continuity``, ``estimators.jump_smoothing``, the SMPL -> G1 mapping and the
50 Hz track builder. Faked: the motions (GENMO-like body motion written by
``tests.support.genmo_files``, and joint tracks written here).
"""

from __future__ import annotations

import numpy as np
import pytest

from controller.embodiment import g1
from estimators.continuity import (
    JointSpeedConfig,
    check_joint_speeds,
    first_too_fast,
    joint_speed_report,
)
from estimators.errors import PackageErrorCode, PackageRejectedError
from estimators.genmo import genmo_to_package
from estimators.jump_smoothing import smooth_jumps
from estimators.reference_track import build_reference_track
from tests.support.genmo_files import genmo_arrays

CONFIG = JointSpeedConfig()


def test_the_limit_is_the_supervisor_trip_speed_with_margin() -> None:
    assert np.all(CONFIG.limits_rad_s == 7.5)
    tight = JointSpeedConfig(supervisor_limit_rad_s=10.0, margin=0.4)
    assert np.all(tight.limits_rad_s == 4.0)
    for bad in ({"margin": 0.0}, {"margin": 1.5}, {"supervisor_limit_rad_s": -1.0}):
        with pytest.raises(ValueError, match="must"):
            JointSpeedConfig(**bad)  # type: ignore[arg-type]


def test_a_jump_is_refused_naming_package_frame_joint_and_speed() -> None:
    q = np.tile(g1.Q_DEFAULT, (100, 1))
    elbow = g1.joint_index("right_elbow")
    q[60:, elbow] += 0.5  # 25 rad/s at 50 Hz
    assert first_too_fast(q, 50.0, CONFIG) == (60, elbow, pytest.approx(25.0))
    with pytest.raises(PackageRejectedError) as caught:
        check_joint_speeds(q, 50.0, CONFIG, source_fps=30.0, field="arrays.body_pose")
    error = caught.value
    assert error.code is PackageErrorCode.JOINT_VELOCITY
    assert error.field == "arrays.body_pose[36]"  # t = 1.2 s, the package's frame 36 at 30 fps
    assert "right_elbow_joint moves at 25.00 rad/s at t 1.20 s" in error.detail
    assert "limit 7.50" in error.detail


def test_peak_speeds_per_joint() -> None:
    t = np.arange(200)[:, None] / 50.0
    q = g1.Q_DEFAULT + 0.2 * np.sin(2 * np.pi * 1.0 * t) * np.ones((1, 29))
    report = joint_speed_report(q, 50.0)
    np.testing.assert_allclose(report.peak_rad_s, 2 * np.pi * 0.2, rtol=0.01)
    assert set(report.as_dict()) == set(g1.BODY_JOINT_NAMES)
    check_joint_speeds(q, 50.0, CONFIG)


def test_smoothing_replaces_each_jump_by_a_bounded_transition() -> None:
    package = genmo_to_package(
        genmo_arrays(300, jump_every_s=4.0), package_id="j", task_instruction=""
    )
    with pytest.raises(PackageRejectedError):
        check_joint_speeds(build_reference_track(package).q_hw, 50.0, CONFIG)
    smoothed, spans = smooth_jumps(package, CONFIG)
    track = build_reference_track(smoothed)
    check_joint_speeds(track.q_hw, 50.0, CONFIG)
    assert len(spans) == 2  # the jumps at 4 s and 8 s (package frames 120 and 240)
    assert spans[0].start < 120 <= spans[0].end
    assert spans[1].start < 240 <= spans[1].end
    assert all(s.end - s.start < 30 for s in spans), "about 1.9 x the jump / limit, no more"
    # Frames outside the replaced windows are untouched; the length and timing are kept.
    keep = np.ones(300, dtype=bool)
    for s in spans:
        keep[s.start + 1 : s.end] = False
    np.testing.assert_array_equal(smoothed.body.body_pose[keep], package.body.body_pose[keep])
    assert smoothed.meta == package.meta


def test_smoothing_leaves_a_smooth_motion_alone() -> None:
    package = genmo_to_package(genmo_arrays(90), package_id="s", task_instruction="")
    smoothed, spans = smooth_jumps(package, CONFIG)
    assert smoothed is package
    assert spans == ()
