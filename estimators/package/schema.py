"""Which arrays a v1 package carries, with their wire dtypes and shapes (given its metadata).

Shapes are patterns: an ``int`` must match exactly, a tuple lists allowed values. The wire dtype
strings are numpy's (``"<f4"`` little-endian float32, ``"|u1"`` uint8, ``"|i1"`` int8) and are
compared as strings: the decoder never asks numpy to interpret a dtype it was sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.embodiment.g1 import NUM_BODY_JOINTS
from estimators.package.meta import HandsFormat, PackageMeta, RotationFormat

DimPattern = int | tuple[int, ...] | range

F32 = "<f4"
U8 = "|u1"
I8 = "|i1"

MAX_BETAS = 300
"""SMPL-X has up to 300 shape coefficients; GENMO writes 10."""


@dataclass(frozen=True)
class ArraySpec:
    """One array's wire dtype, shape pattern and whether it must be present."""

    dtype: str
    shape: tuple[DimPattern, ...]
    required: bool = True

    def matches(self, shape: tuple[int, ...]) -> bool:
        if len(shape) != len(self.shape):
            return False
        for dim, pattern in zip(shape, self.shape, strict=True):
            allowed = (pattern,) if isinstance(pattern, int) else pattern
            if dim not in allowed:
                return False
        return True

    def describe(self) -> str:
        def one(p: DimPattern) -> str:
            if isinstance(p, range):
                return f"{p.start}..{p.stop - 1}"
            return str(p) if isinstance(p, int) else "|".join(str(v) for v in p)

        return "(" + ", ".join(one(p) for p in self.shape) + ")"


def _rot(lead: tuple[DimPattern, ...], fmt: RotationFormat) -> tuple[DimPattern, ...]:
    return lead + ((3,) if fmt is RotationFormat.AXIS_ANGLE else (3, 3))


def expected_arrays(meta: PackageMeta) -> dict[str, ArraySpec]:
    """Array specs for a package with this metadata (name -> spec)."""
    t = meta.n_frames
    fmt = meta.rotation_format
    specs = {
        "global_orient": ArraySpec(F32, _rot((t,), fmt)),
        "body_pose": ArraySpec(F32, _rot((t, (21, 23)), fmt)),
        "transl": ArraySpec(F32, (t, 3)),
        "betas": ArraySpec(F32, (range(1, MAX_BETAS + 1),), required=False),
        "g1_q_ref": ArraySpec(F32, (t, NUM_BODY_JOINTS), required=False),
    }
    if meta.hands_format is HandsFormat.WILOR:
        specs["hand_pose"] = ArraySpec(F32, _rot((t, 2, 15), fmt))
        specs["hand_keypoints"] = ArraySpec(F32, (t, 2, 21, 3))
        specs["hand_confidence"] = ArraySpec(F32, (t, 2))
        specs["hand_valid"] = ArraySpec(U8, (t, 2))
    elif meta.hands_format is HandsFormat.STATES:
        specs["hand_state"] = ArraySpec(I8, (t, 2))
    return specs


ALL_ARRAY_NAMES = frozenset(
    {"global_orient", "body_pose", "transl", "betas", "g1_q_ref", "hand_pose", "hand_keypoints",
     "hand_confidence", "hand_valid", "hand_state"}
)  # fmt: skip
"""Every array name v1 knows; a name outside this set is ``UNKNOWN_FIELD``."""
