"""Arm self-collision of the G1 in MuJoCo: how close each arm comes to the hips, torso and the
other arm, pose by pose.

The model is the robot's own (``ModelSource``: Unitree's official MJCF or the built-in one)
reduced to what this check needs: the collision geoms of the arm links (upper arm from
``*_shoulder_yaw_link`` down, wrist, Dex3 hand and fingers) and of the pelvis, hip links, waist
and torso. Mesh geoms are loaded as vertex clouds: MuJoCo collides meshes through their convex
hulls anyway, and skipping the faces cuts the compile from ~2 s and ~600 MB to ~0.6 s and a
small fraction of that. Distances are MuJoCo's (``mj_geomDistance``, signed: negative is
penetration depth) between hulls or primitives.

Per pose: one forward-kinematics pass and MuJoCo's collision pipeline with the geom margins set
to the distance of interest, so only pairs closer than that produce contacts. Contact types
decide who meets whom: each arm meets the body parts and the other arm, nothing else.
``SelfCollisionChecker`` is not thread-safe (one ``MjData``, and it sets margins on the model).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

import mujoco
import numpy as np
import numpy.typing as npt

from controller.embodiment import dex3, g1
from controller.robot.base import F64
from controller.robot.model_source import ModelSource

ARM_LINK_KEYS = ("shoulder_yaw", "elbow", "wrist", "hand")
BODY_LINK_KEYS = ("pelvis", "hip_pitch", "hip_roll", "hip_yaw", "waist", "torso")
SIDES = ("left", "right")


class Side(enum.IntEnum):
    LEFT = 0
    RIGHT = 1


def _group(body_name: str) -> int:
    """0 left arm, 1 right arm, 2 body, -1 not checked."""
    for side in Side:
        if body_name.startswith(SIDES[side] + "_") and any(k in body_name for k in ARM_LINK_KEYS):
            return int(side)
    if any(k in body_name for k in BODY_LINK_KEYS):
        return 2
    return -1


# Contact bits: left arm 1, right arm 2, body 4. An arm meets the body and the other arm; body
# parts never meet each other, nor does an arm meet itself. Index: ``_group``'s result.
_CONTYPE = (1, 2, 4)
_CONAFFINITY = (4 | 2, 4 | 1, 1 | 2)


def build_collision_model(source: ModelSource) -> mujoco.MjModel:
    """The robot model with only the arm/body collision geoms, meshes as vertex clouds."""
    from controller.robot.mujoco_backend import load_spec

    spec = load_spec(source)
    for geom in list(spec.geoms):
        body = geom.parent
        is_collision = bool(geom.contype or geom.conaffinity)
        group = _group(body.name if isinstance(body, mujoco.MjsBody) else "")
        if not is_collision or group < 0:
            spec.delete(geom)
        else:
            # Set before compiling: MuJoCo derives per-body masks for its broad phase from these.
            geom.contype, geom.conaffinity = _CONTYPE[group], _CONAFFINITY[group]
    used = {geom.meshname for geom in spec.geoms}
    mesh_dir = Path(spec.modelfiledir or ".") / (spec.meshdir or "")
    for mesh in list(spec.meshes):
        if mesh.name not in used:
            spec.delete(mesh)
        elif mesh.file.lower().endswith(".stl"):
            mesh.uservert = stl_vertices(mesh_dir / mesh.file).ravel()
            mesh.file = ""
    return spec.compile()


def stl_vertices(path: Path) -> npt.NDArray[np.float32]:
    """The distinct vertices ``(V, 3)`` of a binary STL file (its faces are not needed)."""
    data = path.read_bytes()
    if data[:5].lower() == b"solid" and b"facet" in data[:512]:
        raise ValueError(f"{path}: ASCII STL is not supported here")
    count = int(np.frombuffer(data, "<u4", 1, 80)[0])
    record = np.dtype([("normal", "<f4", 3), ("v", "<f4", (3, 3)), ("attr", "<u2")])
    triangles = np.frombuffer(data, record, count, 84)
    vertices = np.ascontiguousarray(triangles["v"].reshape(-1, 3))
    # Each vertex is shared by ~6 triangles: dedupe on the raw 12 bytes (no float sorting).
    _, first = np.unique(vertices.view(np.dtype((np.void, 12))).ravel(), return_index=True)
    return vertices[np.sort(first)]


@dataclass(frozen=True)
class Contact:
    """The closest arm contact found by the last ``measure``."""

    arm_body: str
    other_body: str
    distance_m: float


class SelfCollisionChecker:
    """How close each arm comes to the body and the other arm, one pose at a time.

    Uses MuJoCo's own collision pipeline (broad phase, bounding volumes, convex narrow phase):
    ~20 µs for a pose where nothing is near, more where hulls interpenetrate. Only contacts
    closer than the ``margin_m`` asked for are reported.
    """

    def __init__(self, model: mujoco.MjModel) -> None:
        self.model = model
        self.data = mujoco.MjData(model)
        # Collision detection is skipped while constraints are disabled. The mid-phase filter
        # ignores margins (MuJoCo 3-4): with it on, a pair 1.8 cm apart goes unreported under a
        # 5 cm margin while one 1.6 cm apart is reported. One contact per pair is enough here.
        flags = mujoco.mjtDisableBit
        model.opt.disableflags &= ~int(flags.mjDSBL_CONSTRAINT)
        model.opt.disableflags |= int(flags.mjDSBL_MIDPHASE) | int(flags.mjDSBL_MULTICCD)
        self._body_names = [
            mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, b) or "" for b in range(model.nbody)
        ]
        groups = np.array([_group(self._body_names[int(b)]) for b in model.geom_bodyid])
        if not np.any(groups == 0) or not np.any(groups == 1) or not np.any(groups == 2):
            raise ValueError("collision model lacks arm or body collision geoms")
        self._geom_group = groups
        expected = [(_CONTYPE[int(g)], _CONAFFINITY[int(g)]) for g in groups]
        actual = list(
            zip(model.geom_contype.tolist(), model.geom_conaffinity.tolist(), strict=True)
        )
        if actual != expected:
            raise ValueError("not a collision model: build it with build_collision_model")
        self._arm_geoms = np.flatnonzero(groups < 2)
        self._margin = -1.0
        ids = _joint_ids(model, g1.BODY_JOINT_NAMES)
        self._qpos_body = model.jnt_qposadr[ids]
        hand_ids = _joint_ids(model, dex3.HAND_JOINT_NAMES, optional=True)
        self._has_hands = bool(np.all(hand_ids >= 0))
        self._qpos_hand = model.jnt_qposadr[hand_ids] if self._has_hands else np.zeros(0, int)
        self.closest: list[Contact | None] = [None, None]
        """Per arm (``Side``), the closest contact of the last ``measure`` (None: clear)."""

    def set_pose(self, q_hw: F64, hand_q: F64 | None = None) -> None:
        """Body joints (hardware order) and, when the model has hands, Dex3 ``(2, 7)``."""
        data = self.data
        data.qpos[:] = self.model.qpos0
        data.qpos[self._qpos_body] = q_hw
        if hand_q is not None and self._has_hands:
            data.qpos[self._qpos_hand] = np.reshape(hand_q, -1)
        mujoco.mj_kinematics(self.model, data)

    def measure(self, margin_m: float) -> F64:
        """Per arm ``(2,)``: the smallest signed distance (m) to the body or the other arm, or
        ``margin_m`` when nothing is closer than that."""
        if margin_m != self._margin:
            self.model.geom_margin[:] = 0.0
            self.model.geom_margin[self._arm_geoms] = margin_m  # a pair uses the larger one
            self._margin = margin_m
        mujoco.mj_collision(self.model, self.data)
        out = np.full(2, margin_m)
        self.closest = [None, None]
        n = self.data.ncon
        if n == 0:
            return out
        contacts = self.data.contact
        dist = contacts.dist[:n]
        geoms = np.stack([contacts.geom1[:n], contacts.geom2[:n]], axis=1)
        groups = self._geom_group[geoms]
        bodies = self.model.geom_bodyid[geoms]
        for side in Side:
            hit = np.any(groups == side, axis=1)
            if not np.any(hit):
                continue
            k = int(np.flatnonzero(hit)[np.argmin(dist[hit])])
            if float(dist[k]) >= out[side]:
                continue
            out[side] = float(dist[k])
            mine = 0 if groups[k, 0] == side else 1
            self.closest[side] = Contact(
                self._body_names[int(bodies[k, mine])],
                self._body_names[int(bodies[k, 1 - mine])],
                float(dist[k]),
            )
        return out


def _joint_ids(
    model: mujoco.MjModel, names: tuple[str, ...], *, optional: bool = False
) -> npt.NDArray[np.intp]:
    ids = np.array(
        [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, n) for n in names], dtype=np.intp
    )
    if not optional and np.any(ids < 0):
        missing = [n for n, i in zip(names, ids, strict=True) if i < 0]
        raise ValueError(f"collision model lacks joints {missing}")
    return ids
