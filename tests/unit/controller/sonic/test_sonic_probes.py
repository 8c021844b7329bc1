"""Probe models: every observation term lands at its documented offset, order and sign.

Real: the SONIC policy end to end on ONNX Runtime CPU. The models are "probes" built with the
``onnx`` helper API: linear read-outs whose output ``j`` is input element ``indices[j]``, so the
action (decoder probe) or the token (encoder probe) shows exactly what sat at those offsets.
Offsets are typed from the reference notes, not taken from the layout tables.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pytest

from controller.embodiment.g1 import ACTION_SCALE, HW_TO_ISAAC, ISAAC_TO_HW, Q_DEFAULT
from controller.robot.base import RobotCommand
from controller.sonic.policy import SonicPolicy
from models import EncoderVariant, Session
from tests.unit.controller.sonic.sonic_helpers import make_state, make_track

DecoderProbe = Callable[[Sequence[int | Sequence[int]]], Session]
EncoderProbe = Callable[[EncoderVariant, Sequence[int]], Session]

JOINT_POS, JOINT_VEL, LAST_ACTION, GRAVITY, ANG_VEL = 94, 384, 674, 964, 64


def _newest(offset: int, width: int) -> list[int]:
    """Indices of the newest (10th) frame of a 10-frame history starting at ``offset``."""
    return list(range(offset + 9 * width, offset + 10 * width))


def _action(policy: SonicPolicy) -> np.ndarray:
    return np.asarray(policy.last_action_isaac, dtype=np.float64)


def test_joint_position_term_newest_frame(decoder_probe: DecoderProbe) -> None:
    """action = obs[355:384] = (q - default) in IsaacLab order; the step maps it back."""
    policy = SonicPolicy(decoder=decoder_probe(_newest(JOINT_POS, 29)), encoder=None)
    state = make_state(5)
    policy.start(make_track(), state)
    out = RobotCommand()
    policy.step(state, 0, out)
    expected_isaac = state.q[ISAAC_TO_HW] - Q_DEFAULT[ISAAC_TO_HW]
    np.testing.assert_allclose(_action(policy), expected_isaac, atol=1e-6)
    # Hardware order again after the action mapping: default + scale * (q - default).
    np.testing.assert_allclose(out.q, Q_DEFAULT + ACTION_SCALE * (state.q - Q_DEFAULT), atol=1e-6)


@pytest.mark.parametrize("frame", range(10))
def test_joint_velocity_history_after_three_ticks(decoder_probe: DecoderProbe, frame: int) -> None:
    """Frames 0-6 zero (padding, oldest side), 7-9 the three ticks oldest -> newest."""
    indices = list(range(JOINT_VEL + 29 * frame, JOINT_VEL + 29 * (frame + 1)))
    policy = SonicPolicy(decoder=decoder_probe(indices), encoder=None)
    states = [make_state(seed) for seed in (21, 22, 23)]
    policy.start(make_track(), states[0])
    out = RobotCommand()
    for tick, state in enumerate(states):
        policy.step(state, tick, out)
    expected = np.zeros(29) if frame < 7 else states[frame - 7].dq[ISAAC_TO_HW]
    np.testing.assert_allclose(_action(policy), expected, atol=1e-5)


def test_last_action_feeds_back_into_the_newest_slot(decoder_probe: DecoderProbe) -> None:
    """Probe: action = (q - default)[newest] + last_action[newest], element-wise in IsaacLab
    order, so with e_t = (q_t - default) the actions accumulate: a_t = e_0 + ... + e_t."""
    indices = list(zip(_newest(JOINT_POS, 29), _newest(LAST_ACTION, 29), strict=True))
    policy = SonicPolicy(decoder=decoder_probe(indices), encoder=None)
    states = [make_state(seed) for seed in (31, 32, 33)]
    policy.start(make_track(), states[0])
    out = RobotCommand()
    total = np.zeros(29)
    for tick, state in enumerate(states):
        policy.step(state, tick, out)
        total += state.q[ISAAC_TO_HW] - Q_DEFAULT[ISAAC_TO_HW]
        np.testing.assert_allclose(_action(policy), total, atol=1e-5)


@pytest.mark.parametrize(("pitch", "gravity_x"), [(0.4, math.sin(0.4)), (-0.2, -math.sin(0.2))])
def test_gravity_and_angular_velocity_terms(
    decoder_probe: DecoderProbe, pitch: float, gravity_x: float
) -> None:
    """Tilted pelvis: gravity (sin θ, 0, -cos θ) in the pelvis frame; gyro copied as is."""
    indices = _newest(GRAVITY, 3) + _newest(ANG_VEL, 3)
    policy = SonicPolicy(decoder=decoder_probe(indices), encoder=None)
    state = make_state(7, yaw=2.0, pitch=pitch)
    policy.start(make_track(), state)
    policy.step(state, 0, RobotCommand())
    action = _action(policy)
    np.testing.assert_allclose(action[:3], [gravity_x, 0.0, -math.cos(pitch)], atol=1e-6)
    np.testing.assert_allclose(action[3:6], state.imu_gyro_b, atol=1e-6)
    assert not action[6:].any()


def test_token_slot_in_token_mode(decoder_probe: DecoderProbe) -> None:
    """Token mode: the supplied token sits at obs[0:64]; the encoder is not needed."""
    policy = SonicPolicy(decoder=decoder_probe(list(range(29))), encoder=None)
    token = np.linspace(-1.0, 1.0, 64)
    policy.set_token(token)
    state = make_state(1)
    policy.start(make_track(), state)
    policy.step(state, 0, RobotCommand())
    np.testing.assert_allclose(_action(policy), token[:29], atol=1e-6)


@pytest.mark.parametrize(
    ("variant", "anchor", "wrists"),
    [
        (EncoderVariant.RELEASE, 1642, 1702),
        (EncoderVariant.V1_1, 1631, 1691),
        (EncoderVariant.LOW_LATENCY, 1199, 1223),
    ],
)
def test_encoder_mode_anchor_and_wrists_for_a_yawed_robot(
    decoder_probe: DecoderProbe,
    encoder_probe: EncoderProbe,
    variant: EncoderVariant,
    anchor: int,
    wrists: int,
) -> None:
    """Robot plays its first tick at yaw 0, then stands yawed +90°; flat reference: every window
    frame's anchor is R_z(-90°) -> 6-D [0, 1, -1, 0, 0, 0]. Wrists are IsaacLab 23..28."""
    frames = 4 if variant is EncoderVariant.LOW_LATENCY else 10
    # token = mode(4) | anchor frames 0 and last (12) | wrists frames 0 and last (12)
    indices = [0, 1, 2, 3]
    indices += list(range(anchor, anchor + 6)) + list(
        range(anchor + 6 * (frames - 1), anchor + 6 * frames)
    )
    indices += list(range(wrists, wrists + 6)) + list(
        range(wrists + 6 * (frames - 1), wrists + 6 * frames)
    )
    policy = SonicPolicy(
        decoder=decoder_probe(list(range(29))), encoder=encoder_probe(variant, indices)
    )
    track = make_track(frames=40, root_yaws=[0.0] * 40, root_pitch=0.0)
    policy.start(track, make_state(0, yaw=0.0))
    policy.step(make_state(0, yaw=0.0), 19, RobotCommand())  # heading aligned on this tick
    policy.step(make_state(1, yaw=math.pi / 2), 20, RobotCommand())
    token = np.asarray(policy.token, dtype=np.float64)
    np.testing.assert_array_equal(token[:4], [2.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(token[4:16], [0, 1, -1, 0, 0, 0] * 2, atol=1e-6)
    wrist_isaac = track.q_hw[:, ISAAC_TO_HW[23:29]]
    np.testing.assert_allclose(token[16:22], wrist_isaac[20], atol=1e-6)
    np.testing.assert_allclose(token[22:28], wrist_isaac[20 + frames - 1], atol=1e-6)
    np.testing.assert_allclose(token[28:], 0.0, atol=0)


@pytest.mark.parametrize(
    ("variant", "joints"), [(EncoderVariant.RELEASE, 922), (EncoderVariant.V1_1, 911)]
)
def test_smpl_joint_window_clamps_past_the_end(
    decoder_probe: DecoderProbe, encoder_probe: EncoderProbe, variant: EncoderVariant, joints: int
) -> None:
    """At frame 27 of a 30-frame track the 10-frame window is 27, 28, 29, 29, ..., 29."""
    window_frames = [0, 1, 2, 3, 9]
    indices = [joints + 72 * k + 5 for k in window_frames]  # joint 1, axis z of each frame
    indices += list(range(joints - 30, joints - 1))  # VR/teleop terms before: must stay zero
    policy = SonicPolicy(
        decoder=decoder_probe(list(range(29))), encoder=encoder_probe(variant, indices)
    )
    track = make_track(frames=30)
    policy.start(track, make_state(0))
    policy.step(make_state(1), 27, RobotCommand())
    token = np.asarray(policy.token, dtype=np.float64)
    expected = [track.smpl_joints_local[min(27 + k, 29), 1, 2] for k in window_frames]
    np.testing.assert_allclose(token[:5], expected, atol=1e-5)
    assert not token[5 : 5 + 29].any()


def test_decoder_action_maps_isaaclab_to_hardware_order(decoder_probe: DecoderProbe) -> None:
    """A token of IsaacLab indices becomes targets where hardware joint i gets isaac index."""
    policy = SonicPolicy(decoder=decoder_probe(list(range(29))), encoder=None)
    policy.set_token(np.arange(64, dtype=np.float64))  # action_isaac[k] = k
    out = RobotCommand()
    state = make_state(2)
    policy.start(make_track(), state)
    policy.step(state, 0, out)
    isaac_index_of_hw = (out.q - Q_DEFAULT) / ACTION_SCALE
    np.testing.assert_allclose(isaac_index_of_hw, HW_TO_ISAAC, atol=1e-5)
