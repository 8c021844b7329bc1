"""Rotation helpers: conversions agree with each other and stay orthonormal.

Real: the numpy rotation code. Faked: random rotations from a fixed seed.
"""

from __future__ import annotations

import math

import numpy as np

from estimators.rotations import (
    axis_angle_to_matrix,
    axis_rotation,
    matrix_to_axis_angle,
    matrix_to_quat,
    quat_to_matrix,
    rot_x,
    rot_y,
    rot_z,
)


def test_conversions_round_trip() -> None:
    rng = np.random.default_rng(0)
    rotvec = rng.normal(0.0, 1.0, (500, 3))
    rotvec *= (np.minimum(np.linalg.norm(rotvec, axis=1), 3.1) / np.linalg.norm(rotvec, axis=1))[
        :, None
    ]
    mats = axis_angle_to_matrix(rotvec)
    np.testing.assert_allclose(
        mats @ np.swapaxes(mats, 1, 2), np.broadcast_to(np.eye(3), mats.shape), atol=1e-12
    )
    np.testing.assert_allclose(np.linalg.det(mats), 1.0)
    np.testing.assert_allclose(matrix_to_axis_angle(mats), rotvec, atol=1e-9)
    quats = matrix_to_quat(mats)
    assert np.all(quats[:, 0] >= 0)
    np.testing.assert_allclose(quat_to_matrix(quats), mats, atol=1e-12)


def test_elementary_rotations_and_axis_rotation_agree() -> None:
    for axis, fn in (([1.0, 0, 0], rot_x), ([0, 1.0, 0], rot_y), ([0, 0, 1.0], rot_z)):
        np.testing.assert_allclose(axis_rotation(axis, 0.7), fn(0.7), atol=1e-15)
        np.testing.assert_allclose(axis_angle_to_matrix(np.array(axis) * 0.7), fn(0.7), atol=1e-15)
    np.testing.assert_allclose(rot_z(math.pi / 2) @ [1.0, 0, 0], [0, 1.0, 0], atol=1e-15)


def test_half_turn_and_zero_rotation() -> None:
    half = axis_angle_to_matrix(np.array([0.0, math.pi, 0.0]))
    np.testing.assert_allclose(np.abs(matrix_to_axis_angle(half)), [0, math.pi, 0], atol=1e-9)
    np.testing.assert_allclose(axis_angle_to_matrix(np.zeros(3)), np.eye(3))
    np.testing.assert_allclose(matrix_to_axis_angle(np.eye(3)), 0.0)
