"""GENMO (GEM) output -> motion package.

GENMO's ``smpl_params.pt`` holds ``body_params_global`` (and ``body_params_incam``):
``global_orient`` (L, 3) axis-angle, ``body_pose`` (L, 63) = 21 SMPL-X body joints x 3,
``transl`` (L, 3), ``betas`` (L, 10), in a gravity-aligned Y-up world at 30 fps
(../shared/reference/estimation-and-cloud.md §3.3-3.4); the in-camera set is in OpenCV camera
coordinates (Y down, Z forward). Files are read by ``estimators.genmo_files`` (``.pt``, ``.npz``,
``.npy``; never executing anything), shapes checked by ``estimators.genmo_arrays``. The arrays
sit under the set's name as a nested dict, under prefixed keys (``body_params_global.body_pose``
or ``body_params_global/body_pose``), or at the top level (a file holding one set).
"""

from __future__ import annotations

import enum
import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pydantic

from estimators.errors import GenmoErrorCode, GenmoImportError
from estimators.genmo_arrays import genmo_arrays
from estimators.genmo_files import read_genmo_file
from estimators.package.config import PackageConfig
from estimators.package.meta import (
    AxisConvention,
    BodyModel,
    BodyMotion,
    CameraView,
    HandsFormat,
    HandStates,
    MotionPackage,
    PackageMeta,
    PackageSource,
    RotationFormat,
    WilorHands,
)
from estimators.rotations import axis_angle_to_matrix, matrix_to_axis_angle, rot_x

GENMO_FPS = 30.0
GENMO_KEYS = ("global_orient", "body_pose", "transl", "betas")
Code = GenmoErrorCode


class ParamSet(str, enum.Enum):
    """Which of GENMO's parameter sets to import."""

    GLOBAL = "global"
    """``body_params_global``: gravity-aligned, Y up (the default)."""
    INCAM = "incam"
    """``body_params_incam``: OpenCV camera frame; turned Y-up by a 180° turn about X, which
    assumes a level camera."""

    @property
    def group(self) -> str:
        return f"body_params_{self.value}"


@dataclass(frozen=True)
class GenmoSource:
    """A GENMO file as read: the chosen set's raw arrays and the file's identity."""

    params: dict[str, Any]
    sha256_hex: str
    name: str
    """The file name (for messages and the derived package id)."""
    param_set: ParamSet = ParamSet.GLOBAL


def genmo_params_from_mapping(
    data: Mapping[str, Any], source: str, param_set: ParamSet = ParamSet.GLOBAL
) -> dict[str, Any]:
    """Pick one parameter set's arrays out of a loaded GENMO result (nested, prefixed or flat)."""
    group_name = param_set.group
    group = data.get(group_name)
    if isinstance(group, Mapping):
        return {k: group[k] for k in GENMO_KEYS if k in group}
    out: dict[str, Any] = {}
    for key in GENMO_KEYS:
        for name in (f"{group_name}.{key}", f"{group_name}/{key}", key):
            if name in data:
                out[key] = data[name]
                break
    if not out:
        other = ParamSet.INCAM if param_set is ParamSet.GLOBAL else ParamSet.GLOBAL
        has_other = any(str(k).startswith(other.group) for k in data)
        extra = f" ({other.group} is there: --params {other.value})" if has_other else ""
        raise GenmoImportError(
            Code.MISSING_ARRAY,
            source,
            f"no {group_name} arrays{extra} (keys: {', '.join(sorted(data)[:8]) or 'none'})",
        )
    return out


def load_genmo_file(path: Path, *, param_set: ParamSet = ParamSet.GLOBAL) -> GenmoSource:
    """Read a GENMO result (``.pt``, ``.npz`` or ``.npy``) and pick ``param_set``'s arrays.

    Raises:
        GenmoImportError: unreadable, unsafe or damaged file, or no such parameter set.
        OptionalDependencyError: a ``.pt`` file without torch.
    """
    top, data = read_genmo_file(path)
    name = path.name or str(path)
    params = genmo_params_from_mapping(top, name, param_set)
    return GenmoSource(params, hashlib.sha256(data).hexdigest(), name, param_set)


def derive_package_id(file_name: str, sha256_hex: str) -> str:
    """``<file stem>-<first 10 hex of the file's SHA-256>``, within the package id alphabet."""
    stem = Path(file_name).stem if file_name else ""
    clean = re.sub(r"[^A-Za-z0-9._:-]+", "-", stem).strip(".-:") or "genmo"
    return f"{clean[:100]}-{sha256_hex[:10]}"


def check_fps(fps: float, source: str, config: PackageConfig | None = None) -> None:
    """``fps`` must be a number inside the package limits (``BAD_FPS`` naming it otherwise)."""
    cfg = config or PackageConfig()
    if not (math.isfinite(fps) and cfg.min_fps <= fps <= cfg.max_fps):
        raise GenmoImportError(
            Code.BAD_FPS,
            source,
            f"fps {fps:g} must lie in {cfg.min_fps:g}..{cfg.max_fps:g} (GENMO writes 30)",
        )


def genmo_to_package(
    params: Mapping[str, Any],
    *,
    package_id: str,
    task_instruction: str,
    camera_view: CameraView = CameraView.FRONT,
    fps: float = GENMO_FPS,
    hands: WilorHands | HandStates | None = None,
    created_at: datetime | None = None,
    source: str = "genmo",
    param_set: ParamSet = ParamSet.GLOBAL,
) -> MotionPackage:
    """Build a motion package from one GENMO parameter set.

    Args:
        params: ``global_orient``, ``body_pose``, ``transl``, optional ``betas`` (shapes in
            ``estimators.genmo_arrays``; checked exactly).
        package_id, task_instruction: metadata.
        camera_view: how the source video saw the person.
        fps: GENMO's rate (30 unless the caller resampled).
        hands: WiLoR output or hand states synchronised by frame index, or None.
        created_at: timestamp (now, UTC, by default).
        source: a label for error messages (the file name).
        param_set: which set ``params`` is (in-camera parameters are turned Y-up).

    Raises:
        GenmoImportError: with a stable code for every way the arrays or metadata are wrong.
    """
    check_fps(fps, source)
    arrays = genmo_arrays(params, source)
    n = arrays.n_frames
    orient, transl = arrays.global_orient, arrays.transl
    if param_set is ParamSet.INCAM:
        flip = rot_x(math.pi)  # OpenCV camera (Y down, Z forward) -> Y up
        orient = matrix_to_axis_angle(flip @ axis_angle_to_matrix(orient)).astype(np.float32)
        transl = (transl.astype(np.float64) @ flip.T).astype(np.float32)
    try:
        meta = _genmo_meta(package_id, task_instruction, created_at, fps, n, camera_view, hands)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "metadata"
        raise GenmoImportError(
            Code.BAD_METADATA, source, f"{field}: {first.get('msg', 'invalid')}"
        ) from None
    body = BodyMotion(
        global_orient=orient, body_pose=arrays.body_pose, transl=transl, betas=arrays.betas
    )
    return MotionPackage(meta=meta, body=body, hands=hands)


def _genmo_meta(
    package_id: str,
    task_instruction: str,
    created_at: datetime | None,
    fps: float,
    n: int,
    camera_view: CameraView,
    hands: WilorHands | HandStates | None,
) -> PackageMeta:
    hands_format = (
        HandsFormat.WILOR
        if isinstance(hands, WilorHands)
        else HandsFormat.STATES
        if isinstance(hands, HandStates)
        else HandsFormat.NONE
    )
    return PackageMeta(
        package_id=package_id,
        task_instruction=task_instruction,
        created_at=created_at or datetime.now(timezone.utc),
        source=PackageSource.GENMO,
        fps=fps,
        n_frames=n,
        axis_convention=AxisConvention.SMPL_Y_UP,
        skeleton_id="smplx-neutral",
        camera_view=camera_view,
        body_model=BodyModel.SMPLX,
        rotation_format=RotationFormat.AXIS_ANGLE,
        hands_format=hands_format,
        producer="exoactor-edge genmo import",
    )
