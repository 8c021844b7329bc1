"""GENMO (GEM) output -> motion package.

GENMO's ``smpl_params.pt`` holds ``body_params_global``: ``global_orient`` (L, 3) axis-angle,
``body_pose`` (L, 63) = 21 SMPL-X body joints x 3, ``transl`` (L, 3), ``betas`` (L, 10), in a
gravity-aligned Y-up world at 30 fps (../shared/reference/estimation-and-cloud.md §3.3-3.4).
``.pt`` files are read with ``torch`` (optional); ``.npz`` files with numpy, either with those
keys at the top level or prefixed ``body_params_global.`` / ``body_params_global/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pydantic

from estimators.errors import GenmoImportError, OptionalDependencyError
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

GENMO_FPS = 30.0
GENMO_KEYS = ("global_orient", "body_pose", "transl", "betas")
_GROUP = "body_params_global"


def _to_numpy(value: Any, source: str, key: str) -> npt.NDArray[np.float32]:
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise GenmoImportError(source, f"{key} is not numeric: {exc}") from None


def genmo_params_from_mapping(data: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Pick the ``body_params_global`` arrays out of a loaded GENMO result (nested or flat)."""
    group = data.get(_GROUP)
    if isinstance(group, Mapping):
        return {k: group[k] for k in GENMO_KEYS if k in group}
    out: dict[str, Any] = {}
    for key in GENMO_KEYS:
        for name in (key, f"{_GROUP}.{key}", f"{_GROUP}/{key}"):
            if name in data:
                out[key] = data[name]
                break
    if not out:
        raise GenmoImportError(source, f"no {_GROUP} arrays found (keys: {sorted(data)[:10]})")
    return out


def load_genmo_file(path: Path) -> dict[str, Any]:
    """Read GENMO output from ``.pt`` (needs torch) or ``.npz``; returns the raw parameter map."""
    source = str(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as npz:
                return genmo_params_from_mapping({k: npz[k] for k in npz.files}, source)
        if suffix in (".pt", ".pth"):
            try:
                import torch  # type: ignore[import-not-found,unused-ignore]
            except ImportError as exc:
                raise OptionalDependencyError("torch", "reading GENMO .pt files") from exc
            data = torch.load(path, map_location="cpu", weights_only=True)
            if not isinstance(data, Mapping):
                raise GenmoImportError(source, "the .pt file does not hold a dict")
            return genmo_params_from_mapping(data, source)
    except OSError as exc:
        raise GenmoImportError(source, f"cannot read: {exc}") from None
    except ValueError as exc:
        raise GenmoImportError(source, f"cannot parse: {exc}") from None
    raise GenmoImportError(source, "expected a .pt or .npz file")


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
) -> MotionPackage:
    """Build a motion package from GENMO ``body_params_global`` arrays.

    Args:
        params: ``global_orient`` (L, 3), ``body_pose`` (L, 63) or (L, 21, 3), ``transl``
            (L, 3), optional ``betas`` (L, B) or (B,) (averaged over frames).
        package_id, task_instruction: metadata.
        camera_view: how the source video saw the person.
        fps: GENMO's rate (30 unless the caller resampled).
        hands: WiLoR output or hand states synchronised by frame index, or None.
        created_at: timestamp (now, UTC, by default).
        source: a label for error messages.

    Raises:
        GenmoImportError: missing keys or inconsistent frame counts.
    """
    for key in ("global_orient", "body_pose", "transl"):
        if key not in params:
            raise GenmoImportError(source, f"missing {key}")
    orient = _to_numpy(params["global_orient"], source, "global_orient").reshape(-1, 3)
    n = orient.shape[0]
    pose = _to_numpy(params["body_pose"], source, "body_pose")
    if pose.size != n * 63:
        raise GenmoImportError(source, f"body_pose has {pose.size} values, want {n} x 63")
    transl = _to_numpy(params["transl"], source, "transl")
    if transl.shape != (n, 3):
        raise GenmoImportError(source, f"transl shape {transl.shape}, want ({n}, 3)")
    betas = None
    if "betas" in params:
        raw = _to_numpy(params["betas"], source, "betas")
        betas = raw.reshape(-1, raw.shape[-1]).mean(axis=0) if raw.ndim > 1 else raw
    try:
        meta = _genmo_meta(package_id, task_instruction, created_at, fps, n, camera_view, hands)
    except pydantic.ValidationError as exc:
        raise GenmoImportError(source, f"bad metadata: {exc.errors()[0].get('msg')}") from None
    body = BodyMotion(
        global_orient=orient, body_pose=pose.reshape(n, 21, 3), transl=transl, betas=betas
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
