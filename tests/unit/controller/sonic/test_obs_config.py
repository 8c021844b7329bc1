"""The observation tables give the offsets SONIC documents (pure data, nothing faked).

Expected numbers are typed here from ../shared/reference/sonic-deploy.md §2 (and, for v1.1 and
low latency, from the widths plus public re-implementations), independently of the tables.
"""

from __future__ import annotations

import pytest

from controller.sonic.obs_config import DECODER_LAYOUT, ENCODER_CONFIGS, window
from models.contracts import EncoderVariant


def test_decoder_slices_match_the_documented_layout() -> None:
    names = [name for name, _ in DECODER_LAYOUT.terms]
    spans = [(DECODER_LAYOUT.slice(n).start, DECODER_LAYOUT.slice(n).stop) for n in names]
    assert spans == [(0, 64), (64, 94), (94, 384), (384, 674), (674, 964), (964, 994)]
    assert names[1:] == [
        "his_base_angular_velocity_10frame_step1",
        "his_body_joint_positions_10frame_step1",
        "his_body_joint_velocities_10frame_step1",
        "his_last_actions_10frame_step1",
        "his_gravity_dir_10frame_step1",
    ]


@pytest.mark.parametrize(
    ("variant", "joints", "anchor", "wrists", "frames"),
    [
        (EncoderVariant.RELEASE, (922, 1642), (1642, 1702), (1702, 1762), 10),
        (EncoderVariant.V1_1, (911, 1631), (1631, 1691), (1691, 1751), 10),
        (EncoderVariant.LOW_LATENCY, (911, 1199), (1199, 1223), (1223, 1247), 4),
    ],
)
def test_smpl_mode_slices_per_variant(
    variant: EncoderVariant,
    joints: tuple[int, int],
    anchor: tuple[int, int],
    wrists: tuple[int, int],
    frames: int,
) -> None:
    config = ENCODER_CONFIGS[variant]
    layout, smpl = config.layout, config.smpl
    assert layout.width == variant.input_width
    assert layout.slice(smpl.mode) == slice(0, 4)
    assert (layout.slice(smpl.joints).start, layout.slice(smpl.joints).stop) == joints
    assert (layout.slice(smpl.anchor).start, layout.slice(smpl.anchor).stop) == anchor
    assert (layout.slice(smpl.wrists).start, layout.slice(smpl.wrists).stop) == wrists
    assert (smpl.frames, smpl.step) == (frames, 1)


def test_only_v1_1_uses_the_heading_only_anchor() -> None:
    heading = {v: c.smpl.anchor_heading_only for v, c in ENCODER_CONFIGS.items()}
    assert heading == {
        EncoderVariant.RELEASE: False,
        EncoderVariant.V1_1: True,
        EncoderVariant.LOW_LATENCY: False,
    }


def test_window_is_parsed_from_the_term_name() -> None:
    assert window("motion_joint_positions_10frame_step5") == (10, 5)
    assert window("smpl_joints_4frame_step1") == (4, 1)
    with pytest.raises(ValueError, match="not a windowed term"):
        window("encoder_mode_4")


def test_unknown_term_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="no observation term"):
        DECODER_LAYOUT.slice("smpl_joints_10frame_step1")
