"""Shared fixtures for the SONIC policy tests: tracks, robot states and small ONNX models.

Models are real ONNX files run by real ONNX Runtime (CPU), built with ``models.fixtures``; the
big SONIC-width ones are generated once per session.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from models import BackendKind, EncoderVariant, Session, SessionConfig, open_session
from models import fixtures as onnx_fixtures

CPU = SessionConfig(backend=BackendKind.ORT_CPU)


@pytest.fixture(scope="session")
def small_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny random MLPs with SONIC's contract, one encoder per variant."""
    root = tmp_path_factory.mktemp("sonic_small")
    paths = {"decoder": onnx_fixtures.sonic_decoder_fixture(root / "dec.onnx", hidden=(32,))}
    for variant in EncoderVariant:
        paths[variant.value] = onnx_fixtures.sonic_encoder_fixture(
            root / f"enc_{variant.value}.onnx", variant=variant, hidden=(32,)
        )
    return paths


@pytest.fixture(scope="session")
def sonic_width_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """SONIC's decoder widths (~10.2 M parameters) and the 1762 stand-in encoder."""
    root = tmp_path_factory.mktemp("sonic_full")
    return {
        "decoder": onnx_fixtures.sonic_decoder_fixture(root / "model_decoder.onnx"),
        "encoder": onnx_fixtures.sonic_encoder_fixture(root / "model_encoder.onnx"),
    }


@pytest.fixture
def decoder_probe(tmp_path: Path) -> Callable[[Sequence[int | Sequence[int]]], Session]:
    """Factory: a decoder session whose ``action[j] = obs_dict[indices[j]]``."""
    count = iter(range(1000))

    def build(indices: Sequence[int | Sequence[int]]) -> Session:
        path = onnx_fixtures.sonic_decoder_probe(tmp_path / f"dec_probe{next(count)}.onnx", indices)
        return open_session(path, model="sonic_decoder", config=CPU)

    return build


@pytest.fixture
def encoder_probe(tmp_path: Path) -> Callable[[EncoderVariant, Sequence[int]], Session]:
    """Factory: an encoder session whose ``encoded_tokens[j] = obs_dict[indices[j]]``."""
    count = iter(range(1000))

    def build(variant: EncoderVariant, indices: Sequence[int]) -> Session:
        path = onnx_fixtures.sonic_encoder_probe(
            tmp_path / f"enc_probe{next(count)}.onnx", variant, indices
        )
        return open_session(path, model="sonic_encoder", config=CPU)

    return build
