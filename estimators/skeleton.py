"""Rest skeletons for SMPL forward kinematics, and where they come from.

A ``Skeleton`` is the 24 SMPL rest joint positions, ``(24, 3)`` metres, in the SMPL body frame
(+X left, +Y up, +Z forward, T-pose; see ``estimators.smpl``). Three sources implement the
``SkeletonSource`` protocol:

- ``CanonicalAdultSkeleton``: built into the project from published anthropometric proportions,
  no licensed file needed (the default).
- ``SmplxModelSkeleton``: the user's own SMPL / SMPL-X model through the optional ``smplx``
  package: rest joints = ``J_regressor @ (v_template + shapedirs @ betas)``.
- ``RestJointTableSkeleton``: a ``(24, 3)`` table the user supplies (``.npy``, ``.npz`` with key
  ``joints``, or ``.csv`` / ``.txt`` with 24 rows of ``x y z``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from estimators.errors import OptionalDependencyError, SkeletonError
from estimators.smpl import NUM_JOINTS, PARENTS

F64 = npt.NDArray[np.float64]

# SMPL-X joint indices used for the two extra "hand" joints when a SMPL-X model supplies the rest
# pose: SONIC's 24-joint layout takes the left/right thumb tips (SMPL-X 39 and 54).
_SMPLX_LEFT_THUMB3 = 39
_SMPLX_RIGHT_THUMB3 = 54


@dataclass(frozen=True)
class Skeleton:
    """SMPL rest joints with an identifier recorded in packages and reports."""

    skeleton_id: str
    rest_joints: F64
    """(24, 3) rest joint positions in the SMPL body frame (m)."""

    def __post_init__(self) -> None:
        joints = np.asarray(self.rest_joints, dtype=np.float64)
        if joints.shape != (NUM_JOINTS, 3):
            raise SkeletonError(self.skeleton_id, f"rest joints shape {joints.shape}, want (24, 3)")
        if not np.all(np.isfinite(joints)):
            raise SkeletonError(self.skeleton_id, "rest joints contain non-finite values")
        bones = np.linalg.norm(joints[1:] - joints[PARENTS[1:]], axis=1)
        if np.any(bones < 1e-4) or np.any(bones > 1.5):
            raise SkeletonError(self.skeleton_id, "bone lengths must lie in 0.1 mm .. 1.5 m")
        joints = joints.copy()
        joints.flags.writeable = False
        object.__setattr__(self, "rest_joints", joints)

    @property
    def offsets(self) -> F64:
        """(24, 3) rest offset of each joint from its parent (the root's is its position)."""
        out: F64 = self.rest_joints.copy()
        out[1:] -= self.rest_joints[PARENTS[1:]]
        return out


class SkeletonSource(Protocol):
    """Where a rest skeleton comes from (the seam the reference builder's caller picks)."""

    def load(self) -> Skeleton:
        """Return the rest skeleton; may read files. Raises ``SkeletonError``."""
        ...


@dataclass(frozen=True)
class CanonicalAdultSkeleton:
    """A generic adult skeleton defined by this project from published body proportions.

    Segment lengths and landmark heights are fractions of stature ``H`` from Drillis & Contini
    (1966), as tabulated in D. A. Winter, *Biomechanics and Motor Control of Human Movement*
    (Fig. 4.1): hip (greater trochanter) height 0.530H, knee 0.285H, ankle 0.039H, shoulder
    0.818H, chin 0.870H, eye 0.936H; upper arm 0.186H, forearm 0.146H, hand 0.108H, foot length
    0.152H; biacromial (shoulder) width 0.259H. The shoulder joints sit at half the biacromial
    width and the arms are horizontal (T-pose), the legs vertical.

    Our own choices, not from that table: hip joint centres at ±0.05H from the midline (between
    Bell et al.'s pelvis-width regression and SMPL's mean shape); the pelvis joint 0.05H above
    the hips; spine1/spine2/spine3 at 0.64H/0.70H/0.74H, neck 0.85H and head 0.91H (interpolated
    between the landmarks above); collars 0.04H lateral at 0.80H; the "hand" joints at 45 % of
    hand length past the wrist (the knuckle line); the "foot" joints (balls of the feet) 0.08H in
    front of the ankles at 0.01H height. The pelvis is placed at the origin, so a package's
    translation is the pelvis position.
    """

    height_m: float = 1.70
    """Stature H (m). 1.70 m is a mid adult stature."""

    @property
    def skeleton_id(self) -> str:
        return f"canonical-adult-v1-h{self.height_m:.3f}"

    def load(self) -> Skeleton:
        if not 0.5 <= self.height_m <= 2.5:
            raise SkeletonError(self.skeleton_id, "height must lie in 0.5 .. 2.5 m")
        h = self.height_m
        hip_x, pelvis_y = 0.05, 0.580
        sh_x = 0.259 / 2.0
        el_x = sh_x + 0.186
        wr_x = el_x + 0.146
        hand_x = wr_x + 0.45 * 0.108
        # (x, height, z) as fractions of H; x is the body's left.
        table = [
            (0.0, pelvis_y, 0.0),  # pelvis
            (hip_x, 0.530, 0.0), (-hip_x, 0.530, 0.0),  # hips
            (0.0, 0.640, 0.0),  # spine1
            (hip_x, 0.285, 0.0), (-hip_x, 0.285, 0.0),  # knees
            (0.0, 0.700, 0.0),  # spine2
            (hip_x, 0.039, 0.0), (-hip_x, 0.039, 0.0),  # ankles
            (0.0, 0.740, 0.0),  # spine3
            (hip_x, 0.010, 0.08), (-hip_x, 0.010, 0.08),  # feet (balls)
            (0.0, 0.850, 0.0),  # neck
            (0.04, 0.800, 0.0), (-0.04, 0.800, 0.0),  # collars
            (0.0, 0.910, 0.0),  # head
            (sh_x, 0.818, 0.0), (-sh_x, 0.818, 0.0),  # shoulders
            (el_x, 0.818, 0.0), (-el_x, 0.818, 0.0),  # elbows
            (wr_x, 0.818, 0.0), (-wr_x, 0.818, 0.0),  # wrists
            (hand_x, 0.818, 0.0), (-hand_x, 0.818, 0.0),  # hands
        ]  # fmt: skip
        joints = np.array(table, dtype=np.float64) * h
        joints[:, 1] -= pelvis_y * h
        return Skeleton(self.skeleton_id, joints)


@dataclass(frozen=True)
class RestJointTableSkeleton:
    """A ``(24, 3)`` rest-joint table file in the SMPL body frame (metres)."""

    path: Path
    skeleton_id: str = ""
    """Identifier to record; defaults to ``table:<file name>``."""

    def load(self) -> Skeleton:
        name = self.skeleton_id or f"table:{self.path.name}"
        try:
            suffix = self.path.suffix.lower()
            if suffix == ".npy":
                joints = np.load(self.path, allow_pickle=False)
            elif suffix == ".npz":
                with np.load(self.path, allow_pickle=False) as data:
                    if "joints" not in data:
                        raise SkeletonError(str(self.path), "npz has no 'joints' array")
                    joints = data["joints"]
            elif suffix in (".csv", ".txt"):
                joints = np.loadtxt(self.path, delimiter="," if suffix == ".csv" else None)
            else:
                raise SkeletonError(str(self.path), "use .npy, .npz, .csv or .txt")
        except OSError as exc:
            raise SkeletonError(str(self.path), f"cannot read: {exc}") from exc
        except ValueError as exc:
            raise SkeletonError(str(self.path), f"cannot parse: {exc}") from exc
        return Skeleton(name, np.asarray(joints, dtype=np.float64))


@dataclass(frozen=True)
class SmplxModelSkeleton:
    """Rest joints from the user's SMPL / SMPL-X model file, loaded with the optional ``smplx``.

    For SMPL models joints 22/23 are SMPL's hands. For SMPL-X models (55 joints) they are the
    thumb tips (SMPL-X 39 and 54), the 24-joint layout SONIC's own FK produces.
    """

    model_path: Path
    betas: Sequence[float] = ()
    """Shape coefficients; empty means the template (mean) shape."""
    gender: str = "neutral"
    smplx_kwargs: tuple[tuple[str, Any], ...] = ()
    """Extra keyword arguments for ``smplx.create`` (e.g. ``vertex_ids`` for small test models)."""

    @property
    def skeleton_id(self) -> str:
        return f"smplx-model:{self.model_path.name}:betas{len(self.betas)}"

    def load(self) -> Skeleton:
        try:
            # Optional and heavy (torch): imported only when this source is used.
            import smplx  # type: ignore[import-untyped,import-not-found,unused-ignore]
        except ImportError as exc:
            raise OptionalDependencyError("smplx", "loading a SMPL/SMPL-X model") from exc
        if not self.model_path.exists():
            raise SkeletonError(str(self.model_path), "model file does not exist")
        model = smplx.create(str(self.model_path), gender=self.gender, **dict(self.smplx_kwargs))
        j_regressor = model.J_regressor.detach().cpu().numpy().astype(np.float64)
        v_shaped = model.v_template.detach().cpu().numpy().astype(np.float64)
        if len(self.betas):
            shapedirs = model.shapedirs.detach().cpu().numpy().astype(np.float64)
            betas = np.asarray(self.betas, dtype=np.float64)
            if betas.shape[0] > shapedirs.shape[-1]:
                raise SkeletonError(str(self.model_path), "more betas than the model has")
            v_shaped = v_shaped + shapedirs[..., : betas.shape[0]] @ betas
        joints = j_regressor @ v_shaped
        if joints.shape[0] == NUM_JOINTS:
            rest = joints
        elif joints.shape[0] > _SMPLX_RIGHT_THUMB3:
            rest = np.concatenate(
                [joints[:22], joints[[_SMPLX_LEFT_THUMB3, _SMPLX_RIGHT_THUMB3]]], axis=0
            )
        else:
            raise SkeletonError(str(self.model_path), f"unsupported joint count {joints.shape[0]}")
        return Skeleton(self.skeleton_id, rest)
