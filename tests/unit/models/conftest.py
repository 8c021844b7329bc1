"""Fixtures for the model-runtime tests: small ONNX files with SONIC's contracts.

Real ONNX files built with ``models.fixtures`` and run by real ONNX Runtime (CPU). The big
SONIC-width files are generated once per session.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from models import EncoderVariant
from models import fixtures as onnx_fixtures


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny_models")
    paths = {"decoder": onnx_fixtures.sonic_decoder_fixture(root / "dec.onnx", hidden=(16,))}
    for variant in EncoderVariant:
        paths[variant.value] = onnx_fixtures.sonic_encoder_fixture(
            root / f"enc_{variant.value}.onnx", variant=variant, hidden=(16,)
        )
    return paths


@pytest.fixture(scope="session")
def sonic_width_decoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """994 -> [2048, 2048, 1024, 1024, 512, 512] -> 29, random weights (~10.2 M parameters)."""
    return onnx_fixtures.sonic_decoder_fixture(
        tmp_path_factory.mktemp("sonic_width") / "model_decoder.onnx"
    )
