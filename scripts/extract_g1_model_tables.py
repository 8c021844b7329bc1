"""Generate ``controller/robot/g1_builtin_data.py`` from Unitree's official G1 MJCF.

The built-in simulator model (``controller/robot/g1_builtin.py``) must work on a machine without
Unitree's model folder, and the project must not carry a copy of Unitree's files. So this script
reads the official with-hand MJCF once and writes its figures into a Python table: kinematics,
inertials, joints and actuator order as authored, and collision primitives fitted to the meshes.

Collision primitives. For every body, each distinct mesh the official model *collides* with (or,
where a body collides only through primitives, each visual mesh) gets one primitive, fitted to
the mesh's vertices in the compiled model. MuJoCo compiles a mesh geom into the mesh's principal
inertia frame, so the axis-aligned box of the vertices in that frame is a tight oriented box:

- one half-extent at least 1.5x the next: a capsule along that axis, radius the mean of the two
  short half-extents, ends at the box's ends;
- all half-extents within 1.2x of each other: a sphere of their mean;
- otherwise: that box.

Feet (``*_ankle_roll_link``) are the exception: a box aligned with the foot frame, the vertex
bounds in that frame, so the sole is flat and sits where the official sole points are.

Usage (from the repository root)::

    .venv/bin/python scripts/extract_g1_model_tables.py [MJCF] [--out PATH] [--source-commit SHA]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import mujoco
import numpy as np
import numpy.typing as npt

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MJCF = REPO_ROOT.parent / "shared/robots/unitree_g1/g1_29dof_with_hand_rev_1_0.xml"
DEFAULT_OUT = REPO_ROOT / "controller/robot/g1_builtin_data.py"
LINE_LENGTH = 100
CAPSULE_ELONGATION = 1.5
SPHERE_ROUNDNESS = 1.2
FOOT_SUFFIX = "_ankle_roll_link"
HEAD_MESH = "head_link"
SITE_NAMES = ("imu_in_pelvis", "imu_in_torso")
# Sub-millimetre figures are noise for a fitted primitive; rounding keeps the table readable.
FIT_DECIMALS = 4
QUAT_DECIMALS = 5

F64 = npt.NDArray[np.float64]
IDENTITY_QUAT: F64 = np.array([1.0, 0.0, 0.0, 0.0])


# --- values mirrored from the generated module's types, for the emitter ----------------------


@dataclass(frozen=True)
class Enum:
    """An enum member to emit as ``Type.MEMBER``."""

    text: str


@dataclass(frozen=True)
class Call:
    """A constructor call to emit with keyword arguments, in order."""

    name: str
    kwargs: tuple[tuple[str, object], ...]


# --- reading the official model ---------------------------------------------------------------


def _vec(values: npt.ArrayLike, decimals: int | None = None) -> tuple[float, ...]:
    # `+ 0.0` turns -0.0 into 0.0 so the table does not show signed zeros.
    flat = np.asarray(values, dtype=np.float64).ravel().tolist()
    if decimals is None:
        return tuple(v + 0.0 for v in flat)
    return tuple(round(v, decimals) + 0.0 for v in flat)


def _quat_of(mat: F64) -> F64:
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, np.ascontiguousarray(mat).reshape(9))
    return quat


def _mat_of(quat: F64) -> F64:
    mat = np.zeros(9)
    mujoco.mju_quat2Mat(mat, np.asarray(quat, dtype=np.float64))
    return mat.reshape(3, 3)


def _mesh_vertices(model: mujoco.MjModel, geom_id: int) -> F64:
    """Vertices of a mesh geom in the geom's own (principal) frame."""
    mesh_id = int(model.geom_dataid[geom_id])
    start = int(model.mesh_vertadr[mesh_id])
    verts: F64 = model.mesh_vert[start : start + int(model.mesh_vertnum[mesh_id])]
    return verts.astype(np.float64)


def _fit_primitive(model: mujoco.MjModel, geom_id: int) -> Call:
    """Capsule, sphere or box fitted to a mesh geom's vertices (see module docstring)."""
    verts = _mesh_vertices(model, geom_id)
    lo, hi = verts.min(axis=0), verts.max(axis=0)
    half = (hi - lo) / 2.0
    rot = _mat_of(model.geom_quat[geom_id])
    center = model.geom_pos[geom_id] + rot @ ((hi + lo) / 2.0)
    short, mid, long = (int(i) for i in np.argsort(half))
    if half[long] >= CAPSULE_ELONGATION * half[mid]:
        radius = (half[short] + half[mid]) / 2.0
        # A cyclic permutation of the principal axes is a proper rotation with z on `long`.
        columns = ((long + 1) % 3, (long + 2) % 3, long)
        quat = _quat_of(rot[:, columns])
        return _geom_call("CAPSULE", (radius, half[long] - radius, 0.0), center, quat)
    if half[long] <= SPHERE_ROUNDNESS * half[short]:
        return _geom_call("SPHERE", (half.mean(), 0.0, 0.0), center, IDENTITY_QUAT)
    return _geom_call("BOX", half, center, model.geom_quat[geom_id])


def _fit_foot(model: mujoco.MjModel, geom_id: int) -> Call:
    """Foot-frame box around the foot mesh, so the sole is flat on the floor at zero pose."""
    verts = _mesh_vertices(model, geom_id)
    body_verts = verts @ _mat_of(model.geom_quat[geom_id]).T + model.geom_pos[geom_id]
    lo, hi = body_verts.min(axis=0), body_verts.max(axis=0)
    return _geom_call("BOX", (hi - lo) / 2.0, (hi + lo) / 2.0, IDENTITY_QUAT)


def _geom_call(kind: str, size: npt.ArrayLike, pos: npt.ArrayLike, quat: F64) -> Call:
    quat = quat / np.linalg.norm(quat)
    return Call(
        "GeomRow",
        (
            ("kind", Enum(f"Primitive.{kind}")),
            ("size", _vec(size, FIT_DECIMALS)),
            ("pos", _vec(pos, FIT_DECIMALS)),
            ("quat_wxyz", _vec(quat, QUAT_DECIMALS)),
        ),
    )


def _shape_geoms(model: mujoco.MjModel, body_id: int) -> list[int]:
    """One mesh geom per distinct mesh to fit: the colliding ones, else the visual ones."""
    mesh_geoms = [
        g
        for g in range(model.ngeom)
        if model.geom_bodyid[g] == body_id and model.geom_type[g] == mujoco.mjtGeom.mjGEOM_MESH
    ]
    colliding = [g for g in mesh_geoms if model.geom_contype[g] or model.geom_conaffinity[g]]
    chosen: dict[int, int] = {}
    for g in colliding or mesh_geoms:
        chosen.setdefault(int(model.geom_dataid[g]), g)
    return list(chosen.values())


def _joint_call(body: mujoco.MjsBody) -> Call | None:
    joints = body.joints
    if len(joints) != 1:
        raise ValueError(f"body {body.name}: expected one joint, found {len(joints)}")
    joint = joints[0]
    if joint.type == mujoco.mjtJoint.mjJNT_FREE:
        return None
    if joint.type != mujoco.mjtJoint.mjJNT_HINGE or np.any(joint.pos != 0.0):
        raise ValueError(f"joint {joint.name}: only hinges at the body origin are supported")
    return Call(
        "JointRow",
        (
            ("name", joint.name),
            ("axis", _vec(joint.axis)),
            ("range_rad", _vec(joint.range)),
            ("actuatorfrcrange_nm", _vec(joint.actfrcrange)),
        ),
    )


def _body_call(spec: mujoco.MjSpec, model: mujoco.MjModel, body_id: int) -> Call:
    name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, body_id)
    parent = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, int(model.body_parentid[body_id]))
    body = spec.body(name)
    if not body.explicitinertial:
        raise ValueError(f"body {name}: no <inertial>; the table copies authored inertials")
    if name.endswith(FOOT_SUFFIX):
        geoms = [_fit_foot(model, g) for g in _shape_geoms(model, body_id)]
    else:
        geoms = [_fit_primitive(model, g) for g in _shape_geoms(model, body_id)]
    return Call(
        "BodyRow",
        (
            ("name", name),
            ("parent", parent),
            ("pos", _vec(body.pos)),
            ("quat_wxyz", _vec(body.quat)),
            ("ipos", _vec(body.ipos)),
            ("iquat_wxyz", _vec(body.iquat)),
            ("mass_kg", float(body.mass)),
            ("diaginertia", _vec(body.inertia)),
            ("joint", _joint_call(body)),
            ("geoms", tuple(geoms)),
        ),
    )


def _head_site(model: mujoco.MjModel) -> Call:
    """The head is a mesh on ``torso_link``; its compiled geom position is the mesh centroid."""
    mesh_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_MESH, HEAD_MESH)
    geom_id = int(np.flatnonzero(model.geom_dataid == mesh_id)[0])
    body = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, int(model.geom_bodyid[geom_id]))
    pos = _vec(model.geom_pos[geom_id], 5)
    return Call("SiteRow", (("name", "head"), ("body", body), ("pos", pos)))


def _site_calls(spec: mujoco.MjSpec, model: mujoco.MjModel) -> tuple[Call, ...]:
    calls = []
    for name in SITE_NAMES:
        site_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, name)
        body = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, int(model.site_bodyid[site_id]))
        pos = _vec(spec.site(name).pos)
        calls.append(Call("SiteRow", (("name", name), ("body", body), ("pos", pos))))
    calls.append(_head_site(model))
    return tuple(calls)


def _actuator_joints(spec: mujoco.MjSpec) -> tuple[str, ...]:
    names = []
    for act in spec.actuators:
        is_motor = (
            act.trntype == mujoco.mjtTrn.mjTRN_JOINT
            and act.gaintype == mujoco.mjtGain.mjGAIN_FIXED
            and act.gainprm[0] == 1.0
            and act.biastype == mujoco.mjtBias.mjBIAS_NONE
            and act.name == act.target
        )
        if not is_motor:
            raise ValueError(f"actuator {act.name}: expected a <motor> named like its joint")
        names.append(act.target)
    return tuple(names)


# --- writing the data module ------------------------------------------------------------------


def _inline(value: object) -> str:
    if isinstance(value, Enum):
        return value.text
    if isinstance(value, Call):
        return f"{value.name}({', '.join(f'{k}={_inline(v)}' for k, v in value.kwargs)})"
    if isinstance(value, tuple):
        if len(value) == 1:
            return f"({_inline(value[0])},)"
        return f"({', '.join(_inline(v) for v in value)})"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def _emit(value: object, indent: int, prefix: str, suffix: str) -> list[str]:
    """Lines for ``prefix + value + suffix``: one line if it fits, else exploded.

    Exploded forms carry a trailing comma, which ruff format keeps exploded (magic trailing
    comma), so regenerated output is already ruff-formatted.
    """
    pad = " " * indent
    line = f"{pad}{prefix}{_inline(value)}{suffix}"
    if len(line) <= LINE_LENGTH or not isinstance(value, Call | tuple) or not value:
        return [line]
    if isinstance(value, Call):
        head, items = f"{value.name}(", [(f"{k}=", v) for k, v in value.kwargs]
        close = ")"
    else:
        head, items, close = "(", [("", v) for v in value], ")"
    lines = [f"{pad}{prefix}{head}"]
    for item_prefix, item in items:
        lines += _emit(item, indent + 4, item_prefix, ",")
    lines.append(f"{pad}{close}{suffix}")
    return lines


def _module_text(
    mjcf: Path,
    commit: str,
    bodies: tuple[Call, ...],
    sites: tuple[Call, ...],
    actuators: tuple[str, ...],
    timestep: float,
) -> str:
    header = HEADER.format(source=mjcf.name, commit=commit, license=_license_comment(mjcf))
    lines = [header.rstrip("\n"), "", ""]
    lines.append(f'SOURCE_FILE = "{mjcf.name}"')
    lines.append(f'SOURCE_COMMIT = "{commit}"')
    lines.append(f"TIMESTEP_S = {timestep!r}")
    lines.append('FREE_JOINT_NAME = "floating_base_joint"')
    lines.append("")
    lines += _emit(bodies, 0, "BODIES: tuple[BodyRow, ...] = ", "")
    lines.append('"""Bodies parent-first, in the official tree order (MuJoCo body order)."""')
    lines.append("")
    lines += _emit(sites, 0, "SITES: tuple[SiteRow, ...] = ", "")
    lines.append("")
    lines += _emit(actuators, 0, "ACTUATOR_JOINTS: tuple[str, ...] = ", "")
    lines.append('"""Joint of each ``motor`` actuator, in the official actuator order."""')
    return "\n".join(lines) + "\n"


def _license_comment(mjcf: Path) -> str:
    license_path = mjcf.parent / "LICENSE"
    if not license_path.is_file():
        raise FileNotFoundError(f"{license_path}: Unitree's BSD-3 notice must travel with the data")
    return "\n".join(f"# {line}".rstrip() for line in license_path.read_text().splitlines())


def _source_commit(mjcf: Path) -> str:
    """The upstream commit named in SOURCE.md beside the MJCF, if there is one."""
    source_md = mjcf.parent / "SOURCE.md"
    if source_md.is_file():
        match = re.search(r"commit\s+([0-9a-f]{7,40})", source_md.read_text())
        if match:
            return match.group(1)
    return "unknown"


def generate(mjcf: Path, commit: str | None = None) -> str:
    """Read the official MJCF and return the text of the data module."""
    spec = mujoco.MjSpec.from_file(str(mjcf))
    model = spec.compile()
    bodies = tuple(_body_call(spec, model, b) for b in range(1, model.nbody))
    return _module_text(
        mjcf,
        commit or _source_commit(mjcf),
        bodies,
        _site_calls(spec, model),
        _actuator_joints(spec),
        float(spec.option.timestep),
    )


HEADER = '''\
"""Unitree G1 (29 DoF + two Dex3-1 hands) tables for the built-in MuJoCo model. GENERATED.

Do not edit: regenerate with ``scripts/extract_g1_model_tables.py``.
Generated from Unitree's ``{source}``
(unitreerobotics/unitree_ros, robots/g1_description, commit {commit}),
Copyright (c) 2016-2022 HangZhou YuShu TECHNOLOGY CO.,LTD. ("Unitree Robotics"), BSD 3-Clause
License (full notice below). The figures live here so that the simulator runs on a machine
without Unitree's model folder; ``controller/robot/g1_builtin.py`` builds the model from them.

What is copied and what is derived:
- Copied as authored: body positions and orientations, inertials (position, orientation, mass,
  diagonal inertia), joint axes, ranges and actuator force ranges, site positions, the actuator
  order and the timestep.
- Derived: collision primitives, fitted to each link's mesh vertices in the compiled official
  model (capsule for elongated links, sphere for round ones, else an oriented box; feet are
  foot-frame boxes around the foot mesh). The ``head`` site is the compiled position of the
  ``head_link`` mesh, which in the official file is a geom on ``torso_link``, not a body.

Conventions: lengths in m, masses in kg, inertias in kg·m², angles in rad, torques in N·m,
quaternions wxyz. Positions and orientations are in the parent body frame (geoms and sites: in
their body's frame). Geom sizes follow MuJoCo: sphere (radius, 0, 0), capsule (radius,
half-length, 0) along the geom's z axis, box half-extents.
"""

{license}

from __future__ import annotations

import enum
from dataclasses import dataclass

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]


class Primitive(enum.Enum):
    """Collision primitive kinds (MuJoCo geom types), so the table needs no MuJoCo import."""

    SPHERE = "sphere"
    CAPSULE = "capsule"
    BOX = "box"


@dataclass(frozen=True)
class GeomRow:
    """One collision primitive on a body."""

    kind: Primitive
    size: Vec3
    """MuJoCo geom size for ``kind`` (see the module docstring)."""
    pos: Vec3
    quat_wxyz: Quat


@dataclass(frozen=True)
class JointRow:
    """The hinge joint that connects a body to its parent, at the body origin."""

    name: str
    axis: Vec3
    range_rad: tuple[float, float]
    actuatorfrcrange_nm: tuple[float, float]
    """Joint torque limit applied to actuator forces (MJCF ``actuatorfrcrange``)."""


@dataclass(frozen=True)
class BodyRow:
    """One link: its frame in the parent, its inertial, its joint and collision shapes."""

    name: str
    parent: str
    """Parent body name; ``world`` for the pelvis."""
    pos: Vec3
    quat_wxyz: Quat
    """Body frame orientation in the parent, as authored (MuJoCo normalises it)."""
    ipos: Vec3
    iquat_wxyz: Quat
    mass_kg: float
    diaginertia: Vec3
    """Principal moments of inertia (kg·m²) in the ``iquat_wxyz`` frame."""
    joint: JointRow | None
    """``None`` for the pelvis, which floats on ``FREE_JOINT_NAME``."""
    geoms: tuple[GeomRow, ...]


@dataclass(frozen=True)
class SiteRow:
    """A named point on a body (IMU mounts, head)."""

    name: str
    body: str
    pos: Vec3
'''


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, generate the data module and write it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mjcf", nargs="?", type=Path, default=DEFAULT_MJCF)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--source-commit", help="upstream commit (default: from SOURCE.md)")
    args = parser.parse_args(argv)
    if not args.mjcf.is_file():
        print(f"error: {args.mjcf} not found", file=sys.stderr)
        return 2
    text = generate(args.mjcf, args.source_commit)
    args.out.write_text(text)
    print(f"wrote {args.out} ({text.count(chr(10))} lines) from {args.mjcf}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
