"""SONIC's observation layouts: one table per model input, offsets derived from the tables.

Each table lists ``(term, width)`` in the order the released ``observation_config.yaml`` files
concatenate them (../shared/reference/sonic-deploy.md §2). Offsets are computed by summing
widths, never typed, and each encoder table's total is checked against the model contract's
width at import. Term names follow SONIC's ``{base}_{N}frame_step{S}`` convention: N frames
starting at the current one, S control ticks apart; frame counts and steps are parsed from the
names, so the table is the single source.

Two encoder modes are written by this runtime, each filling only its own terms; every other
term stays zero, as SONIC's deploy zero-fills the terms of modes it is not in:

- SMPL mode (mode slot ``[2, 0, 0, 0]``): SMPL joints, SMPL anchor orientation, wrist angles;
- G1 mode (``[0, 0, 0, 0]``, for G1 joint references such as protocol v1 streams): absolute
  joint positions and velocities (IsaacLab order), the anchor orientation over the window and
  at the current frame, and the reference root height where the checkpoint has it.

Provenance of the variant tables: the 1762 release order is in the reference notes; the v1.1
(1751) and low-latency (1247) orders are the release order minus the root-z terms, with the
heading-only anchor names in v1.1 and step-1 G1 terms plus a 4-frame SMPL window in low latency.
The totals match the published widths, and the resulting SMPL offsets (v1.1 ``[911:1631]``,
``[1631:1691]``, ``[1691:1751]``) match several public re-implementations of the deploy code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from models.contracts import SONIC_DECODER_INPUT_DIM, EncoderVariant

_WINDOW = re.compile(r"_(\d+)frame_step(\d+)$")


@dataclass(frozen=True)
class ObsLayout:
    """An input vector as named consecutive slices."""

    terms: tuple[tuple[str, int], ...]

    @property
    def width(self) -> int:
        return sum(width for _, width in self.terms)

    def slice(self, name: str) -> slice:
        start = 0
        for term, width in self.terms:
            if term == name:
                return slice(start, start + width)
            start += width
        raise KeyError(f"no observation term {name!r}")


def window(name: str) -> tuple[int, int]:
    """``(frames, step)`` of a windowed term name, e.g. ``..._10frame_step1`` -> (10, 1)."""
    match = _WINDOW.search(name)
    if match is None:
        raise ValueError(f"{name!r} is not a windowed term")
    return int(match.group(1)), int(match.group(2))


@dataclass(frozen=True)
class SmplModeTerms:
    """Which encoder terms SMPL mode (mode id 2) fills, for one checkpoint."""

    mode: str
    joints: str
    anchor: str
    wrists: str
    anchor_heading_only: bool
    """True for ``*_heading_*`` anchors: the robot orientation enters as its yaw only."""

    @property
    def frames(self) -> int:
        return window(self.joints)[0]

    @property
    def step(self) -> int:
        return window(self.joints)[1]


@dataclass(frozen=True)
class G1ModeTerms:
    """Which encoder terms G1 mode (mode id 0) fills, for one checkpoint."""

    joints: str
    velocities: str
    anchor: str
    """The anchor orientation over the window (``..._10frame_stepS``)."""
    anchor_now: str
    """The anchor orientation at the current frame (6)."""
    root_z: str | None = None
    """Reference root height over the window (release checkpoint only)."""
    root_z_now: str | None = None

    @property
    def frames(self) -> int:
        return window(self.joints)[0]

    @property
    def step(self) -> int:
        return window(self.joints)[1]


@dataclass(frozen=True)
class EncoderObsConfig:
    variant: EncoderVariant
    layout: ObsLayout
    smpl: SmplModeTerms
    g1: G1ModeTerms


SMPL_MODE_ID = 2
"""Encoder selector value for SMPL mode (0 = G1, 1 = teleop, 2 = SMPL)."""
G1_MODE_ID = 0
NUM_SMPL_JOINTS = 24
NUM_WRIST_JOINTS = 6

_COMMON_HEAD = (("encoder_mode_4", 4),)
_VR = (("vr_3point_local_target", 9), ("vr_3point_local_orn_target", 12))

_RELEASE = ObsLayout(
    (
        *_COMMON_HEAD,
        ("motion_joint_positions_10frame_step5", 290),
        ("motion_joint_velocities_10frame_step5", 290),
        ("motion_root_z_position_10frame_step5", 10),
        ("motion_root_z_position", 1),
        ("motion_anchor_orientation", 6),
        ("motion_anchor_orientation_10frame_step5", 60),
        ("motion_joint_positions_lowerbody_10frame_step5", 120),
        ("motion_joint_velocities_lowerbody_10frame_step5", 120),
        *_VR,
        ("smpl_joints_10frame_step1", 720),
        ("smpl_anchor_orientation_10frame_step1", 60),
        ("motion_joint_positions_wrists_10frame_step1", 60),
    )
)

_V1_1 = ObsLayout(
    (
        *_COMMON_HEAD,
        ("motion_joint_positions_10frame_step5", 290),
        ("motion_joint_velocities_10frame_step5", 290),
        ("motion_anchor_orientation_heading_10frame_step5", 60),
        ("motion_anchor_orientation_heading", 6),
        ("motion_joint_positions_lowerbody_10frame_step5", 120),
        ("motion_joint_velocities_lowerbody_10frame_step5", 120),
        *_VR,
        ("smpl_joints_10frame_step1", 720),
        ("smpl_anchor_orientation_heading_10frame_step1", 60),
        ("motion_joint_positions_wrists_10frame_step1", 60),
    )
)

_LOW_LATENCY = ObsLayout(
    (
        *_COMMON_HEAD,
        ("motion_joint_positions_10frame_step1", 290),
        ("motion_joint_velocities_10frame_step1", 290),
        ("motion_anchor_orientation_10frame_step1", 60),
        ("motion_anchor_orientation", 6),
        ("motion_joint_positions_lowerbody_10frame_step1", 120),
        ("motion_joint_velocities_lowerbody_10frame_step1", 120),
        *_VR,
        ("smpl_joints_4frame_step1", 288),
        ("smpl_anchor_orientation_4frame_step1", 24),
        ("motion_joint_positions_wrists_4frame_step1", 24),
    )
)


def _config(
    variant: EncoderVariant, layout: ObsLayout, smpl: SmplModeTerms, g1: G1ModeTerms
) -> EncoderObsConfig:
    if layout.width != variant.input_width:
        raise ValueError(f"{variant.value} layout sums to {layout.width}, "
                         f"the contract says {variant.input_width}")  # fmt: skip
    frames, step = smpl.frames, smpl.step
    per_frame = {smpl.joints: 3 * NUM_SMPL_JOINTS, smpl.anchor: 6, smpl.wrists: NUM_WRIST_JOINTS}
    for term, width in per_frame.items():
        span = layout.slice(term)
        if window(term) != (frames, step) or span.stop - span.start != width * frames:
            raise ValueError(f"{variant.value}: term {term} does not hold {frames} frames")
    mode = layout.slice(smpl.mode)
    if mode.stop - mode.start != 4:
        raise ValueError(f"{variant.value}: mode slot {smpl.mode} is not 4 wide")
    g1_widths = {g1.joints: 29, g1.velocities: 29, g1.anchor: 6}
    if g1.root_z is not None:
        g1_widths[g1.root_z] = 1
    for term, width in g1_widths.items():
        span = layout.slice(term)
        if window(term) != (g1.frames, g1.step) or span.stop - span.start != width * g1.frames:
            raise ValueError(f"{variant.value}: term {term} does not hold {g1.frames} frames")
    singles: list[tuple[str | None, int]] = [(g1.anchor_now, 6), (g1.root_z_now, 1)]
    for single, width in singles:
        if single is not None and layout.slice(single).stop - layout.slice(single).start != width:
            raise ValueError(f"{variant.value}: term {single} is not {width} wide")
    return EncoderObsConfig(variant, layout, smpl, g1)


ENCODER_CONFIGS: dict[EncoderVariant, EncoderObsConfig] = {
    EncoderVariant.RELEASE: _config(
        EncoderVariant.RELEASE,
        _RELEASE,
        SmplModeTerms(
            mode="encoder_mode_4",
            joints="smpl_joints_10frame_step1",
            anchor="smpl_anchor_orientation_10frame_step1",
            wrists="motion_joint_positions_wrists_10frame_step1",
            anchor_heading_only=False,
        ),
        G1ModeTerms(
            joints="motion_joint_positions_10frame_step5",
            velocities="motion_joint_velocities_10frame_step5",
            anchor="motion_anchor_orientation_10frame_step5",
            anchor_now="motion_anchor_orientation",
            root_z="motion_root_z_position_10frame_step5",
            root_z_now="motion_root_z_position",
        ),
    ),
    EncoderVariant.V1_1: _config(
        EncoderVariant.V1_1,
        _V1_1,
        SmplModeTerms(
            mode="encoder_mode_4",
            joints="smpl_joints_10frame_step1",
            anchor="smpl_anchor_orientation_heading_10frame_step1",
            wrists="motion_joint_positions_wrists_10frame_step1",
            anchor_heading_only=True,
        ),
        G1ModeTerms(
            joints="motion_joint_positions_10frame_step5",
            velocities="motion_joint_velocities_10frame_step5",
            anchor="motion_anchor_orientation_heading_10frame_step5",
            anchor_now="motion_anchor_orientation_heading",
        ),
    ),
    EncoderVariant.LOW_LATENCY: _config(
        EncoderVariant.LOW_LATENCY,
        _LOW_LATENCY,
        SmplModeTerms(
            mode="encoder_mode_4",
            joints="smpl_joints_4frame_step1",
            anchor="smpl_anchor_orientation_4frame_step1",
            wrists="motion_joint_positions_wrists_4frame_step1",
            anchor_heading_only=False,
        ),
        G1ModeTerms(
            joints="motion_joint_positions_10frame_step1",
            velocities="motion_joint_velocities_10frame_step1",
            anchor="motion_anchor_orientation_10frame_step1",
            anchor_now="motion_anchor_orientation",
        ),
    ),
}

DECODER_LAYOUT = ObsLayout(
    (
        ("token_state", 64),
        ("his_base_angular_velocity_10frame_step1", 30),
        ("his_body_joint_positions_10frame_step1", 290),
        ("his_body_joint_velocities_10frame_step1", 290),
        ("his_last_actions_10frame_step1", 290),
        ("his_gravity_dir_10frame_step1", 30),
    )
)
"""Decoder input: the token, then five 10-tick histories, each oldest first (term-major)."""
DECODER_HISTORY_TERMS = DECODER_LAYOUT.terms[1:]
DECODER_HISTORY_TICKS = 10

if DECODER_LAYOUT.width != SONIC_DECODER_INPUT_DIM:
    raise ValueError(f"decoder layout sums to {DECODER_LAYOUT.width}")
