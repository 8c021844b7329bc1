"""Quaternion and rotation helpers for SONIC's observations.

Conventions: quaternions ``wxyz``, Hamilton product, active rotations; a rotation matrix ``R``
of a body maps body-frame vectors to the world (``v_w = R v_b``). World Z is up. Yaw is the
rotation about world Z, the heading SONIC aligns at track start. The 6-D orientation SONIC feeds
its encoder is the first two columns of ``R``, flattened row-major: ``[R00, R01, R10, R11, R20,
R21]``.

The ``write_*`` functions are for the 50 Hz tick: scalar arithmetic written into a caller's
(3, 3) buffer, no arrays allocated. The vectorised ones are for set-up and for the reference
(naive) observation builder.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]


def quat_mul(a: F64, b: F64) -> F64:
    """Hamilton product ``a * b`` of (..., 4) wxyz quaternions."""
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


def quat_conj(q: F64) -> F64:
    conjugate: F64 = q * np.array([1.0, -1.0, -1.0, -1.0])
    return conjugate


def quat_rotate(q: F64, v: F64) -> F64:
    """Rotate 3-vector(s) ``v`` by unit quaternion(s) ``q``."""
    v_quat = np.concatenate([np.zeros((*v.shape[:-1], 1)), v], axis=-1)
    return quat_mul(quat_mul(q, v_quat), quat_conj(q))[..., 1:]


def quat_to_matrix(q: F64) -> F64:
    """(..., 4) wxyz -> (..., 3, 3); tolerates non-unit quaternions (normalises)."""
    w, x, y, z = np.moveaxis(q, -1, 0)
    s = 2.0 / (w * w + x * x + y * y + z * z)
    return np.stack(
        [
            np.stack([1 - s * (y * y + z * z), s * (x * y - w * z), s * (x * z + w * y)], -1),
            np.stack([s * (x * y + w * z), 1 - s * (x * x + z * z), s * (y * z - w * x)], -1),
            np.stack([s * (x * z - w * y), s * (y * z + w * x), 1 - s * (x * x + y * y)], -1),
        ],
        axis=-2,
    )


def yaw_of(q: F64) -> F64:
    """Heading angle (rad) about world Z of (..., 4) wxyz quaternions."""
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.asarray(np.arctan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z)))


def yaw_quat(yaw: float | F64) -> F64:
    """Quaternion(s) of a pure rotation by ``yaw`` about Z."""
    half = 0.5 * np.asarray(yaw, dtype=np.float64)
    zeros = np.zeros_like(half)
    return np.stack([np.cos(half), zeros, zeros, np.sin(half)], axis=-1)


def matrix_to_6d(rotation: F64) -> F64:
    """(..., 3, 3) -> (..., 6): first two columns, row-major."""
    return rotation[..., :, :2].reshape((*rotation.shape[:-2], 6))


def write_matrix(q_wxyz: F64, out: F64) -> None:
    """``out[:] = quat_to_matrix(q_wxyz)`` with scalar arithmetic (tick-safe)."""
    w, x, y, z = q_wxyz.item(0), q_wxyz.item(1), q_wxyz.item(2), q_wxyz.item(3)
    norm2 = w * w + x * x + y * y + z * z
    s = 2.0 / norm2 if norm2 > 0.0 else math.nan  # a zero quaternion must poison, not pass
    out[0, 0] = 1.0 - s * (y * y + z * z)
    out[0, 1] = s * (x * y - w * z)
    out[0, 2] = s * (x * z + w * y)
    out[1, 0] = s * (x * y + w * z)
    out[1, 1] = 1.0 - s * (x * x + z * z)
    out[1, 2] = s * (y * z - w * x)
    out[2, 0] = s * (x * z - w * y)
    out[2, 1] = s * (y * z + w * x)
    out[2, 2] = 1.0 - s * (x * x + y * y)


def write_yaw_matrix(rotation: F64, out: F64) -> None:
    """``out[:]`` = rotation about Z by the heading of ``rotation`` (a body-to-world matrix)."""
    yaw = math.atan2(rotation.item(1, 0), rotation.item(0, 0))
    c, s = math.cos(yaw), math.sin(yaw)
    out[0, 0], out[0, 1], out[0, 2] = c, -s, 0.0
    out[1, 0], out[1, 1], out[1, 2] = s, c, 0.0
    out[2, 0], out[2, 1], out[2, 2] = 0.0, 0.0, 1.0
