"""A G1 (29 DoF + Dex3-1 hands) MuJoCo model built in code, so the simulator needs no model files.

Unitree's official MJCF loads STL meshes from a folder the project may not carry. This module
builds an equivalent model with ``mujoco.MjSpec`` from the figures in ``g1_builtin_data``: the
same body tree, joint names, axes, limits, inertials, actuator order, IMU sites and timestep, with
primitive collision shapes instead of meshes. It reads no file.

Contacts: every robot geom collides with the floor (and with any object whose ``conaffinity``
has bit 0 set), but robot geoms do not collide with each other (``contype=1, conaffinity=0``).
The fitted primitives overlap where the real links nest (hip, waist, torso, hands), so robot
self-collision would add spurious contacts and stiff, unstable contact forces; parent-child
pairs would be excluded by MuJoCo anyway, the rest is switched off on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping

import mujoco

from controller.robot import g1_builtin_data as data

MODEL_NAME = "g1_29dof_with_hand_builtin"
FLOOR_NAME = "floor"
ROBOT_CONTYPE = 1
ROBOT_CONAFFINITY = 0
SITE_RADIUS_M = 0.01

_GEOM_TYPES: Mapping[data.Primitive, int] = {
    data.Primitive.SPHERE: mujoco.mjtGeom.mjGEOM_SPHERE,
    data.Primitive.CAPSULE: mujoco.mjtGeom.mjGEOM_CAPSULE,
    data.Primitive.BOX: mujoco.mjtGeom.mjGEOM_BOX,
}
_LINK_RGBA = (0.7, 0.7, 0.7, 1.0)
_FOOT_RGBA = (0.2, 0.2, 0.2, 1.0)


def build_g1_spec() -> mujoco.MjSpec:
    """Build the uncompiled G1 model: robot on a floor plane, pelvis at its standing height.

    Returned uncompiled so callers can add what their scene needs (a gantry weld, sensors,
    keyframes) before ``spec.compile()``.

    Returns:
        An ``MjSpec`` with 45 bodies (world + 44 links), the free joint ``floating_base_joint``
        on ``pelvis``, 43 hinge joints and 43 ``motor`` actuators in Unitree's actuator order,
        the sites ``imu_in_pelvis``, ``imu_in_torso`` and ``head``, and a ``floor`` plane.
    """
    spec = mujoco.MjSpec()
    spec.modelname = MODEL_NAME
    # The table is in radians; MjSpec would otherwise read joint ranges as degrees.
    spec.compiler.degree = False
    spec.option.timestep = data.TIMESTEP_S
    _add_scene(spec)
    bodies = {"world": spec.worldbody}
    for row in data.BODIES:
        bodies[row.name] = _add_body(bodies[row.parent], row)
    for site in data.SITES:
        bodies[site.body].add_site(name=site.name, pos=site.pos, size=[SITE_RADIUS_M, 0.0, 0.0])
    for joint_name in data.ACTUATOR_JOINTS:
        actuator = spec.add_actuator(
            name=joint_name, target=joint_name, trntype=mujoco.mjtTrn.mjTRN_JOINT
        )
        actuator.set_to_motor()
    return spec


def builtin_model_xml() -> str:
    """The built-in model as MJCF text, e.g. to save it or to inspect it in a viewer."""
    spec = build_g1_spec()
    # to_xml() writes the compiled state, so compile first.
    spec.compile()
    xml: str = spec.to_xml()
    return xml


def _add_body(parent: mujoco.MjsBody, row: data.BodyRow) -> mujoco.MjsBody:
    body = parent.add_body(
        name=row.name,
        pos=row.pos,
        quat=row.quat_wxyz,
        ipos=row.ipos,
        iquat=row.iquat_wxyz,
        mass=row.mass_kg,
        inertia=row.diaginertia,
        # Authored inertials only: the collision primitives must not add mass.
        explicitinertial=True,
    )
    if row.joint is None:
        body.add_freejoint(name=data.FREE_JOINT_NAME)
    else:
        body.add_joint(
            name=row.joint.name,
            type=mujoco.mjtJoint.mjJNT_HINGE,
            axis=row.joint.axis,
            range=row.joint.range_rad,
            limited=mujoco.mjtLimited.mjLIMITED_TRUE,
            actfrcrange=row.joint.actuatorfrcrange_nm,
            actfrclimited=mujoco.mjtLimited.mjLIMITED_TRUE,
        )
    rgba = _FOOT_RGBA if row.name.endswith("_ankle_roll_link") else _LINK_RGBA
    for geom in row.geoms:
        body.add_geom(
            type=_GEOM_TYPES[geom.kind],
            size=geom.size,
            pos=geom.pos,
            quat=geom.quat_wxyz,
            contype=ROBOT_CONTYPE,
            conaffinity=ROBOT_CONAFFINITY,
            rgba=rgba,
        )
    return body


def _add_scene(spec: mujoco.MjSpec) -> None:
    """Floor plane with a procedural checker texture, and a light: no image files."""
    spec.add_texture(
        name="groundplane",
        type=mujoco.mjtTexture.mjTEXTURE_2D,
        builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER,
        mark=mujoco.mjtMark.mjMARK_EDGE,
        rgb1=[0.2, 0.3, 0.4],
        rgb2=[0.1, 0.2, 0.3],
        markrgb=[0.8, 0.8, 0.8],
        width=300,
        height=300,
    )
    material = spec.add_material(
        name="groundplane", texuniform=True, texrepeat=[5.0, 5.0], reflectance=0.2
    )
    material.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = "groundplane"
    spec.worldbody.add_geom(
        name=FLOOR_NAME,
        type=mujoco.mjtGeom.mjGEOM_PLANE,
        size=[0.0, 0.0, 0.05],
        material="groundplane",
    )
    spec.worldbody.add_light(pos=[1.0, 0.0, 3.5], dir=[0.0, 0.0, -1.0])
