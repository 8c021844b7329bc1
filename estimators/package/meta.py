"""Motion package v1 metadata (pydantic) and the in-memory package types.

A package is what the estimation side (GENMO + WiLoR, or a procedural generator) hands to the
robot: body motion at the package's own fps, optional hands, optional G1 joint references.
Array conventions (T = ``n_frames``):

- ``global_orient`` ``(T, 3)`` axis-angle or ``(T, 3, 3)``; ``body_pose`` ``(T, J, 3)`` or
  ``(T, J, 3, 3)`` with ``J`` 21 (SMPL-X/GENMO) or 23 (SMPL); ``transl`` ``(T, 3)`` metres, in the
  world named by ``axis_convention``; ``betas`` ``(B,)`` optional. Rotations follow
  ``rotation_format``.
- Hands, row 0 the body's left hand, row 1 its right (handedness already resolved; see
  ``estimators.hands.handedness``): WiLoR ``hand_pose`` ``(T, 2, 15, 3)`` / ``(T, 2, 15, 3, 3)``,
  ``hand_keypoints`` ``(T, 2, 21, 3)``, ``hand_confidence`` ``(T, 2)`` in [0, 1],
  ``hand_valid`` ``(T, 2)`` 0/1; or ``hand_state`` ``(T, 2)`` ``HandState`` codes.
- ``g1_q_ref`` ``(T, 29)`` G1 joint references, hardware order, rad, optional.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

FORMAT_MARKER = "exoactor-motion-package"
FORMAT_VERSION = 1

FArray = npt.NDArray[np.float32]


class PackageSource(str, enum.Enum):
    """Who produced the motion."""

    EXOACTOR_CLOUD = "exoactor_cloud"
    GENMO = "genmo"
    PROCEDURAL = "procedural"
    OTHER = "other"


class AxisConvention(str, enum.Enum):
    """The world frame of ``global_orient`` and ``transl``."""

    SMPL_Y_UP = "smpl_y_up"
    """SMPL / GENMO gravity-aligned world: +Y up."""
    Z_UP = "z_up"
    """MuJoCo / SONIC world: +Z up (the body model's own frame is still SMPL's)."""


class CameraView(str, enum.Enum):
    """Whether the source video saw the person from the front or the back."""

    FRONT = "front"
    BACK = "back"


class BodyModel(str, enum.Enum):
    SMPL = "smpl"
    SMPLX = "smplx"


class RotationFormat(str, enum.Enum):
    AXIS_ANGLE = "axis_angle"
    ROTMAT = "rotmat"


class HandsFormat(str, enum.Enum):
    NONE = "none"
    WILOR = "wilor"
    STATES = "states"


class PackageMeta(BaseModel):
    """Versioned metadata, validated with pydantic on both ends."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)

    package_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:\-]+$")
    task_instruction: str = Field(max_length=4000)
    created_at: AwareDatetime
    source: PackageSource
    fps: float = Field(gt=0.0, allow_inf_nan=False)
    """Frames per second of every array (the range check is in ``PackageConfig``)."""
    n_frames: int = Field(ge=1)
    axis_convention: AxisConvention
    skeleton_id: str = Field(min_length=1, max_length=128)
    camera_view: CameraView
    body_model: BodyModel
    rotation_format: RotationFormat
    hands_format: HandsFormat
    producer: str = Field(default="", max_length=200)
    """Free text: software and version that wrote the package."""

    @property
    def duration_s(self) -> float:
        """Time from the first to the last frame (s)."""
        return (self.n_frames - 1) / self.fps


@dataclass(frozen=True)
class BodyMotion:
    """SMPL / SMPL-X body parameters per frame (float32, shapes in the module docstring)."""

    global_orient: FArray
    body_pose: FArray
    transl: FArray
    betas: FArray | None = None


@dataclass(frozen=True)
class WilorHands:
    """Per-frame WiLoR output for both hands (row 0 left, row 1 right)."""

    hand_pose: FArray
    keypoints: FArray
    confidence: FArray
    valid: npt.NDArray[np.uint8]


@dataclass(frozen=True)
class HandStates:
    """Per-frame discrete hand states (``HandState`` codes), row 0 left, row 1 right."""

    states: npt.NDArray[np.int8]


@dataclass(frozen=True)
class MotionPackage:
    """A decoded (or about-to-be-encoded) motion package."""

    meta: PackageMeta
    body: BodyMotion
    hands: WilorHands | HandStates | None = None
    g1_q_ref: FArray | None = None


@dataclass(frozen=True)
class DecodedPackage:
    """A package that passed decoding and validation, with what the wire said about it."""

    package: MotionPackage
    sha256_hex: str
    wire_bytes: int
    signed_by: str | None
    """Key id whose Ed25519 signature verified, or None for an unsigned package."""
