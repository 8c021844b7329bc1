"""GENMO-like results written by the tests themselves (no real GENMO output exists here).

``genmo_arrays`` builds SMPL-X body parameters in GENMO's layout (``global_orient`` (L, 3),
``body_pose`` (L, 63), ``transl`` (L, 3), ``betas`` (L, 10), 30 fps, Y up) for a person standing
and swinging the arms gently, the same construction as ``estimators.demo_motion``; options make
the arms hang straight (the case where the G1's hands end up in its hips) or add pose jumps.
``write_genmo`` saves them the ways people save GENMO output: ``torch.save`` of the nested dict
(``.pt``), ``np.savez`` with prefixed keys (``.npz``) and ``np.save`` of the dict (``.npy``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from estimators.rotations import axis_rotation, matrix_to_axis_angle
from estimators.smpl import joint

FPS = 30.0
_X = np.array([1.0, 0.0, 0.0])
_Y = np.array([0.0, 1.0, 0.0])
_Z = np.array([0.0, 0.0, 1.0])


def genmo_arrays(
    n: int = 60,
    *,
    arm_abduction_rad: float = 0.5,
    elbow_flex_rad: float = 0.5,
    swing_rad: float = 0.15,
    jump_every_s: float | None = None,
    jump_rad: float = 1.0,
) -> dict[str, np.ndarray]:
    """Smooth standing motion; ``jump_every_s`` toggles the right arm forward by ``jump_rad``
    from one frame to the next every that many seconds (an estimator glitch)."""
    t = np.arange(n) / FPS
    local = np.tile(np.eye(3), (n, 24, 1, 1))
    for side, sign in (("left", 1.0), ("right", -1.0)):
        flex = swing_rad * np.sin(2.0 * math.pi * 0.5 * t) * sign
        if jump_every_s is not None and side == "right":
            flex = flex + jump_rad * (np.floor(t / jump_every_s) % 2)
        hang = axis_rotation(_Z, -sign * (math.pi / 2.0 - arm_abduction_rad))
        local[:, joint(f"{side}_shoulder")] = axis_rotation(_X, -flex) @ hang
        local[:, joint(f"{side}_elbow")] = axis_rotation(_Y, np.full(n, -sign * elbow_flex_rad))
    transl = np.zeros((n, 3))
    transl[:, 1] = 0.95
    return {
        "global_orient": np.zeros((n, 3), dtype=np.float32),
        "body_pose": matrix_to_axis_angle(local[:, 1:22]).reshape(n, 63).astype(np.float32),
        "transl": transl.astype(np.float32),
        "betas": np.zeros((n, 10), dtype=np.float32),
    }


def hanging_arms(n: int = 60) -> dict[str, np.ndarray]:
    """Arms straight down by the sides (G1: shoulder roll ≈ 0, elbow ≈ π/2)."""
    return genmo_arrays(n, arm_abduction_rad=0.0, elbow_flex_rad=0.0, swing_rad=0.05)


def write_genmo(
    path: Path, arrays: dict[str, np.ndarray], group: str = "body_params_global"
) -> Path:
    """Save as GENMO's nested dict in the format the suffix names (.pt, .npz or .npy)."""
    suffix = path.suffix
    if suffix == ".npz":
        np.savez(path, **{f"{group}/{k}": v for k, v in arrays.items()})  # type: ignore[arg-type]
    elif suffix == ".npy":
        np.save(path, {group: arrays, "K_fullimg": np.eye(3)}, allow_pickle=True)
    elif suffix == ".pt":
        import torch

        tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}
        torch.save({group: tensors, "K_fullimg": torch.eye(3)}, path)
    else:
        raise ValueError(f"no writer for {suffix}")
    return path
