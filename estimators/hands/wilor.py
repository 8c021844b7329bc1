"""WiLoR output -> per-frame hand states, and handedness from the camera view.

WiLoR detects and classifies each hand per image. ExoActor assigns the detections to the body's
left and right hand from the camera view to avoid handedness mistakes in back views
(../shared/reference/estimation-and-cloud.md §1.2): seen from the front, the person's right hand
is on the image's left; seen from the back, the sides agree.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import numpy.typing as npt

from estimators.hands.classifier import HandStateConfig, classify_hand_states
from estimators.hands.features import closure_score, hand_features
from estimators.package.meta import CameraView, WilorHands

T = TypeVar("T")

MIN_HAND_SIZE_M = 1e-3
"""Keypoints whose wrist-to-middle-MCP distance is below this are unusable."""


def body_sides_from_image_sides(image_left: T, image_right: T, view: CameraView) -> tuple[T, T]:
    """Return ``(body_left, body_right)`` from detections ordered by image side."""
    if view is CameraView.FRONT:
        return image_right, image_left
    return image_left, image_right


def wilor_closure_scores(hands: WilorHands) -> npt.NDArray[np.float64]:
    """``(T, 2)`` closure scores in [0, 1] from WiLoR pose and keypoints."""
    return closure_score(hand_features(hands.hand_pose, hands.keypoints))


def hand_states_from_wilor(
    hands: WilorHands, fps: float, config: HandStateConfig
) -> npt.NDArray[np.int8]:
    """``(T, 2)`` ``HandState`` codes; invalid or low-confidence frames hold the last state."""
    n = int(hands.valid.shape[0])
    scores = np.empty(np.shape(hands.valid), dtype=np.float64)
    size = np.empty_like(scores)
    # Features per chunk of frames: their float64 temporaries for a whole 10-minute package
    # would take ~100 MB; the per-frame results are all the classifier needs.
    for start in range(0, n, _CHUNK_FRAMES):
        chunk = slice(start, min(start + _CHUNK_FRAMES, n))
        features = hand_features(hands.hand_pose[chunk], hands.keypoints[chunk])
        scores[chunk] = closure_score(features)
        size[chunk] = features.hand_size
    usable = (
        (np.asarray(hands.valid) > 0)
        & (np.asarray(hands.confidence, dtype=np.float64) >= config.min_confidence)
        & (size > MIN_HAND_SIZE_M)
    )
    return classify_hand_states(scores, usable, fps, config)


_CHUNK_FRAMES = 2048
