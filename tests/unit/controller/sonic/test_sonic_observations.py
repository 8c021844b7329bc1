"""Preallocated observation builders against the naive reference builder and hand-computed values.

Real: the policy's builders (``SonicPolicy.build_observations``), the naive builder
(``controller.sonic.reference_obs``), the layout tables. The models are tiny random ONNX files on
ONNX Runtime CPU, only needed to construct the policy; no inference result is checked here.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from controller.embodiment.g1 import ISAAC_TO_HW, Q_DEFAULT
from controller.sonic.obs_config import DECODER_LAYOUT, ENCODER_CONFIGS
from controller.sonic.policy import SonicPolicy
from controller.sonic.reference_obs import NaiveObservationBuilder
from models import EncoderVariant, SessionConfig, open_session
from models.session import BackendKind
from tests.unit.controller.sonic.sonic_helpers import make_state, make_track, yaw_pitch_quat

CPU = SessionConfig(backend=BackendKind.ORT_CPU)


def _policy(models: dict[str, Path], variant: EncoderVariant) -> SonicPolicy:
    decoder = open_session(models["decoder"], model="sonic_decoder", config=CPU)
    encoder = open_session(models[variant.value], model="sonic_encoder", config=CPU)
    return SonicPolicy(decoder=decoder, encoder=encoder)


@pytest.mark.parametrize("variant", list(EncoderVariant))
def test_preallocated_builder_matches_naive_builder(
    small_models: dict[str, Path], variant: EncoderVariant
) -> None:
    """Same states in, same floats out, for every variant, across the track end (clamping)."""
    policy = _policy(small_models, variant)
    naive = NaiveObservationBuilder(ENCODER_CONFIGS[variant])
    track = make_track(frames=15)
    start_state = make_state(0, yaw=0.7, pitch=0.1)
    policy.start(track, start_state)
    naive.start(track, start_state)
    token = np.zeros(64, dtype=np.float32)
    for tick in range(14):  # > 10 ticks (history full) and frames past the 15-frame end
        state = make_state(tick + 1, yaw=0.7 + 0.1 * tick, pitch=0.05 * tick)
        frame = tick + 3
        assert policy.build_observations(state, frame)
        expected_encoder = naive.encoder_obs(state, frame)
        expected_decoder = naive.decoder_obs(state, token, policy.last_action_isaac)
        assert policy.encoder_input is not None
        np.testing.assert_allclose(policy.encoder_input, expected_encoder, atol=2e-6)
        np.testing.assert_allclose(policy.decoder_input, expected_decoder, atol=2e-6)


def test_history_after_three_ticks_is_zero_padded_oldest_first(
    small_models: dict[str, Path],
) -> None:
    policy = _policy(small_models, EncoderVariant.RELEASE)
    policy.start(make_track(), make_state(0))
    states = [make_state(seed) for seed in (11, 12, 13)]
    for tick, state in enumerate(states):
        policy.build_observations(state, tick)
    obs = policy.decoder_input[0]
    dq = obs[DECODER_LAYOUT.slice("his_body_joint_velocities_10frame_step1")].reshape(10, 29)
    gyro = obs[DECODER_LAYOUT.slice("his_base_angular_velocity_10frame_step1")].reshape(10, 3)
    assert not dq[:7].any()
    assert not gyro[:7].any()
    for row, state in zip(range(7, 10), states, strict=True):
        np.testing.assert_allclose(dq[row], state.dq[ISAAC_TO_HW], rtol=1e-6)
        np.testing.assert_allclose(gyro[row], state.imu_gyro_b, rtol=1e-6)


def test_joint_positions_are_isaaclab_order_minus_default(small_models: dict[str, Path]) -> None:
    policy = _policy(small_models, EncoderVariant.RELEASE)
    state = make_state(3)
    state.q[:] = Q_DEFAULT
    state.q[21] += 0.5  # hardware 21 = left wrist yaw = IsaacLab 27
    policy.start(make_track(), state)
    policy.build_observations(state, 0)
    joint_pos = policy.decoder_input[0][94:384].reshape(10, 29)
    expected = np.zeros(29)
    expected[27] = 0.5
    np.testing.assert_allclose(joint_pos[-1], expected, atol=1e-7)


@pytest.mark.parametrize("pitch", [0.3, -0.6])
def test_gravity_direction_of_a_tilted_pelvis(small_models: dict[str, Path], pitch: float) -> None:
    """Pelvis pitched by +θ about y sees gravity at (sin θ, 0, -cos θ) in its own frame."""
    policy = _policy(small_models, EncoderVariant.RELEASE)
    state = make_state(4, yaw=1.2, pitch=pitch)  # yaw must not matter
    policy.start(make_track(), state)
    policy.build_observations(state, 0)
    gravity = policy.decoder_input[0][964:994].reshape(10, 3)[-1]
    np.testing.assert_allclose(gravity, [math.sin(pitch), 0.0, -math.cos(pitch)], atol=1e-6)


def test_anchor_follows_the_robot_turning_after_heading_alignment(
    small_models: dict[str, Path],
) -> None:
    """Reference root fixed at yaw 0; robot plays the first tick at yaw 0, then turns to +90°:
    the reference, seen from the robot, is then at -90° (6-D of R_z(-90°) = [0, 1, -1, 0, 0,
    0])."""
    policy = _policy(small_models, EncoderVariant.RELEASE)
    track = make_track(frames=12, root_yaws=[0.0] * 12, root_pitch=0.0)
    policy.start(track, make_state(0, yaw=0.0))
    policy.build_observations(make_state(0, yaw=0.0), 0)  # first tick: heading aligned here
    policy.build_observations(make_state(1, yaw=math.pi / 2), 1)
    assert policy.encoder_input is not None
    anchor = policy.encoder_input[0][1642:1702].reshape(10, 6)
    np.testing.assert_allclose(anchor, np.tile([0, 1, -1, 0, 0, 0], (10, 1)), atol=1e-6)


def test_heading_alignment_cancels_the_initial_yaw(small_models: dict[str, Path]) -> None:
    """Robot yawed 90° when playback starts at frame 5 of a turning reference: the anchor shows
    only the reference's own turn since frame 5 (SONIC aligns heading when playback starts)."""
    policy = _policy(small_models, EncoderVariant.RELEASE)
    yaws = np.linspace(0.0, 0.9, 20)
    track = make_track(frames=20, root_yaws=list(yaws))
    start = make_state(0, yaw=math.pi / 2)
    policy.start(track, start)
    policy.build_observations(start, 5)
    assert policy.heading_offset_rad == pytest.approx(math.pi / 2 - yaws[5])
    assert policy.encoder_input is not None
    anchor = policy.encoder_input[0][1642:1702].reshape(10, 6)
    for k in range(10):
        turn = yaws[5 + k] - yaws[5]
        # R_z(-90°) · R_z(90° - yaw_5) · R_z(yaw_5+k) R_y(0.05) = R_z(turn) R_y(0.05)
        c, s, cp, sp = math.cos(turn), math.sin(turn), math.cos(0.05), math.sin(0.05)
        rotation = np.array([[c * cp, -s, c * sp], [s * cp, c, s * sp], [-sp, 0.0, cp]])
        np.testing.assert_allclose(anchor[k], rotation[:, :2].reshape(6), atol=1e-6)
    # Later ticks keep the offset: the robot turning now shows up in the anchor.
    policy.build_observations(make_state(1, yaw=math.pi / 2 + 0.3), 5)
    assert policy.heading_offset_rad == pytest.approx(math.pi / 2 - yaws[5])


def test_heading_only_variant_ignores_pelvis_tilt(small_models: dict[str, Path]) -> None:
    """v1.1's anchor uses the robot's yaw only: tilting the pelvis leaves it unchanged."""
    policy = _policy(small_models, EncoderVariant.V1_1)
    track = make_track(frames=12)
    policy.start(track, make_state(0))
    policy.build_observations(make_state(1, yaw=0.3, pitch=0.0), 2)
    assert policy.encoder_input is not None
    upright = policy.encoder_input[0][1631:1691].copy()
    policy.build_observations(make_state(1, yaw=0.3, pitch=0.4), 2)
    np.testing.assert_allclose(policy.encoder_input[0][1631:1691], upright, atol=1e-6)


def test_non_finite_state_is_reported(small_models: dict[str, Path]) -> None:
    policy = _policy(small_models, EncoderVariant.RELEASE)
    policy.start(make_track(), make_state(0))
    state = make_state(1)
    state.dq[4] = np.inf
    assert not policy.build_observations(state, 0)
    state = make_state(2)
    state.imu_quat_wxyz[:] = 0.0  # a zero quaternion is no rotation at all
    assert not policy.build_observations(state, 1)


def test_encoder_mode_slot_and_untouched_terms(small_models: dict[str, Path]) -> None:
    policy = _policy(small_models, EncoderVariant.RELEASE)
    policy.start(make_track(), make_state(0, yaw=0.4))
    policy.build_observations(make_state(1, yaw=0.2, pitch=0.1), 4)
    assert policy.encoder_input is not None
    obs = policy.encoder_input[0]
    np.testing.assert_array_equal(obs[0:4], [2.0, 0.0, 0.0, 0.0])
    assert not obs[4:922].any()  # G1 and teleop terms stay zero in SMPL mode
    assert obs[922:1762].any()


def test_quaternion_helper_used_by_tests_is_a_rotation() -> None:
    """Guard for the test helper itself: R_z(yaw)R_y(pitch) has unit norm."""
    assert np.linalg.norm(yaw_pitch_quat(0.4, -0.3)) == pytest.approx(1.0)


def test_start_with_another_track_than_prepared_uses_the_new_one(
    small_models: dict[str, Path],
) -> None:
    policy = _policy(small_models, EncoderVariant.RELEASE)
    prepared, started = make_track(frames=20, seed=1), make_track(frames=20, seed=2)
    policy.prepare(prepared)
    policy.start(started, make_state(0))
    policy.build_observations(make_state(0), 3)
    assert policy.encoder_input is not None
    joints = policy.encoder_input[0][922:1642].reshape(10, 24, 3)
    np.testing.assert_allclose(joints[0], started.smpl_joints_local[3], atol=1e-6)
    np.testing.assert_allclose(joints[9], started.smpl_joints_local[12], atol=1e-6)
