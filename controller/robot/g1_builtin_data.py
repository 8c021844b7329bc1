"""Unitree G1 (29 DoF + two Dex3-1 hands) tables for the built-in MuJoCo model. GENERATED.

Do not edit: regenerate with ``scripts/extract_g1_model_tables.py``.
Generated from Unitree's ``g1_29dof_with_hand_rev_1_0.xml``
(unitreerobotics/unitree_ros, robots/g1_description, commit d6f13aa),
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

# BSD 3-Clause License
#
# Copyright (c) 2016-2022 HangZhou YuShu TECHNOLOGY CO.,LTD. ("Unitree Robotics")
# All rights reserved.
#
# Redistribution and use in source and binary forms, with or without
# modification, are permitted provided that the following conditions are met:
#
# * Redistributions of source code must retain the above copyright notice, this
#   list of conditions and the following disclaimer.
#
# * Redistributions in binary form must reproduce the above copyright notice,
#   this list of conditions and the following disclaimer in the documentation
#   and/or other materials provided with the distribution.
#
# * Neither the name of the copyright holder nor the names of its
#   contributors may be used to endorse or promote products derived from
#   this software without specific prior written permission.
#
# THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"
# AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE
# IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
# DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE
# FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
# DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
# SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER
# CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
# OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
# OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.

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


SOURCE_FILE = "g1_29dof_with_hand_rev_1_0.xml"
SOURCE_COMMIT = "d6f13aa"
TIMESTEP_S = 0.002
FREE_JOINT_NAME = "floating_base_joint"

BODIES: tuple[BodyRow, ...] = (
    BodyRow(
        name="pelvis",
        parent="world",
        pos=(0.0, 0.0, 0.793),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.0, 0.0, -0.07605),
        iquat_wxyz=(1.0, 0.0, -0.000399148, 0.0),
        mass_kg=3.813,
        diaginertia=(0.010549, 0.0093089, 0.0079184),
        joint=None,
        geoms=(
            GeomRow(
                kind=Primitive.SPHERE,
                size=(0.0634, 0.0, 0.0),
                pos=(0.0019, -0.0001, -0.0893),
                quat_wxyz=(1.0, 0.0, 0.0, 0.0),
            ),
        ),
    ),
    BodyRow(
        name="left_hip_pitch_link",
        parent="pelvis",
        pos=(0.0, 0.064452, -0.1027),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.002741, 0.047791, -0.02606),
        iquat_wxyz=(0.954862, 0.293964, 0.0302556, 0.030122),
        mass_kg=1.35,
        diaginertia=(0.00181517, 0.00153422, 0.00116212),
        joint=JointRow(
            name="left_hip_pitch_joint",
            axis=(0.0, 1.0, 0.0),
            range_rad=(-2.5307, 2.8798),
            actuatorfrcrange_nm=(-88.0, 88.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.BOX,
                size=(0.0387, 0.0505, 0.0662),
                pos=(-0.0017, 0.04, -0.0195),
                quat_wxyz=(0.94563, 0.31549, -0.04501, 0.06494),
            ),
        ),
    ),
    BodyRow(
        name="left_hip_roll_link",
        parent="left_hip_pitch_link",
        pos=(0.0, 0.052, -0.030465),
        quat_wxyz=(0.996179, 0.0, -0.0873386, 0.0),
        ipos=(0.029812, -0.001045, -0.087934),
        iquat_wxyz=(0.977808, -1.97119e-05, 0.205576, -0.0403793),
        mass_kg=1.52,
        diaginertia=(0.00254986, 0.00241169, 0.00148755),
        joint=JointRow(
            name="left_hip_roll_joint",
            axis=(1.0, 0.0, 0.0),
            range_rad=(-0.5236, 2.9671),
            actuatorfrcrange_nm=(-139.0, 139.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.0515, 0.039, 0.0),
                pos=(0.0457, -0.0005, -0.0539),
                quat_wxyz=(0.98442, -0.00382, 0.17564, -0.00685),
            ),
        ),
    ),
    BodyRow(
        name="left_hip_yaw_link",
        parent="left_hip_roll_link",
        pos=(0.025001, 0.0, -0.12412),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(-0.057709, -0.010981, -0.15078),
        iquat_wxyz=(0.600598, 0.15832, 0.223482, 0.751181),
        mass_kg=1.702,
        diaginertia=(0.00776166, 0.00717575, 0.00160139),
        joint=JointRow(
            name="left_hip_yaw_joint",
            axis=(0.0, 0.0, 1.0),
            range_rad=(-2.7576, 2.7576),
            actuatorfrcrange_nm=(-88.0, 88.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.051, 0.0822, 0.0),
                pos=(-0.0383, -0.0044, -0.1036),
                quat_wxyz=(0.66793, 0.15234, 0.17317, 0.70759),
            ),
        ),
    ),
    BodyRow(
        name="left_knee_link",
        parent="left_hip_yaw_link",
        pos=(-0.078273, 0.0021489, -0.17734),
        quat_wxyz=(0.996179, 0.0, 0.0873386, 0.0),
        ipos=(0.005457, 0.003964, -0.12074),
        iquat_wxyz=(0.923418, -0.0327699, 0.0158246, 0.382067),
        mass_kg=1.932,
        diaginertia=(0.0113804, 0.0112778, 0.00146458),
        joint=JointRow(
            name="left_knee_joint",
            axis=(0.0, 1.0, 0.0),
            range_rad=(-0.087267, 2.8798),
            actuatorfrcrange_nm=(-139.0, 139.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.0475, 0.1306, 0.0),
                pos=(0.0074, -0.0038, -0.1369),
                quat_wxyz=(0.75849, -0.01382, 0.02939, 0.65088),
            ),
        ),
    ),
    BodyRow(
        name="left_ankle_pitch_link",
        parent="left_knee_link",
        pos=(0.0, -9.4445e-05, -0.30001),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(-0.007269, 0.0, 0.011137),
        iquat_wxyz=(0.603053, 0.369225, 0.369225, 0.603053),
        mass_kg=0.074,
        diaginertia=(1.89e-05, 1.40805e-05, 6.9195e-06),
        joint=JointRow(
            name="left_ankle_pitch_joint",
            axis=(0.0, 1.0, 0.0),
            range_rad=(-0.87267, 0.5236),
            actuatorfrcrange_nm=(-50.0, 50.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.BOX,
                size=(0.0065, 0.0171, 0.0232),
                pos=(-0.0037, 0.0001, -0.0095),
                quat_wxyz=(0.67666, 0.2052, 0.20525, 0.67668),
            ),
        ),
    ),
    BodyRow(
        name="left_ankle_roll_link",
        parent="left_ankle_pitch_link",
        pos=(0.0, 0.0, -0.017558),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.026505, 0.0, -0.016425),
        iquat_wxyz=(-0.000481092, 0.728482, -0.000618967, 0.685065),
        mass_kg=0.608,
        diaginertia=(0.00167218, 0.0016161, 0.000217621),
        joint=JointRow(
            name="left_ankle_roll_joint",
            axis=(1.0, 0.0, 0.0),
            range_rad=(-0.2618, 0.2618),
            actuatorfrcrange_nm=(-50.0, 50.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.BOX,
                size=(0.1041, 0.0378, 0.0295),
                pos=(0.0383, 0.0, -0.0059),
                quat_wxyz=(1.0, 0.0, 0.0, 0.0),
            ),
        ),
    ),
    BodyRow(
        name="right_hip_pitch_link",
        parent="pelvis",
        pos=(0.0, -0.064452, -0.1027),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.002741, -0.047791, -0.02606),
        iquat_wxyz=(0.954862, -0.293964, 0.0302556, -0.030122),
        mass_kg=1.35,
        diaginertia=(0.00181517, 0.00153422, 0.00116212),
        joint=JointRow(
            name="right_hip_pitch_joint",
            axis=(0.0, 1.0, 0.0),
            range_rad=(-2.5307, 2.8798),
            actuatorfrcrange_nm=(-88.0, 88.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.BOX,
                size=(0.0387, 0.0505, 0.0662),
                pos=(-0.0017, -0.04, -0.0195),
                quat_wxyz=(0.94562, -0.31551, -0.04502, -0.06497),
            ),
        ),
    ),
    BodyRow(
        name="right_hip_roll_link",
        parent="right_hip_pitch_link",
        pos=(0.0, -0.052, -0.030465),
        quat_wxyz=(0.996179, 0.0, -0.0873386, 0.0),
        ipos=(0.029812, 0.001045, -0.087934),
        iquat_wxyz=(0.977808, 1.97119e-05, 0.205576, 0.0403793),
        mass_kg=1.52,
        diaginertia=(0.00254986, 0.00241169, 0.00148755),
        joint=JointRow(
            name="right_hip_roll_joint",
            axis=(1.0, 0.0, 0.0),
            range_rad=(-2.9671, 0.5236),
            actuatorfrcrange_nm=(-139.0, 139.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.0515, 0.039, 0.0),
                pos=(0.0457, 0.0005, -0.0539),
                quat_wxyz=(0.98442, 0.00379, 0.17564, 0.00666),
            ),
        ),
    ),
    BodyRow(
        name="right_hip_yaw_link",
        parent="right_hip_roll_link",
        pos=(0.025001, 0.0, -0.12412),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(-0.057709, 0.010981, -0.15078),
        iquat_wxyz=(0.751181, 0.223482, 0.15832, 0.600598),
        mass_kg=1.702,
        diaginertia=(0.00776166, 0.00717575, 0.00160139),
        joint=JointRow(
            name="right_hip_yaw_joint",
            axis=(0.0, 0.0, 1.0),
            range_rad=(-2.7576, 2.7576),
            actuatorfrcrange_nm=(-88.0, 88.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.051, 0.0822, 0.0),
                pos=(-0.0383, 0.0044, -0.1036),
                quat_wxyz=(0.70762, 0.17315, 0.15236, 0.66789),
            ),
        ),
    ),
    BodyRow(
        name="right_knee_link",
        parent="right_hip_yaw_link",
        pos=(-0.078273, -0.0021489, -0.17734),
        quat_wxyz=(0.996179, 0.0, 0.0873386, 0.0),
        ipos=(0.005457, -0.003964, -0.12074),
        iquat_wxyz=(0.923439, 0.0345276, 0.0116333, -0.382012),
        mass_kg=1.932,
        diaginertia=(0.011374, 0.0112843, 0.00146452),
        joint=JointRow(
            name="right_knee_joint",
            axis=(0.0, 1.0, 0.0),
            range_rad=(-0.087267, 2.8798),
            actuatorfrcrange_nm=(-139.0, 139.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.0475, 0.1306, 0.0),
                pos=(0.0074, 0.0038, -0.1369),
                quat_wxyz=(0.65083, 0.02938, -0.01382, 0.75853),
            ),
        ),
    ),
    BodyRow(
        name="right_ankle_pitch_link",
        parent="right_knee_link",
        pos=(0.0, 9.4445e-05, -0.30001),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(-0.007269, 0.0, 0.011137),
        iquat_wxyz=(0.603053, 0.369225, 0.369225, 0.603053),
        mass_kg=0.074,
        diaginertia=(1.89e-05, 1.40805e-05, 6.9195e-06),
        joint=JointRow(
            name="right_ankle_pitch_joint",
            axis=(0.0, 1.0, 0.0),
            range_rad=(-0.87267, 0.5236),
            actuatorfrcrange_nm=(-50.0, 50.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.BOX,
                size=(0.0065, 0.0171, 0.0232),
                pos=(-0.0037, -0.0001, -0.0095),
                quat_wxyz=(0.67667, 0.20523, 0.20515, 0.67669),
            ),
        ),
    ),
    BodyRow(
        name="right_ankle_roll_link",
        parent="right_ankle_pitch_link",
        pos=(0.0, 0.0, -0.017558),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.026505, 0.0, -0.016425),
        iquat_wxyz=(0.000481092, 0.728482, 0.000618967, 0.685065),
        mass_kg=0.608,
        diaginertia=(0.00167218, 0.0016161, 0.000217621),
        joint=JointRow(
            name="right_ankle_roll_joint",
            axis=(1.0, 0.0, 0.0),
            range_rad=(-0.2618, 0.2618),
            actuatorfrcrange_nm=(-50.0, 50.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.BOX,
                size=(0.1041, 0.0378, 0.0295),
                pos=(0.0383, 0.0, -0.0059),
                quat_wxyz=(1.0, 0.0, 0.0, 0.0),
            ),
        ),
    ),
    BodyRow(
        name="waist_yaw_link",
        parent="pelvis",
        pos=(0.0, 0.0, 0.0),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.003494, 0.000233, 0.018034),
        iquat_wxyz=(0.289697, 0.591001, -0.337795, 0.672821),
        mass_kg=0.214,
        diaginertia=(0.000163531, 0.000107714, 0.000102205),
        joint=JointRow(
            name="waist_yaw_joint",
            axis=(0.0, 0.0, 1.0),
            range_rad=(-2.618, 2.618),
            actuatorfrcrange_nm=(-88.0, 88.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.BOX,
                size=(0.0296, 0.0425, 0.0428),
                pos=(-0.0021, 0.0, 0.0264),
                quat_wxyz=(0.00053, 0.66349, -0.00028, 0.74819),
            ),
        ),
    ),
    BodyRow(
        name="waist_roll_link",
        parent="waist_yaw_link",
        pos=(-0.0039635, 0.0, 0.044),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.0, 2.3e-05, 0.0),
        iquat_wxyz=(0.5, 0.5, -0.5, 0.5),
        mass_kg=0.086,
        diaginertia=(8.245e-06, 7.079e-06, 6.339e-06),
        joint=JointRow(
            name="waist_roll_joint",
            axis=(1.0, 0.0, 0.0),
            range_rad=(-0.52, 0.52),
            actuatorfrcrange_nm=(-50.0, 50.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.BOX,
                size=(0.01, 0.012, 0.017),
                pos=(0.0, 0.0, 0.0),
                quat_wxyz=(0.49995, 0.49996, 0.50004, 0.50005),
            ),
        ),
    ),
    BodyRow(
        name="torso_link",
        parent="waist_roll_link",
        pos=(0.0, 0.0, 0.0),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.00203158, 0.000339683, 0.184568),
        iquat_wxyz=(0.999803, -6.03319e-05, 0.0198256, 0.00131986),
        mass_kg=7.818,
        diaginertia=(0.121847, 0.109825, 0.0273735),
        joint=JointRow(
            name="waist_pitch_joint",
            axis=(0.0, 1.0, 0.0),
            range_rad=(-0.52, 0.52),
            actuatorfrcrange_nm=(-50.0, 50.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.BOX,
                size=(0.0753, 0.1077, 0.1604),
                pos=(0.0081, 0.0003, 0.1514),
                quat_wxyz=(0.99999, 0.00189, 0.00455, 0.0021),
            ),
            GeomRow(
                kind=Primitive.BOX,
                size=(0.0146, 0.0765, 0.0761),
                pos=(0.0052, -0.0026, 0.2273),
                quat_wxyz=(0.02469, 0.70804, -0.02449, 0.70531),
            ),
            GeomRow(
                kind=Primitive.BOX,
                size=(0.0697, 0.0778, 0.1039),
                pos=(0.0052, 0.0, 0.3826),
                quat_wxyz=(0.99974, 1e-05, 0.02279, 5e-05),
            ),
        ),
    ),
    BodyRow(
        name="left_shoulder_pitch_link",
        parent="torso_link",
        pos=(0.0039563, 0.10022, 0.24778),
        quat_wxyz=(0.990264, 0.139201, 1.38722e-05, -9.86868e-05),
        ipos=(0.0, 0.035892, -0.011628),
        iquat_wxyz=(0.654152, 0.0130458, -0.326267, 0.68225),
        mass_kg=0.718,
        diaginertia=(0.000465864, 0.000432842, 0.000406394),
        joint=JointRow(
            name="left_shoulder_pitch_joint",
            axis=(0.0, 1.0, 0.0),
            range_rad=(-3.0892, 2.6704),
            actuatorfrcrange_nm=(-25.0, 25.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.BOX,
                size=(0.0383, 0.0328, 0.0498),
                pos=(-0.0002, 0.0294, -0.0036),
                quat_wxyz=(0.69583, 0.20867, -0.20283, 0.65661),
            ),
        ),
    ),
    BodyRow(
        name="left_shoulder_roll_link",
        parent="left_shoulder_pitch_link",
        pos=(0.0, 0.038, -0.013831),
        quat_wxyz=(0.990268, -0.139172, 0.0, 0.0),
        ipos=(-0.000227, 0.00727, -0.063243),
        iquat_wxyz=(0.701256, -0.0196223, -0.00710317, 0.712604),
        mass_kg=0.643,
        diaginertia=(0.000691311, 0.000618011, 0.000388977),
        joint=JointRow(
            name="left_shoulder_roll_joint",
            axis=(1.0, 0.0, 0.0),
            range_rad=(-1.5882, 2.2515),
            actuatorfrcrange_nm=(-25.0, 25.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.0379, 0.0315, 0.0),
                pos=(0.0003, 0.0051, -0.0356),
                quat_wxyz=(0.70673, 0.02929, -0.02685, 0.70637),
            ),
        ),
    ),
    BodyRow(
        name="left_shoulder_yaw_link",
        parent="left_shoulder_roll_link",
        pos=(0.0, 0.00624, -0.1032),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.010773, -0.002949, -0.072009),
        iquat_wxyz=(0.716879, -0.0964829, -0.0679942, 0.687134),
        mass_kg=0.734,
        diaginertia=(0.00106187, 0.00103217, 0.000400661),
        joint=JointRow(
            name="left_shoulder_yaw_joint",
            axis=(0.0, 0.0, 1.0),
            range_rad=(-2.618, 2.618),
            actuatorfrcrange_nm=(-25.0, 25.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.0397, 0.0383, 0.0),
                pos=(0.0055, -0.0043, -0.0385),
                quat_wxyz=(0.6591, -0.12799, -0.04383, 0.73979),
            ),
        ),
    ),
    BodyRow(
        name="left_elbow_link",
        parent="left_shoulder_yaw_link",
        pos=(0.015783, 0.0, -0.080518),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.064956, 0.004454, -0.010062),
        iquat_wxyz=(0.541765, 0.636132, 0.388821, 0.388129),
        mass_kg=0.6,
        diaginertia=(0.000443035, 0.000421612, 0.000259353),
        joint=JointRow(
            name="left_elbow_joint",
            axis=(0.0, 1.0, 0.0),
            range_rad=(-1.0472, 2.0944),
            actuatorfrcrange_nm=(-25.0, 25.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.0367, 0.0331, 0.0),
                pos=(0.0386, 0.0119, -0.0077),
                quat_wxyz=(0.52961, 0.61901, 0.41662, 0.40345),
            ),
        ),
    ),
    BodyRow(
        name="left_wrist_roll_link",
        parent="left_elbow_link",
        pos=(0.1, 0.00188791, -0.01),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.0171394, 0.000537591, 4.8864e-07),
        iquat_wxyz=(0.575338, 0.411667, -0.574906, 0.411094),
        mass_kg=0.085445,
        diaginertia=(5.48211e-05, 4.96646e-05, 3.57798e-05),
        joint=JointRow(
            name="left_wrist_roll_joint",
            axis=(1.0, 0.0, 0.0),
            range_rad=(-1.97222, 1.97222),
            actuatorfrcrange_nm=(-25.0, 25.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.SPHERE,
                size=(0.0299, 0.0, 0.0),
                pos=(0.0279, -0.0005, 0.0),
                quat_wxyz=(1.0, 0.0, 0.0, 0.0),
            ),
        ),
    ),
    BodyRow(
        name="left_wrist_pitch_link",
        parent="left_wrist_roll_link",
        pos=(0.038, 0.0, 0.0),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.0229999, -0.00111685, -0.00111658),
        iquat_wxyz=(0.249998, 0.661363, 0.293036, 0.643608),
        mass_kg=0.48405,
        diaginertia=(0.000430353, 0.000429873, 0.000164648),
        joint=JointRow(
            name="left_wrist_pitch_joint",
            axis=(0.0, 1.0, 0.0),
            range_rad=(-1.61443, 1.61443),
            actuatorfrcrange_nm=(-5.0, 5.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.0329, 0.019, 0.0),
                pos=(0.023, -0.0005, -0.0005),
                quat_wxyz=(-0.26617, 0.66619, -0.25799, 0.64714),
            ),
        ),
    ),
    BodyRow(
        name="left_wrist_yaw_link",
        parent="left_wrist_pitch_link",
        pos=(0.046, 0.0, 0.0),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.0885506, 0.00212216, -0.000374562),
        iquat_wxyz=(0.487149, 0.493844, 0.513241, 0.505358),
        mass_kg=0.457415,
        diaginertia=(0.00105989, 0.000895419, 0.000323842),
        joint=JointRow(
            name="left_wrist_yaw_joint",
            axis=(0.0, 0.0, 1.0),
            range_rad=(-1.61443, 1.61443),
            actuatorfrcrange_nm=(-5.0, 5.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.SPHERE,
                size=(0.0298, 0.0, 0.0),
                pos=(0.0124, 0.001, -0.0005),
                quat_wxyz=(1.0, 0.0, 0.0, 0.0),
            ),
            GeomRow(
                kind=Primitive.BOX,
                size=(0.0213, 0.0439, 0.0439),
                pos=(0.0844, 0.0037, 0.0),
                quat_wxyz=(0.48618, 0.48544, 0.51325, 0.51434),
            ),
        ),
    ),
    BodyRow(
        name="left_hand_thumb_0_link",
        parent="left_wrist_yaw_link",
        pos=(0.067, 0.003, 0.0),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(-0.000884246, -0.00863407, 0.000944293),
        iquat_wxyz=(0.462991, 0.643965, -0.460173, 0.398986),
        mass_kg=0.0862366,
        diaginertia=(1.6546e-05, 1.60058e-05, 1.43741e-05),
        joint=JointRow(
            name="left_hand_thumb_0_joint",
            axis=(0.0, 1.0, 0.0),
            range_rad=(-1.0472, 1.0472),
            actuatorfrcrange_nm=(-2.45, 2.45),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.BOX,
                size=(0.0095, 0.0117, 0.015),
                pos=(-0.0003, -0.014, 0.0),
                quat_wxyz=(0.47587, 0.52302, -0.47587, 0.52302),
            ),
        ),
    ),
    BodyRow(
        name="left_hand_thumb_1_link",
        parent="left_hand_thumb_0_link",
        pos=(-0.0025, -0.0193, 0.0),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(-0.000827888, -0.0354744, -0.0003809),
        iquat_wxyz=(0.685598, 0.705471, -0.15207, 0.0956069),
        mass_kg=0.0588507,
        diaginertia=(1.28514e-05, 1.22902e-05, 5.9666e-06),
        joint=JointRow(
            name="left_hand_thumb_1_joint",
            axis=(0.0, 0.0, 1.0),
            range_rad=(-0.724312, 1.0472),
            actuatorfrcrange_nm=(-1.4, 1.4),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.0143, 0.0172, 0.0),
                pos=(0.0012, -0.0243, 0.0001),
                quat_wxyz=(0.71597, 0.6969, -0.04149, -0.00058),
            ),
        ),
    ),
    BodyRow(
        name="left_hand_thumb_2_link",
        parent="left_hand_thumb_1_link",
        pos=(0.0, -0.0458, 0.0),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(-0.00171735, -0.0262819, 0.000107789),
        iquat_wxyz=(0.703174, 0.710977, -0.00017564, -0.00766553),
        mass_kg=0.0203063,
        diaginertia=(4.61314e-06, 3.86645e-06, 1.53495e-06),
        joint=JointRow(
            name="left_hand_thumb_2_joint",
            axis=(0.0, 0.0, 1.0),
            range_rad=(0.0, 1.74533),
            actuatorfrcrange_nm=(-1.4, 1.4),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.0112, 0.0186, 0.0),
                pos=(-0.0001, -0.0222, -0.0006),
                quat_wxyz=(0.69403, 0.71994, -3e-05, -0.00083),
            ),
        ),
    ),
    BodyRow(
        name="left_hand_middle_0_link",
        parent="left_wrist_yaw_link",
        pos=(0.1192, 0.0046, -0.0285),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.0354744, 0.000827888, 0.0003809),
        iquat_wxyz=(0.391313, 0.552395, 0.417187, 0.606373),
        mass_kg=0.0588507,
        diaginertia=(1.28514e-05, 1.22902e-05, 5.9666e-06),
        joint=JointRow(
            name="left_hand_middle_0_joint",
            axis=(0.0, 0.0, 1.0),
            range_rad=(-1.5708, 0.0),
            actuatorfrcrange_nm=(-1.4, 1.4),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.0143, 0.0172, 0.0),
                pos=(0.0243, -0.0012, -0.0001),
                quat_wxyz=(0.46344, 0.50586, 0.50668, 0.52212),
            ),
        ),
    ),
    BodyRow(
        name="left_hand_middle_1_link",
        parent="left_hand_middle_0_link",
        pos=(0.0458, 0.0, 0.0),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.0262819, 0.00171735, -0.000107789),
        iquat_wxyz=(0.502612, 0.491799, 0.502639, 0.502861),
        mass_kg=0.0203063,
        diaginertia=(4.61314e-06, 3.86645e-06, 1.53495e-06),
        joint=JointRow(
            name="left_hand_middle_1_joint",
            axis=(0.0, 0.0, 1.0),
            range_rad=(-1.74533, 0.0),
            actuatorfrcrange_nm=(-1.4, 1.4),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.0112, 0.0186, 0.0),
                pos=(0.0222, 0.0001, 0.0006),
                quat_wxyz=(0.50905, 0.49017, 0.49134, 0.5091),
            ),
        ),
    ),
    BodyRow(
        name="left_hand_index_0_link",
        parent="left_wrist_yaw_link",
        pos=(0.1192, 0.0046, 0.0285),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.0354744, 0.000827888, 0.0003809),
        iquat_wxyz=(0.391313, 0.552395, 0.417187, 0.606373),
        mass_kg=0.0588507,
        diaginertia=(1.28514e-05, 1.22902e-05, 5.9666e-06),
        joint=JointRow(
            name="left_hand_index_0_joint",
            axis=(0.0, 0.0, 1.0),
            range_rad=(-1.5708, 0.0),
            actuatorfrcrange_nm=(-1.4, 1.4),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.0143, 0.0172, 0.0),
                pos=(0.0243, -0.0012, -0.0001),
                quat_wxyz=(0.46344, 0.50586, 0.50668, 0.52212),
            ),
        ),
    ),
    BodyRow(
        name="left_hand_index_1_link",
        parent="left_hand_index_0_link",
        pos=(0.0458, 0.0, 0.0),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.0262819, 0.00171735, -0.000107789),
        iquat_wxyz=(0.502612, 0.491799, 0.502639, 0.502861),
        mass_kg=0.0203063,
        diaginertia=(4.61314e-06, 3.86645e-06, 1.53495e-06),
        joint=JointRow(
            name="left_hand_index_1_joint",
            axis=(0.0, 0.0, 1.0),
            range_rad=(-1.74533, 0.0),
            actuatorfrcrange_nm=(-1.4, 1.4),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.0112, 0.0186, 0.0),
                pos=(0.0222, 0.0001, 0.0006),
                quat_wxyz=(0.50905, 0.49017, 0.49134, 0.5091),
            ),
        ),
    ),
    BodyRow(
        name="right_shoulder_pitch_link",
        parent="torso_link",
        pos=(0.0039563, -0.10021, 0.24778),
        quat_wxyz=(0.990264, -0.139201, 1.38722e-05, 9.86868e-05),
        ipos=(0.0, -0.035892, -0.011628),
        iquat_wxyz=(0.68225, -0.326267, 0.0130458, 0.654152),
        mass_kg=0.718,
        diaginertia=(0.000465864, 0.000432842, 0.000406394),
        joint=JointRow(
            name="right_shoulder_pitch_joint",
            axis=(0.0, 1.0, 0.0),
            range_rad=(-3.0892, 2.6704),
            actuatorfrcrange_nm=(-25.0, 25.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.BOX,
                size=(0.0383, 0.0328, 0.0498),
                pos=(-0.0002, -0.0294, -0.0036),
                quat_wxyz=(0.65645, -0.2027, 0.20879, 0.69598),
            ),
        ),
    ),
    BodyRow(
        name="right_shoulder_roll_link",
        parent="right_shoulder_pitch_link",
        pos=(0.0, -0.038, -0.013831),
        quat_wxyz=(0.990268, 0.139172, 0.0, 0.0),
        ipos=(-0.000227, -0.00727, -0.063243),
        iquat_wxyz=(0.712604, -0.00710317, -0.0196223, 0.701256),
        mass_kg=0.643,
        diaginertia=(0.000691311, 0.000618011, 0.000388977),
        joint=JointRow(
            name="right_shoulder_roll_joint",
            axis=(1.0, 0.0, 0.0),
            range_rad=(-2.2515, 1.5882),
            actuatorfrcrange_nm=(-25.0, 25.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.0379, 0.0315, 0.0),
                pos=(0.0003, -0.0051, -0.0356),
                quat_wxyz=(0.70641, -0.02686, 0.02927, 0.70669),
            ),
        ),
    ),
    BodyRow(
        name="right_shoulder_yaw_link",
        parent="right_shoulder_roll_link",
        pos=(0.0, -0.00624, -0.1032),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.010773, 0.002949, -0.072009),
        iquat_wxyz=(0.687134, -0.0679942, -0.0964829, 0.716879),
        mass_kg=0.734,
        diaginertia=(0.00106187, 0.00103217, 0.000400661),
        joint=JointRow(
            name="right_shoulder_yaw_joint",
            axis=(0.0, 0.0, 1.0),
            range_rad=(-2.618, 2.618),
            actuatorfrcrange_nm=(-25.0, 25.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.0397, 0.0383, 0.0),
                pos=(0.0055, 0.0043, -0.0385),
                quat_wxyz=(0.73975, -0.04387, -0.12799, 0.65914),
            ),
        ),
    ),
    BodyRow(
        name="right_elbow_link",
        parent="right_shoulder_yaw_link",
        pos=(0.015783, 0.0, -0.080518),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.064956, -0.004454, -0.010062),
        iquat_wxyz=(0.388129, 0.388821, 0.636132, 0.541765),
        mass_kg=0.6,
        diaginertia=(0.000443035, 0.000421612, 0.000259353),
        joint=JointRow(
            name="right_elbow_joint",
            axis=(0.0, 1.0, 0.0),
            range_rad=(-1.0472, 2.0944),
            actuatorfrcrange_nm=(-25.0, 25.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.0367, 0.0331, 0.0),
                pos=(0.0386, -0.0119, -0.0077),
                quat_wxyz=(0.40348, 0.4166, 0.61902, 0.52958),
            ),
        ),
    ),
    BodyRow(
        name="right_wrist_roll_link",
        parent="right_elbow_link",
        pos=(0.1, -0.00188791, -0.01),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.0171394, -0.000537591, 4.8864e-07),
        iquat_wxyz=(0.411667, 0.575338, -0.411094, 0.574906),
        mass_kg=0.085445,
        diaginertia=(5.48211e-05, 4.96646e-05, 3.57798e-05),
        joint=JointRow(
            name="right_wrist_roll_joint",
            axis=(1.0, 0.0, 0.0),
            range_rad=(-1.97222, 1.97222),
            actuatorfrcrange_nm=(-25.0, 25.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.SPHERE,
                size=(0.0299, 0.0, 0.0),
                pos=(0.0279, 0.0005, 0.0),
                quat_wxyz=(1.0, 0.0, 0.0, 0.0),
            ),
        ),
    ),
    BodyRow(
        name="right_wrist_pitch_link",
        parent="right_wrist_roll_link",
        pos=(0.038, 0.0, 0.0),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.0229999, 0.00111685, -0.00111658),
        iquat_wxyz=(0.643608, 0.293036, 0.661363, 0.249998),
        mass_kg=0.48405,
        diaginertia=(0.000430353, 0.000429873, 0.000164648),
        joint=JointRow(
            name="right_wrist_pitch_joint",
            axis=(0.0, 1.0, 0.0),
            range_rad=(-1.61443, 1.61443),
            actuatorfrcrange_nm=(-5.0, 5.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.0327, 0.0192, 0.0),
                pos=(0.023, 0.0005, -0.0005),
                quat_wxyz=(0.27359, 0.66318, 0.26562, 0.64404),
            ),
        ),
    ),
    BodyRow(
        name="right_wrist_yaw_link",
        parent="right_wrist_pitch_link",
        pos=(0.046, 0.0, 0.0),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.0885506, -0.00212216, -0.000374562),
        iquat_wxyz=(0.505358, 0.513241, 0.493844, 0.487149),
        mass_kg=0.457415,
        diaginertia=(0.00105989, 0.000895419, 0.000323842),
        joint=JointRow(
            name="right_wrist_yaw_joint",
            axis=(0.0, 0.0, 1.0),
            range_rad=(-1.61443, 1.61443),
            actuatorfrcrange_nm=(-5.0, 5.0),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.SPHERE,
                size=(0.0298, 0.0, 0.0),
                pos=(0.0124, -0.001, -0.0005),
                quat_wxyz=(1.0, 0.0, 0.0, 0.0),
            ),
            GeomRow(
                kind=Primitive.BOX,
                size=(0.0213, 0.0439, 0.0439),
                pos=(0.0844, -0.0037, 0.0),
                quat_wxyz=(0.51325, 0.51434, 0.48618, 0.48544),
            ),
        ),
    ),
    BodyRow(
        name="right_hand_thumb_0_link",
        parent="right_wrist_yaw_link",
        pos=(0.067, -0.003, 0.0),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(-0.000884246, 0.00863407, 0.000944293),
        iquat_wxyz=(0.643965, 0.462991, -0.398986, 0.460173),
        mass_kg=0.0862366,
        diaginertia=(1.6546e-05, 1.60058e-05, 1.43741e-05),
        joint=JointRow(
            name="right_hand_thumb_0_joint",
            axis=(0.0, 1.0, 0.0),
            range_rad=(-1.0472, 1.0472),
            actuatorfrcrange_nm=(-2.45, 2.45),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.BOX,
                size=(0.0095, 0.0117, 0.015),
                pos=(-0.0003, 0.014, 0.0),
                quat_wxyz=(0.52302, 0.47587, -0.52302, 0.47587),
            ),
        ),
    ),
    BodyRow(
        name="right_hand_thumb_1_link",
        parent="right_hand_thumb_0_link",
        pos=(-0.0025, 0.0193, 0.0),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(-0.000827888, 0.0354744, -0.0003809),
        iquat_wxyz=(0.705471, 0.685598, -0.0956069, 0.15207),
        mass_kg=0.0588507,
        diaginertia=(1.28514e-05, 1.22902e-05, 5.9666e-06),
        joint=JointRow(
            name="right_hand_thumb_1_joint",
            axis=(0.0, 0.0, 1.0),
            range_rad=(-1.0472, 0.724312),
            actuatorfrcrange_nm=(-1.4, 1.4),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.0143, 0.0172, 0.0),
                pos=(0.0012, 0.0243, -0.0001),
                quat_wxyz=(0.71597, 0.6969, 0.04149, 0.00058),
            ),
        ),
    ),
    BodyRow(
        name="right_hand_thumb_2_link",
        parent="right_hand_thumb_1_link",
        pos=(0.0, 0.0458, 0.0),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(-0.00171735, 0.0262819, 0.000107789),
        iquat_wxyz=(0.710977, 0.703174, 0.00766553, 0.00017564),
        mass_kg=0.0203063,
        diaginertia=(4.61314e-06, 3.86645e-06, 1.53495e-06),
        joint=JointRow(
            name="right_hand_thumb_2_joint",
            axis=(0.0, 0.0, 1.0),
            range_rad=(-1.74533, 0.0),
            actuatorfrcrange_nm=(-1.4, 1.4),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.0112, 0.0186, 0.0),
                pos=(-0.0001, 0.0222, 0.0006),
                quat_wxyz=(0.69403, 0.71994, 3e-05, 0.00083),
            ),
        ),
    ),
    BodyRow(
        name="right_hand_middle_0_link",
        parent="right_wrist_yaw_link",
        pos=(0.1192, -0.0046, -0.0285),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.0354744, -0.000827888, 0.0003809),
        iquat_wxyz=(0.606373, 0.417187, 0.552395, 0.391313),
        mass_kg=0.0588507,
        diaginertia=(1.28514e-05, 1.22902e-05, 5.9666e-06),
        joint=JointRow(
            name="right_hand_middle_0_joint",
            axis=(0.0, 0.0, 1.0),
            range_rad=(0.0, 1.5708),
            actuatorfrcrange_nm=(-1.4, 1.4),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.0143, 0.0172, 0.0),
                pos=(0.0243, 0.0012, 0.0001),
                quat_wxyz=(0.50668, 0.52212, 0.46344, 0.50586),
            ),
        ),
    ),
    BodyRow(
        name="right_hand_middle_1_link",
        parent="right_hand_middle_0_link",
        pos=(0.0458, 0.0, 0.0),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.0262819, -0.00171735, -0.000107789),
        iquat_wxyz=(0.502861, 0.502639, 0.491799, 0.502612),
        mass_kg=0.0203063,
        diaginertia=(4.61314e-06, 3.86645e-06, 1.53495e-06),
        joint=JointRow(
            name="right_hand_middle_1_joint",
            axis=(0.0, 0.0, 1.0),
            range_rad=(0.0, 1.74533),
            actuatorfrcrange_nm=(-1.4, 1.4),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.0112, 0.0186, 0.0),
                pos=(0.0222, -0.0001, -0.0006),
                quat_wxyz=(0.49134, 0.5091, 0.50905, 0.49017),
            ),
        ),
    ),
    BodyRow(
        name="right_hand_index_0_link",
        parent="right_wrist_yaw_link",
        pos=(0.1192, -0.0046, 0.0285),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.0354744, -0.000827888, 0.0003809),
        iquat_wxyz=(0.606373, 0.417187, 0.552395, 0.391313),
        mass_kg=0.0588507,
        diaginertia=(1.28514e-05, 1.22902e-05, 5.9666e-06),
        joint=JointRow(
            name="right_hand_index_0_joint",
            axis=(0.0, 0.0, 1.0),
            range_rad=(0.0, 1.5708),
            actuatorfrcrange_nm=(-1.4, 1.4),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.0143, 0.0172, 0.0),
                pos=(0.0243, 0.0012, 0.0001),
                quat_wxyz=(0.50668, 0.52212, 0.46344, 0.50586),
            ),
        ),
    ),
    BodyRow(
        name="right_hand_index_1_link",
        parent="right_hand_index_0_link",
        pos=(0.0458, 0.0, 0.0),
        quat_wxyz=(1.0, 0.0, 0.0, 0.0),
        ipos=(0.0262819, -0.00171735, -0.000107789),
        iquat_wxyz=(0.502861, 0.502639, 0.491799, 0.502612),
        mass_kg=0.0203063,
        diaginertia=(4.61314e-06, 3.86645e-06, 1.53495e-06),
        joint=JointRow(
            name="right_hand_index_1_joint",
            axis=(0.0, 0.0, 1.0),
            range_rad=(0.0, 1.74533),
            actuatorfrcrange_nm=(-1.4, 1.4),
        ),
        geoms=(
            GeomRow(
                kind=Primitive.CAPSULE,
                size=(0.0112, 0.0186, 0.0),
                pos=(0.0222, -0.0001, -0.0006),
                quat_wxyz=(0.49134, 0.5091, 0.50905, 0.49017),
            ),
        ),
    ),
)
"""Bodies parent-first, in the official tree order (MuJoCo body order)."""

SITES: tuple[SiteRow, ...] = (
    SiteRow(name="imu_in_pelvis", body="pelvis", pos=(0.04525, 0.0, -0.08339)),
    SiteRow(name="imu_in_torso", body="torso_link", pos=(-0.03959, -0.00224, 0.14792)),
    SiteRow(name="head", body="torso_link", pos=(0.00765, 2e-05, 0.38513)),
)

ACTUATOR_JOINTS: tuple[str, ...] = (
    "left_hip_pitch_joint",
    "left_hip_roll_joint",
    "left_hip_yaw_joint",
    "left_knee_joint",
    "left_ankle_pitch_joint",
    "left_ankle_roll_joint",
    "right_hip_pitch_joint",
    "right_hip_roll_joint",
    "right_hip_yaw_joint",
    "right_knee_joint",
    "right_ankle_pitch_joint",
    "right_ankle_roll_joint",
    "waist_yaw_joint",
    "waist_roll_joint",
    "waist_pitch_joint",
    "left_shoulder_pitch_joint",
    "left_shoulder_roll_joint",
    "left_shoulder_yaw_joint",
    "left_elbow_joint",
    "left_wrist_roll_joint",
    "left_wrist_pitch_joint",
    "left_wrist_yaw_joint",
    "left_hand_thumb_0_joint",
    "left_hand_thumb_1_joint",
    "left_hand_thumb_2_joint",
    "left_hand_middle_0_joint",
    "left_hand_middle_1_joint",
    "left_hand_index_0_joint",
    "left_hand_index_1_joint",
    "right_shoulder_pitch_joint",
    "right_shoulder_roll_joint",
    "right_shoulder_yaw_joint",
    "right_elbow_joint",
    "right_wrist_roll_joint",
    "right_wrist_pitch_joint",
    "right_wrist_yaw_joint",
    "right_hand_thumb_0_joint",
    "right_hand_thumb_1_joint",
    "right_hand_thumb_2_joint",
    "right_hand_index_0_joint",
    "right_hand_index_1_joint",
    "right_hand_middle_0_joint",
    "right_hand_middle_1_joint",
)
"""Joint of each ``motor`` actuator, in the official actuator order."""
