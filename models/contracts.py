"""Expected inputs and outputs of the models we run, checked when a model loads.

SONIC (GR00T-WholeBodyControl ``gear_sonic_deploy``, see ../shared/reference/sonic-deploy.md §2):

- decoder ``model_decoder.onnx``: input ``obs_dict`` float32 [1, 994] -> output ``action``
  float32 [1, 29], for all three released checkpoints;
- encoder ``model_encoder.onnx``: input ``obs_dict`` float32 [1, E] -> output ``encoded_tokens``
  float32 [1, 64], where E identifies the checkpoint: 1762 default release, 1751 SONIC v1.1,
  1247 low latency. The layout of those E floats is the controller's business
  (``controller.sonic.obs_config``); here only the width matters.

A mismatch is a startup error naming the model, the tensor and both shapes: dimension mismatch
is the most reported silent failure when people bring their own SONIC exports.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from models.errors import ModelContractError
from models.session import Session, TensorSpec

F32 = np.dtype(np.float32)

SONIC_TOKEN_DIM = 64
SONIC_DECODER_INPUT_DIM = 994
SONIC_ACTION_DIM = 29
SONIC_INPUT_NAME = "obs_dict"
SONIC_DECODER_OUTPUT_NAME = "action"
SONIC_ENCODER_OUTPUT_NAME = "encoded_tokens"


class EncoderVariant(enum.Enum):
    """Released SONIC encoder checkpoints, told apart by their input width."""

    RELEASE = "release"
    """``policy/release``: 1762 floats, SMPL window 10 frames, full-orientation anchor."""
    V1_1 = "v1.1"
    """``policy/sonic_v1_1``: 1751 floats, no root-z terms, heading-only anchor."""
    LOW_LATENCY = "low-latency"
    """``policy/release/observation_config_low_latency.yaml``: 1247 floats, SMPL window 4."""

    @property
    def input_width(self) -> int:
        return _ENCODER_WIDTHS[self]

    @classmethod
    def from_width(cls, width: int) -> EncoderVariant:
        for variant, known in _ENCODER_WIDTHS.items():
            if known == width:
                return variant
        raise KeyError(width)


_ENCODER_WIDTHS = {
    EncoderVariant.RELEASE: 1762,
    EncoderVariant.V1_1: 1751,
    EncoderVariant.LOW_LATENCY: 1247,
}


@dataclass(frozen=True)
class ModelContract:
    """Exact input and output tensors a model must have (no more, no fewer)."""

    model: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]

    def check(self, session: Session) -> None:
        """Raise ``ModelContractError`` for the first tensor that differs."""
        _check_side(self.model, self.inputs, session.input_spec)
        _check_side(self.model, self.outputs, session.output_spec)


def _check_side(
    model: str, expected: tuple[TensorSpec, ...], actual: tuple[TensorSpec, ...]
) -> None:
    by_name = {spec.name: spec for spec in actual}
    for want in expected:
        got = by_name.pop(want.name, None)
        if got is None:
            present = ", ".join(spec.describe() for spec in actual) or "none"
            raise ModelContractError(model, want.name, want, None, hint=f"model has {present}")
        if got.shape != want.shape or got.dtype != want.dtype:
            raise ModelContractError(model, want.name, want, got)
    for extra in by_name.values():
        raise ModelContractError(model, extra.name, None, extra)


def sonic_decoder_contract() -> ModelContract:
    return ModelContract(
        model="sonic_decoder",
        inputs=(TensorSpec(SONIC_INPUT_NAME, (1, SONIC_DECODER_INPUT_DIM), F32),),
        outputs=(TensorSpec(SONIC_DECODER_OUTPUT_NAME, (1, SONIC_ACTION_DIM), F32),),
    )


def sonic_encoder_contract(variant: EncoderVariant) -> ModelContract:
    return ModelContract(
        model="sonic_encoder",
        inputs=(TensorSpec(SONIC_INPUT_NAME, (1, variant.input_width), F32),),
        outputs=(TensorSpec(SONIC_ENCODER_OUTPUT_NAME, (1, SONIC_TOKEN_DIM), F32),),
    )


def detect_encoder_variant(session: Session) -> EncoderVariant:
    """The encoder checkpoint a loaded session is, from its input width.

    Raises ``ModelContractError`` when the input is not SONIC's or its width is unknown.
    """
    widths = ", ".join(f"{v.input_width} ({v.value})" for v in EncoderVariant)
    expected = TensorSpec(SONIC_INPUT_NAME, (1, EncoderVariant.RELEASE.input_width), F32)
    spec = next((s for s in session.input_spec if s.name == SONIC_INPUT_NAME), None)
    if spec is None or len(spec.shape) != 2:
        raise ModelContractError("sonic_encoder", SONIC_INPUT_NAME, expected, spec,
                                 hint=f"known widths: {widths}")  # fmt: skip
    try:
        return EncoderVariant.from_width(spec.shape[1])
    except KeyError:
        raise ModelContractError(
            "sonic_encoder", SONIC_INPUT_NAME, expected, spec, hint=f"known widths: {widths}"
        ) from None
