"""GENMO's body parameters checked against the exact shapes GENMO writes, with the likely
mistake named when they do not match.

Accepted (L frames, L >= 1, frames first):

- ``body_pose``: ``(L, 63)`` or ``(L, 21, 3)`` axis-angle, or ``(L, 21, 3, 3)`` rotation
  matrices (converted to axis-angle); the 21 SMPL-X body joints 1..21;
- ``global_orient``: ``(L, 3)`` axis-angle or ``(L, 3, 3)`` matrices (converted);
- ``transl``: ``(L, 3)`` metres;
- ``betas`` (optional): ``(L, B)``, ``(1, B)`` or ``(B,)`` (averaged over frames).

Anything else is refused, never reshaped: a transposed ``(63, L)`` body pose holds the same
number of values and would silently become a wrong motion. The frame count comes from
``body_pose``; another array with a different count is named together with both counts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from estimators.errors import GenmoErrorCode, GenmoImportError
from estimators.rotations import matrix_to_axis_angle

F32 = npt.NDArray[np.float32]
Code = GenmoErrorCode

NUM_BODY_JOINTS = 21
ROTATION_TOLERANCE = 1e-3
"""Largest ``|RᵀR - I|`` entry or ``|det R - 1|`` accepted for a rotation matrix."""
MAX_ROTVEC_NORM = 2.0 * math.pi + 1e-3


@dataclass(frozen=True)
class GenmoArrays:
    """Checked body parameters, float32, axis-angle."""

    global_orient: F32
    """(L, 3)"""
    body_pose: F32
    """(L, 21, 3)"""
    transl: F32
    """(L, 3)"""
    betas: F32 | None
    """(B,) or None"""

    @property
    def n_frames(self) -> int:
        return int(self.body_pose.shape[0])


def genmo_arrays(params: Mapping[str, Any], source: str) -> GenmoArrays:
    """Check and normalise GENMO's ``global_orient``, ``body_pose``, ``transl`` and ``betas``.

    Raises:
        GenmoImportError: missing, non-numeric, misshapen (with the likely mistake), frame
            counts that disagree, an empty sequence, non-finite values, non-rotations.
    """
    missing = [k for k in ("global_orient", "body_pose", "transl") if k not in params]
    if missing:
        present = ", ".join(sorted(params)[:8]) or "nothing"
        raise GenmoImportError(Code.MISSING_ARRAY, source, f"no {missing[0]} (found: {present})")
    pose = _numeric(params["body_pose"], "body_pose", source)
    n = _body_pose_frames(pose, source)
    if n == 0:
        raise GenmoImportError(Code.EMPTY_SEQUENCE, source, "body_pose has 0 frames")
    orient = _numeric(params["global_orient"], "global_orient", source)
    _check_shape("global_orient", orient, ((3,), (3, 3)), n, source)
    transl = _numeric(params["transl"], "transl", source)
    _check_shape("transl", transl, ((3,),), n, source)
    betas = _betas(params.get("betas"), n, source)
    for name, values in (("body_pose", pose), ("global_orient", orient), ("transl", transl)):
        _finite(name, values, source)
    return GenmoArrays(
        global_orient=_axis_angle("global_orient", orient, source).reshape(n, 3),
        body_pose=_axis_angle("body_pose", pose, source).reshape(n, NUM_BODY_JOINTS, 3),
        transl=np.ascontiguousarray(transl, dtype=np.float32),
        betas=betas,
    )


def _numeric(value: Any, name: str, source: str) -> npt.NDArray[Any]:
    array = np.asarray(value) if not isinstance(value, np.ndarray) else value
    if array.dtype.kind not in "fiu":
        raise GenmoImportError(
            Code.NOT_NUMERIC, source, f"{name} is not numeric (dtype {array.dtype})"
        )
    return array


def _body_pose_frames(pose: npt.NDArray[Any], source: str) -> int:
    shape: tuple[int, ...] = tuple(int(d) for d in pose.shape)
    if len(shape) == 2 and shape[1] == 3 * NUM_BODY_JOINTS:
        return shape[0]
    if len(shape) in (3, 4) and shape[1:] in ((NUM_BODY_JOINTS, 3), (NUM_BODY_JOINTS, 3, 3)):
        return shape[0]
    raise GenmoImportError(
        Code.BAD_SHAPE,
        source,
        f"body_pose shape {shape}: {_pose_hint(shape)}; expected (L, 63), (L, 21, 3) or "
        "(L, 21, 3, 3)",
    )


def _pose_hint(shape: tuple[int, ...]) -> str:
    """The likely mistake behind a body-pose shape that is not GENMO's."""
    joints = {
        22: "22 joints: the root (joint 0) belongs in global_orient",
        23: "SMPL's 23 joints: SMPL-X/GENMO has 21 body joints (drop the two hand joints)",
        24: "SMPL's 24 joints: split off the root (global_orient), drop the hand joints",
    }
    kinds = {4: "quaternions", 6: "6D rotations (GENMO's internal encoding)"}  # fmt: skip
    nd = len(shape)
    if nd == 2 and shape[0] == 3 * NUM_BODY_JOINTS:
        return f"looks transposed (frames must come first: ({shape[1]}, 63), use .T)"
    if nd == 2 and shape[1] % 3 == 0 and shape[1] // 3 in joints:
        return joints[shape[1] // 3]
    if nd == 2 and shape[1] in (4 * NUM_BODY_JOINTS, 6 * NUM_BODY_JOINTS):
        return f"looks like {kinds[shape[1] // NUM_BODY_JOINTS]}: convert to axis-angle"
    if nd >= 3 and shape[0] == 1:
        return "has a leading batch dimension of 1 (squeeze it)"
    if nd == 3 and shape[1:] == (3, NUM_BODY_JOINTS):
        return "joint and axis dimensions swapped (want (L, 21, 3))"
    if nd == 3 and shape[:2] in ((NUM_BODY_JOINTS, 3), (3, NUM_BODY_JOINTS)):
        return "frames must come first (want (L, 21, 3))"
    if nd == 3 and shape[1] == NUM_BODY_JOINTS and shape[2] in kinds:
        return f"looks like {kinds[shape[2]]}: convert to axis-angle"
    if nd == 3 and shape[2] == 3 and shape[1] in joints:
        return joints[shape[1]]
    return "not GENMO's per-frame body pose"


def _check_shape(
    name: str,
    values: npt.NDArray[Any],
    tails: tuple[tuple[int, ...], ...],
    n: int,
    source: str,
) -> None:
    shape = tuple(values.shape)
    if len(shape) >= 2 and shape[1:] in tails:
        if shape[0] != n:
            raise GenmoImportError(
                Code.FRAME_MISMATCH,
                source,
                f"{name} has {shape[0]} frames but body_pose has {n} (shape {shape})",
            )
        return
    if len(shape) == 2 and shape == (3, n):
        hint = f"looks transposed (frames must come first: ({n}, 3), use .T)"
    elif len(shape) >= 3 and shape[0] == 1 and shape[1] == n:
        hint = "has a leading batch dimension of 1 (squeeze it)"
    elif len(shape) == 3 and shape[0] == n and shape[1] == 1:
        hint = "has a joint dimension of 1 (squeeze it)"
    elif name == "global_orient" and len(shape) == 2 and shape[1] in (4, 6, 9):
        kind = {4: "quaternions", 6: "6D rotations", 9: "flattened 3x3 matrices"}[shape[1]]
        hint = f"looks like {kind}: want (L, 3) axis-angle or (L, 3, 3) matrices"
    else:
        hint = "not per-frame vectors"
    want = " or ".join(f"(L, {', '.join(map(str, t))})" for t in tails)
    raise GenmoImportError(Code.BAD_SHAPE, source, f"{name} shape {shape}: {hint}; expected {want}")


def _betas(value: Any, n: int, source: str) -> F32 | None:
    if value is None:
        return None
    betas = _numeric(value, "betas", source)
    shape = tuple(betas.shape)
    if len(shape) == 1 and 1 <= shape[0] <= 300:
        out = betas
    elif len(shape) == 2 and shape[0] in (1, n) and 1 <= shape[1] <= 300:
        out = betas.mean(axis=0)
    elif len(shape) == 2 and shape[1] == n and shape[0] <= 300:
        raise GenmoImportError(
            Code.BAD_SHAPE, source, f"betas shape {shape}: looks transposed (want ({n}, B))"
        )
    else:
        raise GenmoImportError(
            Code.BAD_SHAPE, source, f"betas shape {shape}: expected (L, B), (1, B) or (B,)"
        )
    _finite("betas", out, source)
    return np.ascontiguousarray(out, dtype=np.float32)


def _finite(name: str, values: npt.NDArray[Any], source: str) -> None:
    bad = ~np.isfinite(values)
    if np.any(bad):
        frame = int(np.argwhere(bad)[0][0]) if values.ndim > 1 else 0
        raise GenmoImportError(
            Code.NON_FINITE, source, f"{name} holds NaN or infinity (first at frame {frame})"
        )


def _axis_angle(name: str, values: npt.NDArray[Any], source: str) -> F32:
    """Axis-angle as given, or converted from matrices after checking they are rotations."""
    if values.shape[-2:] == (3, 3) and values.ndim in (3, 4):
        r = values.astype(np.float64).reshape(values.shape[0], -1, 3, 3)
        gram = np.einsum("...ki,...kj->...ij", r, r)
        err = np.maximum(
            np.abs(gram - np.eye(3)).max(axis=(-2, -1)), np.abs(np.linalg.det(r) - 1.0)
        ).max(axis=-1)
        if np.any(err > ROTATION_TOLERANCE):
            frame = int(np.argmax(err > ROTATION_TOLERANCE))
            raise GenmoImportError(
                Code.NOT_A_ROTATION,
                source,
                f"{name} frame {frame} is not a rotation matrix (error {err[frame]:.2e})",
            )
        return matrix_to_axis_angle(r).astype(np.float32)
    rotvec = values.astype(np.float32).reshape(values.shape[0], -1, 3)
    norms = np.linalg.norm(rotvec.astype(np.float64), axis=-1).max(axis=-1)
    if np.any(norms > MAX_ROTVEC_NORM):
        frame = int(np.argmax(norms > MAX_ROTVEC_NORM))
        raise GenmoImportError(
            Code.NOT_A_ROTATION,
            source,
            f"{name} frame {frame}: axis-angle of {norms[frame]:.2f} rad is longer than 2π "
            "(degrees instead of radians?)",
        )
    return rotvec
