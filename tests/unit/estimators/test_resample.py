"""Resampling to 50 Hz and Savitzky-Golay smoothing.

Real: the resampling and smoothing code and the quaternion helpers. Faked: the signals
(synthetic ramps, rotations about one axis, and noise with a fixed seed).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from estimators.resample import (
    SmoothingConfig,
    SmoothingKind,
    resample_grid,
    resample_hold,
    resample_linear,
    resample_slerp,
    savgol_smooth,
    smooth_quaternions,
    smooth_values,
)
from estimators.rotations import (
    axis_angle_to_matrix,
    matrix_to_axis_angle,
    matrix_to_quat,
    quat_make_continuous,
    quat_slerp,
    quat_to_matrix,
)


def test_grid_covers_the_source_duration_without_extrapolating() -> None:
    grid = resample_grid(31, 30.0, 50.0)  # exactly 1 s
    assert grid.n_frames == 51
    assert grid.lower[-1] == 30
    assert grid.alpha[-1] == 0.0
    np.testing.assert_allclose((grid.lower + grid.alpha) / 30.0, np.arange(51) / 50.0, atol=1e-12)
    assert resample_grid(1, 30.0, 50.0).n_frames == 1


def test_linear_interpolation_of_a_ramp_is_exact() -> None:
    values = np.arange(31, dtype=np.float64)[:, None] * [1.0, -2.0]
    out = resample_linear(values, resample_grid(31, 30.0, 50.0))
    np.testing.assert_allclose(out[:, 0], np.arange(51) * 30.0 / 50.0, atol=1e-12)
    np.testing.assert_allclose(out[:, 1], -2.0 * out[:, 0])


def test_slerp_of_a_constant_rate_rotation_is_exact() -> None:
    angles = np.arange(31) * 0.05  # 1.5 rad/s about a fixed axis, 30 fps
    axis = np.array([0.0, 0.6, 0.8])
    quats = matrix_to_quat(axis_angle_to_matrix(angles[:, None] * axis))
    out = resample_slerp(quats, resample_grid(31, 30.0, 50.0))
    got = matrix_to_axis_angle(quat_to_matrix(out))
    expected = (np.arange(51) / 50.0 * 1.5)[:, None] * axis
    np.testing.assert_allclose(got, expected, atol=1e-9)


def test_slerp_takes_the_short_way_across_the_sign_flip() -> None:
    q0 = np.array([1.0, 0.0, 0.0, 0.0])
    q1 = -matrix_to_quat(axis_angle_to_matrix(np.array([0.2, 0.0, 0.0])))
    mid = quat_slerp(q0, q1, 0.5)
    np.testing.assert_allclose(matrix_to_axis_angle(quat_to_matrix(mid)), [0.1, 0, 0], atol=1e-12)


def test_hold_takes_the_latest_source_frame() -> None:
    states = np.array([0, 0, 2, 2, 1], dtype=np.int8)
    out = resample_hold(states, resample_grid(5, 10.0, 50.0))
    assert out.dtype == np.int8
    np.testing.assert_array_equal(out[:6], [0, 0, 0, 0, 0, 0])
    assert out[10] == 2
    assert out[-1] == 1


def test_quaternion_continuity_removes_sign_flips() -> None:
    q = matrix_to_quat(axis_angle_to_matrix(np.linspace(0, 6.0, 40)[:, None] * [0, 0, 1.0]))
    fixed = quat_make_continuous(q)
    assert np.all(np.sum(fixed[1:] * fixed[:-1], axis=-1) > 0)
    np.testing.assert_allclose(quat_to_matrix(fixed), quat_to_matrix(q), atol=1e-12)


def test_savgol_keeps_quadratics_and_reduces_noise() -> None:
    t = np.linspace(0.0, 1.0, 101)
    quadratic = 3.0 * t**2 - t + 0.5
    np.testing.assert_allclose(savgol_smooth(quadratic, 11, 2)[6:-6], quadratic[6:-6], atol=1e-10)
    rng = np.random.default_rng(0)
    noisy = np.sin(2 * math.pi * t) + rng.normal(0.0, 0.1, t.shape)
    smoothed = savgol_smooth(noisy, 11, 2)
    clean = np.sin(2 * math.pi * t)
    assert np.std(smoothed - clean) < 0.6 * np.std(noisy - clean)


def test_smoothing_config_none_is_identity_and_quaternions_stay_unit() -> None:
    rng = np.random.default_rng(1)
    q = matrix_to_quat(axis_angle_to_matrix(rng.normal(0.0, 0.3, (50, 3))))
    none = SmoothingConfig()
    np.testing.assert_array_equal(smooth_quaternions(q, none, 30.0), q)
    sg = SmoothingConfig(kind=SmoothingKind.SAVITZKY_GOLAY, window_s=0.3)
    out = smooth_quaternions(q, sg, 30.0)
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), 1.0)
    assert sg.window_frames(30.0) == 9
    assert smooth_values(np.ones((50, 2)), sg, 30.0) == pytest.approx(np.ones((50, 2)))


@pytest.mark.parametrize("kwargs", [{"window_s": 0.0}, {"polyorder": 9}])
def test_bad_smoothing_config_raises(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="smoothing"):
        SmoothingConfig(**kwargs)  # type: ignore[arg-type]
