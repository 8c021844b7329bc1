"""Hands: WiLoR hand pose -> open / half / closed -> Dex3-1 joint targets."""

from estimators.hands.classifier import HandStateConfig, classify_hand_states
from estimators.hands.dex3_targets import DEX3_PRESETS, dex3_targets
from estimators.hands.features import HandFeatures, closure_score, hand_features

__all__ = [
    "DEX3_PRESETS",
    "HandFeatures",
    "HandStateConfig",
    "classify_hand_states",
    "closure_score",
    "dex3_targets",
    "hand_features",
]
