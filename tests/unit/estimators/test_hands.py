"""WiLoR hands -> hand states -> Dex3 targets.

Real: feature extraction, the hysteresis/dwell classifier, the Dex3 presets from the embodiment
table, handedness by camera view. Faked: the hands (a synthetic kinematic hand with WiLoR's
output layout stands in for WiLoR, whose model cannot run here) and the noise.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from controller.embodiment.dex3 import HAND_JOINTS, HAND_Q_MAX, HAND_Q_MIN, Hand
from estimators.hands import (
    DEX3_PRESETS,
    HandStateConfig,
    classify_hand_states,
    closure_score,
    dex3_targets,
    hand_features,
)
from estimators.hands.synthetic import mirror_to_left, synthetic_hand
from estimators.hands.wilor import body_sides_from_image_sides, hand_states_from_wilor
from estimators.package import CameraView, WilorHands
from estimators.rotations import axis_angle_to_matrix
from estimators.track import HandState

CONFIG = HandStateConfig()


def _wilor(closure: np.ndarray, conf: float = 0.9) -> WilorHands:
    pose, kp = synthetic_hand(closure)
    kp[:, 0] = mirror_to_left(kp[:, 0])
    n = closure.shape[0]
    return WilorHands(
        hand_pose=pose.astype(np.float32),
        keypoints=kp.astype(np.float32),
        confidence=np.full((n, 2), conf, dtype=np.float32),
        valid=np.ones((n, 2), dtype=np.uint8),
    )


@pytest.mark.parametrize(
    ("closure", "state"),
    [(0.0, HandState.OPEN), (0.1, HandState.OPEN), (0.4, HandState.HALF),
     (0.9, HandState.CLOSED), (1.0, HandState.CLOSED)],
)  # fmt: skip
def test_synthetic_poses_classify_to_known_states(closure: float, state: HandState) -> None:
    hands = _wilor(np.full((20, 2), closure))
    states = hand_states_from_wilor(hands, 30.0, CONFIG)
    assert np.all(states[-1] == state), (closure, states[-1])


def test_features_grow_with_closure_and_ignore_mirroring_and_rotation() -> None:
    closure = np.linspace(0.0, 1.0, 11)
    pose, kp = synthetic_hand(closure)
    f = hand_features(pose, kp)
    assert np.all(np.diff(f.curl) > 0)
    assert np.all(np.diff(f.pose_flex) > 0)
    assert f.pinch[-1] < 0.4 < 1.0 < f.pinch[0]
    turned = kp @ axis_angle_to_matrix(np.array([0.3, -1.0, 2.0])).T + [0.1, 0.2, 0.5]
    mirrored = mirror_to_left(turned)
    g = hand_features(axis_angle_to_matrix(pose), mirrored)
    np.testing.assert_allclose(closure_score(g), closure_score(f), atol=1e-9)


def test_noisy_near_threshold_sequence_respects_the_dwell_time() -> None:
    rng = np.random.default_rng(0)
    fps = 30.0
    n = 600
    scores = CONFIG.open_half + rng.normal(0.0, 0.15, (n, 2))  # straddles a boundary
    states = classify_hand_states(scores, np.ones((n, 2), bool), fps, CONFIG)
    dwell = CONFIG.dwell_frames(fps)
    for h in range(2):
        changes = np.flatnonzero(np.diff(states[:, h])) + 1
        assert len(changes) <= math.ceil(n / dwell)
        assert len(changes) > 0  # the noise is large enough to cause some changes
        if len(changes) > 1:
            assert np.min(np.diff(changes)) >= dwell


def test_hysteresis_ignores_wobble_inside_the_band() -> None:
    n = 200
    wobble = CONFIG.open_half + 0.9 * CONFIG.hysteresis * np.sin(np.arange(n) * 0.7)
    scores = np.stack([wobble, wobble + 0.5], axis=1)
    states = classify_hand_states(scores, np.ones((n, 2), bool), 30.0, CONFIG)
    assert np.all(states[:, 0] == HandState.OPEN)
    assert np.all(np.diff(states[5:, 1]) == 0)


def test_missing_and_low_confidence_frames_hold_the_last_state() -> None:
    closure = np.concatenate([np.full(30, 1.0), np.zeros(30), np.zeros(30)])
    hands = _wilor(np.stack([closure, closure], axis=1))
    valid = np.array(hands.valid)
    valid[30:60, 0] = 0  # left hand lost while the hand opens
    confidence = np.array(hands.confidence)
    confidence[30:60, 1] = 0.1  # right hand detected but unsure
    held = WilorHands(hands.hand_pose, hands.keypoints, confidence, valid)
    states = hand_states_from_wilor(held, 30.0, CONFIG)
    assert np.all(states[29:60] == HandState.CLOSED)
    assert np.all(states[-1] == HandState.OPEN)


def test_targets_stay_inside_each_hands_limits() -> None:
    states = np.array([[s, t] for s in HandState for t in HandState], dtype=np.int8)
    targets = dex3_targets(states)
    assert targets.shape == (9, 2, 7)
    assert np.all(targets >= HAND_Q_MIN)
    assert np.all(targets <= HAND_Q_MAX)
    np.testing.assert_array_equal(dex3_targets(np.zeros((3, 2), np.int8)), 0.0)


def _fraction_toward_limit(value: float, q_min: float, q_max: float) -> float:
    """How far ``value`` lies from 0 toward the limit on its side (0 = open, 1 = at the limit)."""
    if value == 0.0:
        return 0.0
    return value / (q_max if value > 0 else q_min)


def test_left_and_right_presets_agree_joint_by_joint_name() -> None:
    """Slot order differs between hands (index/middle swap), so compare by joint name."""
    for state in (HandState.HALF, HandState.CLOSED):
        left = {j.name.removeprefix("left_"): j for j in HAND_JOINTS[Hand.LEFT]}
        for right_joint in HAND_JOINTS[Hand.RIGHT]:
            left_joint = left[right_joint.name.removeprefix("right_")]
            left_value = DEX3_PRESETS[state, 0, left_joint.slot]
            right_value = DEX3_PRESETS[state, 1, right_joint.slot]
            left_frac = _fraction_toward_limit(left_value, left_joint.q_min, left_joint.q_max)
            right_frac = _fraction_toward_limit(right_value, right_joint.q_min, right_joint.q_max)
            assert left_frac == pytest.approx(right_frac, abs=1e-6), right_joint.name
        # fingers close toward negative angles on the left hand and positive on the right
        assert np.all(DEX3_PRESETS[state, 0, 3:] < 0)
        assert np.all(DEX3_PRESETS[state, 1, 3:] > 0)


def test_closed_preset_is_sonic_mid_point() -> None:
    np.testing.assert_allclose(DEX3_PRESETS[HandState.CLOSED], (HAND_Q_MIN + HAND_Q_MAX) / 2)


@pytest.mark.parametrize(
    ("view", "expected"), [(CameraView.FRONT, ("R", "L")), (CameraView.BACK, ("L", "R"))]
)
def test_handedness_from_camera_view(view: CameraView, expected: tuple[str, str]) -> None:
    assert body_sides_from_image_sides("L", "R", view) == expected


def test_bad_classifier_config_raises() -> None:
    with pytest.raises(ValueError, match="hysteresis"):
        HandStateConfig(hysteresis=0.2)
    with pytest.raises(ValueError, match="open_half"):
        HandStateConfig(open_half=0.8, half_closed=0.7)
