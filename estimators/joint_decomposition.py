"""Split rotations into angles about given joint axes (the analytic core of the G1 mapping).

``decompose_three_axes`` solves ``R = Rot(n1, a) Rot(n2, b) Rot(n3, c)`` for axes that need not
be the coordinate axes, as long as ``n1 ⊥ n2`` and ``n2 ⊥ n3`` (Davenport angles; Shuster &
Markley, "Generalization of Euler angles", J. Astronautical Sciences 51(2), 2003). This covers
the G1's hip and shoulder, whose first or second axis is tilted by a fixed link rotation in the
MJCF. ``hinge_angle`` gives the best single angle about one axis for 1-DoF joints.
All functions are vectorised over the leading frame dimension.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]


def _wrap(angle: F64) -> F64:
    return (angle + np.pi) % (2.0 * np.pi) - np.pi


def cross3(a: F64, b: F64) -> F64:
    """``np.cross`` for (..., 3) arrays without its axis bookkeeping, which dominates the small
    batches a stream maps (a few frames per message)."""
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    np.subtract(a1 * b2, a2 * b1, out=out[..., 0])
    np.subtract(a2 * b0, a0 * b2, out=out[..., 1])
    np.subtract(a0 * b1, a1 * b0, out=out[..., 2])
    return out


def _dot(a: F64, b: F64) -> F64:
    """Row-wise dot product over the last axis (broadcasting)."""
    out: F64 = np.einsum("...i,...i->...", a, b)
    return out


def _unit_perpendicular(axis: F64) -> F64:
    trial = np.array([1.0, 0.0, 0.0]) if abs(axis[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    u = trial - axis * float(axis @ trial)
    return np.asarray(u / np.linalg.norm(u), dtype=np.float64)


def hinge_angle(rot: npt.ArrayLike, axis: npt.ArrayLike, reference: npt.ArrayLike) -> F64:
    """Angle about ``axis`` that best turns ``reference`` toward ``rot @ reference``.

    The child's ``reference`` direction (e.g. the forearm) is projected onto the plane normal to
    the hinge ``axis``; the angle is where the projection points. Components of ``rot`` about other
    axes are left for the caller to pass on (e.g. elbow twist goes to the wrist).

    Args:
        rot: ``(T, 3, 3)`` relative rotation of the child link.
        axis: ``(3,)`` unit hinge axis (in the parent frame).
        reference: ``(3,)`` unit vector perpendicular to ``axis``.

    Returns:
        ``(T,)`` angles in ``(-pi, pi]`` (rad).
    """
    r = np.asarray(rot, dtype=np.float64)
    a = np.asarray(axis, dtype=np.float64)
    u = np.asarray(reference, dtype=np.float64)
    moved = r @ u
    return np.arctan2(cross3(u, moved) @ a, moved @ u)


def _angle_about(axis: F64, start: F64, end: F64) -> F64:
    """Rotation angle about ``axis`` taking the projection of ``start`` to that of ``end``."""
    along_start = _dot(start, axis)
    along_end = _dot(end, axis)
    sin_term = _dot(cross3(start, end), axis)
    cos_term = _dot(start, end) - along_start * along_end
    return np.asarray(np.arctan2(sin_term, cos_term), dtype=np.float64)


def decompose_three_axes(
    rot: npt.ArrayLike,
    axes: tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike],
    lower: npt.ArrayLike,
    upper: npt.ArrayLike,
) -> F64:
    """Angles ``(a, b, c)`` with ``rot = Rot(n1, a) @ Rot(n2, b) @ Rot(n3, c)``.

    Two solutions exist away from gimbal lock; the one that violates ``[lower, upper]`` least
    is returned, ties going to the smaller total angle. Angles are not clamped here.

    Args:
        rot: ``(T, 3, 3)`` rotations.
        axes: three unit vectors ``(3,)`` with ``n1 ⊥ n2`` and ``n2 ⊥ n3``.
        lower, upper: ``(3,)`` joint limits used to choose between the two solutions (rad).

    Returns:
        ``(T, 3)`` angles in ``(-pi, pi]`` (rad).
    """
    r = np.asarray(rot, dtype=np.float64)
    stacked = np.stack([np.asarray(a, dtype=np.float64) for a in axes])
    lo = np.asarray(lower, dtype=np.float64)
    hi = np.asarray(upper, dtype=np.float64)
    angles: F64 = decompose_many(r[None], stacked[None], lo[None], hi[None])[0]
    return angles


def decompose_many(rot: F64, axes: F64, lower: F64, upper: F64) -> F64:
    """``decompose_three_axes`` for K joint groups at once, each with its own axes and limits.

    One pass over all groups costs about what one group costs alone: the work is a fixed number
    of array operations, so mapping a few frames is dominated by their count, not their size.

    Args:
        rot: ``(K, T, 3, 3)`` rotations of each group.
        axes: ``(K, 3, 3)``: row ``i`` of group ``k`` is its unit axis ``n_{i+1}``.
        lower, upper: ``(K, 3)`` joint limits used to choose between the two solutions (rad).

    Returns:
        ``(K, T, 3)`` angles in ``(-pi, pi]`` (rad).
    """
    n1, n2, n3 = axes[:, None, 0], axes[:, None, 1], axes[:, None, 2]  # (K, 1, 3) each
    if np.any(np.abs(_dot(n1, n2)) > 1e-6) or np.any(np.abs(_dot(n2, n3)) > 1e-6):
        raise ValueError("decompose_three_axes needs n1 ⊥ n2 and n2 ⊥ n3")
    n2_x_n3 = cross3(n2, n3)
    lam = np.arctan2(_dot(n1, n2_x_n3), _dot(n1, n3))  # (K, 1)
    target = (rot @ n3[..., None])[..., 0]  # (K, T, 3): where n3 ends up
    spread = np.arccos(np.clip(_dot(target, n1), -1.0, 1.0))
    u3 = np.stack([_unit_perpendicular(axis) for axis in axes[:, 2]])[:, None]  # (K, 1, 3)
    moved_u3 = (rot @ u3[..., None])[..., 0]
    lo, hi = lower[:, None], upper[:, None]
    frame = (n1, n2, n3, n2_x_n3)
    first, cost_first = _branch(frame, lam + spread, target, u3, moved_u3, lo, hi)
    second, cost_second = _branch(frame, lam - spread, target, u3, moved_u3, lo, hi)
    return np.where((cost_second < cost_first)[..., None], second, first)


def _rotate(axis: F64, angle: F64, v: F64) -> F64:
    """Rodrigues on vectors: ``Rot(axis, angle) @ v`` for ``(..., T)`` angles and ``v``."""
    c = np.cos(angle)[..., None]
    s = np.sin(angle)[..., None]
    along = _dot(v, axis)[..., None]
    return v * c + cross3(axis, v) * s + axis * (along * (1.0 - c))


def _branch(
    frame: tuple[F64, F64, F64, F64],
    middle: F64,
    target: F64,
    u3: F64,
    moved_u3: F64,
    lo: F64,
    hi: F64,
) -> tuple[F64, F64]:
    """One of the two solutions for a given middle angle, and its cost (limit violation).

    Works on vectors only: ``v = Rot(n2, b) n3`` fixes ``a``; ``Rot(n2, -b) Rot(n1, -a) R u3 =
    Rot(n3, c) u3`` fixes ``c``.
    """
    n1, n2, n3, n2_x_n3 = frame
    b = _wrap(middle)
    v = np.cos(b)[..., None] * n3 + np.sin(b)[..., None] * n2_x_n3
    a = _angle_about(n1, v, target)
    residual_u3 = _rotate(n2, -b, _rotate(n1, -a, moved_u3))
    c = _angle_about(n3, np.broadcast_to(u3, v.shape), residual_u3)
    angles = np.stack([a, b, c], axis=-1)
    violation = np.sum(np.maximum(lo - angles, 0.0) + np.maximum(angles - hi, 0.0), axis=-1)
    # Within the limits first, then the smaller total rotation (the natural posture).
    return angles, 10.0 * violation + np.sum(np.abs(angles), axis=-1)


# Tait-Bryan sequences in closed form: (row, column) of sin(middle), the (numerator, denominator)
# elements of the first and third angles, and their signs. For R = Rot(A, a) Rot(B, b)
# Rot(C, c) about coordinate axes: sin b, tan a and tan c are ratios of fixed elements.
_EULER: dict[str, tuple[tuple[int, int], float, tuple[int, int, int, int], float,
                        tuple[int, int, int, int], float]] = {
    # Ry(a) Rx(b) Rz(c): M12 = -sin b; a = atan2(M02, M22); c = atan2(M10, M11).
    "YXZ": ((1, 2), -1.0, (0, 2, 2, 2), 1.0, (1, 0, 1, 1), 1.0),
    # Rz(a) Rx(b) Ry(c): M21 = sin b; a = atan2(-M01, M11); c = atan2(-M20, M22).
    "ZXY": ((2, 1), 1.0, (0, 1, 1, 1), -1.0, (2, 0, 2, 2), -1.0),
    # Rx(a) Ry(b) Rz(c): M02 = sin b; a = atan2(-M12, M22); c = atan2(-M01, M00).
    "XYZ": ((0, 2), 1.0, (1, 2, 2, 2), -1.0, (0, 1, 0, 0), -1.0),
}  # fmt: skip


def euler_candidates(rot: F64, sequence: str) -> tuple[F64, F64]:
    """Both Tait-Bryan solutions ``(..., 3)`` of ``rot`` (..., 3, 3) for ``sequence`` ("YXZ",
    "ZXY" or "XYZ": rotations about those coordinate axes, left to right).

    The first has the middle angle in [-pi/2, pi/2]; the second is ``(a + pi, pi - b, c + pi)``,
    wrapped. A few element reads per frame instead of ``decompose_many``'s vector algebra: the
    fast path for joint groups whose axes are coordinate axes up to a fixed rotation.
    """
    (mi, mj), m_sign, (ai, aj, ak, al), a_sign, (ci, cj, ck, cl), c_sign = _EULER[sequence]
    middle = np.arcsin(np.clip(m_sign * rot[..., mi, mj], -1.0, 1.0))
    first = np.arctan2(a_sign * rot[..., ai, aj], rot[..., ak, al])
    third = np.arctan2(c_sign * rot[..., ci, cj], rot[..., ck, cl])
    one = np.stack([first, middle, third], axis=-1)
    other = _wrap(one + np.array([np.pi, 0.0, np.pi]))
    other[..., 1] = _wrap(np.pi - middle)
    return one, other


def choose_branch(one: F64, other: F64, lower: F64, upper: F64) -> F64:
    """The solution that violates ``[lower, upper]`` least, ties to the smaller total angle
    (``decompose_many``'s rule). Shapes ``(..., 3)`` with limits broadcasting against them."""
    costs = []
    for angles in (one, other):
        violation = np.sum(np.maximum(lower - angles, 0.0) + np.maximum(angles - upper, 0.0), -1)
        costs.append(10.0 * violation + np.sum(np.abs(angles), axis=-1))
    chosen: F64 = np.where((costs[1] < costs[0])[..., None], other, one)
    return chosen


def decompose_tilted(
    rot: F64,
    sequence: str,
    pre: F64,
    post: F64,
    offset: F64,
    lower: F64,
    upper: F64,
    sign: F64 | None = None,
) -> F64:
    """``decompose_many`` for K groups whose axes are coordinate axes up to fixed rotations.

    A group's joint chain satisfies ``pre @ R @ post = Tait-Bryan(sequence)(e)`` with joint
    angles ``sign * e + offset`` (e.g. a hip whose roll and yaw axes are tilted about its pitch
    axis, or another axis order written as this one in rotated axes). Both solutions come in
    closed form; the one inside ``[lower, upper]`` wins as in ``decompose_many``.

    Args:
        rot: ``(K, T, 3, 3)`` rotations.
        sequence: "YXZ", "ZXY" or "XYZ".
        pre, post: ``(K, 3, 3)`` fixed rotations.
        offset: ``(K, 3)`` added to the decomposed angles.
        lower, upper: ``(K, 3)`` joint limits.
        sign: ``(K, 3)`` of ±1 (default all +1).

    Returns:
        ``(K, T, 3)`` angles in ``(-pi, pi]``.
    """
    matrices = pre[:, None] @ rot @ post[:, None]
    one, other = euler_candidates(matrices, sequence)
    if sign is not None:
        one, other = one * sign[:, None], other * sign[:, None]
    one = _wrap(one + offset[:, None])
    other = _wrap(other + offset[:, None])
    return choose_branch(one, other, lower[:, None], upper[:, None])
