"""Rotation helpers in numpy, vectorised over any leading dimensions.

Conventions: rotation matrices act on column vectors (``v' = R @ v``); quaternions are ``wxyz``
(scalar first, as SONIC and MuJoCo); axis-angle vectors are ``angle * unit_axis`` (rad), as SMPL,
GENMO and WiLoR-mini store them. Every function takes arrays of shape ``(..., k)`` and returns
``(..., k')`` with the same leading shape; nothing here allocates per element in Python.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike

_EPS = 1e-12


def axis_angle_to_matrix(rotvec: ArrayLike) -> F64:
    """Rodrigues: ``(..., 3)`` axis-angle (rad) -> ``(..., 3, 3)`` rotation matrices."""
    v = np.asarray(rotvec, dtype=np.float64)
    angle = np.linalg.norm(v, axis=-1)
    small = angle < 1e-8
    safe = np.where(small, 1.0, angle)
    axis = v / safe[..., None]
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    s = np.sin(angle)
    c = np.cos(angle)
    # Below 1e-8 rad the identity is exact to float precision.
    c1 = np.where(small, 0.0, 1.0 - c)
    s = np.where(small, 0.0, s)
    out = np.empty((*v.shape[:-1], 3, 3), dtype=np.float64)
    out[..., 0, 0] = c + x * x * c1
    out[..., 0, 1] = x * y * c1 - z * s
    out[..., 0, 2] = x * z * c1 + y * s
    out[..., 1, 0] = y * x * c1 + z * s
    out[..., 1, 1] = c + y * y * c1
    out[..., 1, 2] = y * z * c1 - x * s
    out[..., 2, 0] = z * x * c1 - y * s
    out[..., 2, 1] = z * y * c1 + x * s
    out[..., 2, 2] = c + z * z * c1
    return out


def matrix_to_quat(mat: ArrayLike) -> F64:
    """``(..., 3, 3)`` rotation matrices -> ``(..., 4)`` unit quaternions ``wxyz`` with ``w >= 0``.

    Uses the numerically stable branch per element (largest diagonal term), vectorised.
    """
    m = np.asarray(mat, dtype=np.float64)
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    trace = m00 + m11 + m22
    candidates = np.stack(
        [
            np.stack([1.0 + trace, m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0],
                      m[..., 1, 0] - m[..., 0, 1]], axis=-1),
            np.stack([m[..., 2, 1] - m[..., 1, 2], 1.0 + m00 - m11 - m22,
                      m[..., 0, 1] + m[..., 1, 0], m[..., 0, 2] + m[..., 2, 0]], axis=-1),
            np.stack([m[..., 0, 2] - m[..., 2, 0], m[..., 0, 1] + m[..., 1, 0],
                      1.0 - m00 + m11 - m22, m[..., 1, 2] + m[..., 2, 1]], axis=-1),
            np.stack([m[..., 1, 0] - m[..., 0, 1], m[..., 0, 2] + m[..., 2, 0],
                      m[..., 1, 2] + m[..., 2, 1], 1.0 - m00 - m11 + m22], axis=-1),
        ],
        axis=-2,
    )  # fmt: skip
    choice = np.argmax(np.stack([trace, m00, m11, m22], axis=-1), axis=-1)
    q = np.take_along_axis(candidates, choice[..., None, None], axis=-2)[..., 0, :]
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    return np.where(q[..., :1] < 0.0, -q, q)


def quat_to_matrix(quat_wxyz: ArrayLike) -> F64:
    """``(..., 4)`` quaternions ``wxyz`` (normalised here) -> ``(..., 3, 3)`` matrices."""
    q = np.asarray(quat_wxyz, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    out = np.empty((*q.shape[:-1], 3, 3), dtype=np.float64)
    out[..., 0, 0] = 1.0 - 2.0 * (y * y + z * z)
    out[..., 0, 1] = 2.0 * (x * y - w * z)
    out[..., 0, 2] = 2.0 * (x * z + w * y)
    out[..., 1, 0] = 2.0 * (x * y + w * z)
    out[..., 1, 1] = 1.0 - 2.0 * (x * x + z * z)
    out[..., 1, 2] = 2.0 * (y * z - w * x)
    out[..., 2, 0] = 2.0 * (x * z - w * y)
    out[..., 2, 1] = 2.0 * (y * z + w * x)
    out[..., 2, 2] = 1.0 - 2.0 * (x * x + y * y)
    return out


def matrix_to_axis_angle(mat: ArrayLike) -> F64:
    """``(..., 3, 3)`` rotation matrices -> ``(..., 3)`` axis-angle with angle in ``[0, pi]``."""
    q = matrix_to_quat(mat)
    vec = q[..., 1:]
    sin_half = np.linalg.norm(vec, axis=-1)
    angle = 2.0 * np.arctan2(sin_half, q[..., 0])
    scale = np.where(sin_half < 1e-10, 2.0, angle / np.maximum(sin_half, _EPS))
    return vec * scale[..., None]


def rot_x(angle: float) -> F64:
    """Rotation by ``angle`` (rad) about +X, ``(3, 3)``."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rot_y(angle: float) -> F64:
    """Rotation by ``angle`` (rad) about +Y, ``(3, 3)``."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rot_z(angle: float) -> F64:
    """Rotation by ``angle`` (rad) about +Z, ``(3, 3)``."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def axis_rotation(axis: ArrayLike, angle: ArrayLike) -> F64:
    """Rotations about one fixed unit ``axis`` (3,) by ``angle`` (...,) -> ``(..., 3, 3)``.

    ``I + sin(a) K + (1 - cos(a)) K^2`` with the constant cross-product matrix ``K`` of the axis.
    """
    a = np.asarray(axis, dtype=np.float64)
    a = a / np.linalg.norm(a)
    theta = np.asarray(angle, dtype=np.float64)[..., None, None]
    k = np.array([[0.0, -a[2], a[1]], [a[2], 0.0, -a[0]], [-a[1], a[0], 0.0]])
    out: F64 = np.eye(3) + np.sin(theta) * k + (1.0 - np.cos(theta)) * (k @ k)
    return out


def quat_slerp(q0: ArrayLike, q1: ArrayLike, alpha: ArrayLike) -> F64:
    """Spherical interpolation between ``wxyz`` quaternions, shortest path.

    Args:
        q0, q1: ``(..., 4)`` unit quaternions.
        alpha: interpolation weights broadcastable to ``(...,)``; 0 gives ``q0``, 1 gives ``q1``.

    Returns:
        ``(..., 4)`` unit quaternions.
    """
    a = np.asarray(q0, dtype=np.float64)
    b = np.asarray(q1, dtype=np.float64)
    t = np.asarray(alpha, dtype=np.float64)[..., None]
    dot = np.sum(a * b, axis=-1, keepdims=True)
    b = np.where(dot < 0.0, -b, b)
    dot = np.abs(dot)
    theta = np.arccos(np.clip(dot, -1.0, 1.0))
    sin_theta = np.sin(theta)
    near = sin_theta < 1e-6
    safe = np.where(near, 1.0, sin_theta)
    w0 = np.where(near, 1.0 - t, np.sin((1.0 - t) * theta) / safe)
    w1 = np.where(near, t, np.sin(t * theta) / safe)
    out = w0 * a + w1 * b
    out /= np.linalg.norm(out, axis=-1, keepdims=True)
    return out


def quat_make_continuous(quat_wxyz: ArrayLike, axis: int = 0) -> F64:
    """Flip signs along ``axis`` (time) so consecutive quaternions lie in the same hemisphere.

    Needed before smoothing quaternion components; ``q`` and ``-q`` are the same rotation.
    """
    q = np.array(quat_wxyz, dtype=np.float64, copy=True)
    q = np.moveaxis(q, axis, 0)
    if q.shape[0] > 1:
        dots = np.sum(q[1:] * q[:-1], axis=-1)
        flips = np.cumsum(dots < 0.0, axis=0) % 2
        q[1:] *= np.where(flips == 1, -1.0, 1.0)[..., None]
    return np.moveaxis(q, 0, axis)
