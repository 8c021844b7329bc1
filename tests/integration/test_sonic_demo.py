"""``exoactor-edge demo`` with SONIC configured: the policy runs in the loop, or start-up stops.

Real: ONNX Runtime on CPU, MuJoCo physics (built-in model), the command line in-process. The
SONIC weights cannot be downloaded here: the models are small random-weight ONNX files with
SONIC's exact input/output contract (``models.fixtures``), so the motion they produce is
meaningless; the tests check the plumbing and the supervisor, not the tracking quality.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from daemon.cli.edge_cli import main
from models.contracts import EncoderVariant
from models.fixtures import sonic_decoder_fixture, sonic_encoder_fixture

pytestmark = pytest.mark.integration


def write_config(tmp_path: Path, decoder: Path, encoder: Path) -> Path:
    config = tmp_path / "edge.toml"
    config.write_text(
        f'[sonic]\ndecoder_path = "{decoder.name}"\nencoder_path = "{encoder.name}"\n'
    )
    return config


@pytest.fixture
def small_models(tmp_path: Path) -> tuple[Path, Path]:
    decoder = sonic_decoder_fixture(tmp_path / "model_decoder.onnx", hidden=(64, 64))
    encoder = sonic_encoder_fixture(tmp_path / "model_encoder.onnx", hidden=(64,))
    return decoder, encoder


def test_demo_runs_sonic_when_its_models_are_configured(
    tmp_path: Path, small_models: tuple[Path, Path]
) -> None:
    config = write_config(tmp_path, *small_models)
    out = tmp_path / "out"
    code = main(["demo", "--config", str(config), "--out", str(out), "--quiet",
                 "--builtin-model", "--gantry"])  # fmt: skip
    report = json.loads((out / "report.json").read_text())
    assert report["controller"] == "sonic"
    modes = [m["mode"] for m in report["modes"]]
    assert modes[:4] == ["PASSIVE", "RAMP", "HOLD", "TRACK"]
    # Random weights in a gantry: the supervisor either lets the motion finish or damps it
    # for a stated reason; the command's exit status says which.
    if code == 0:
        assert modes[-1] == "HOLD"
    else:
        assert report["failure"]


def test_missing_model_file_stops_before_anything_moves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, tmp_path / "absent_decoder.onnx", tmp_path / "enc.onnx")
    code = main(["demo", "--config", str(config), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert "absent_decoder.onnx" in err
    assert err.count("\n") == 0
    assert not (tmp_path / "out" / "report.json").exists()


def test_wrong_encoder_width_names_the_tensor_and_both_shapes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    decoder = sonic_decoder_fixture(tmp_path / "model_decoder.onnx", hidden=(32,))
    # A 1762-wide encoder where the configuration demands the 1247 low-latency variant.
    encoder = sonic_encoder_fixture(tmp_path / "model_encoder.onnx", hidden=(32,))
    config = write_config(tmp_path, decoder, encoder)
    with config.open("a") as f:
        f.write(f'variant = "{EncoderVariant.LOW_LATENCY.value}"\n')
    code = main(["demo", "--config", str(config), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "sonic_encoder" in err
    assert "1762" in err
    assert "1247" in err
