"""``engines build``: argument wiring, exit status and output on this (CPU-only) machine.

Real: argparse, model loading and contract checks on ONNX Runtime CPU, the console progress.
Faked: the machine description where a GPU backend is demanded.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from models import Session, SessionConfig
from models.contracts import detect_encoder_variant, sonic_encoder_contract
from models.engine_build import BuildStatus, EngineJob, build_engines
from models.engines_cli import ConsoleProgress, add_engine_commands, run_build
from models.environment import probe_environment
from models.fixtures import sonic_decoder_fixture
from models.session import BackendKind
from tests.unit.models.model_helpers import fake_env

_HAS_GPU = probe_environment().gpu is not None


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="exoactor-edge")
    add_engine_commands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_engines_build_is_registered_with_its_func(tmp_path: Path) -> None:
    args = _parse(["engines", "build", "--decoder", "d.onnx", "--cache-dir", str(tmp_path)])
    assert args.command == "engines"
    assert args.engines_command == "build"
    assert args.func is run_build
    assert args.decoder == Path("d.onnx")
    assert args.precision == "fp32"


@pytest.mark.skipif(_HAS_GPU, reason="on a GPU machine this would build real engines")
def test_on_a_cpu_machine_models_are_checked_and_no_engine_is_needed(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    decoder, encoder = str(tiny_models["decoder"]), str(tiny_models["v1.1"])
    args = _parse(["engines", "build", "--decoder", decoder, "--encoder", encoder,
                   "--cache-dir", str(tmp_path)])  # fmt: skip
    out = io.StringIO()
    assert run_build(args, out) == 0
    lines = out.getvalue().splitlines()
    summary = [line.split()[:3] for line in lines if not line.startswith("[")]
    assert summary == [
        ["sonic_decoder", "not-needed", "ort-cpu"],
        ["sonic_encoder", "not-needed", "ort-cpu"],
    ]
    assert "verifying against ONNX Runtime CPU" in out.getvalue()
    assert "ok: max abs diff 0.00e+00" in out.getvalue()


def test_contract_mismatch_fails_the_build(tmp_path: Path) -> None:
    """A model that is not what its role demands is reported as failed."""
    bad = sonic_decoder_fixture(tmp_path / "bad.onnx", hidden=(8,))  # a decoder, not an encoder

    def check(session: Session) -> None:
        sonic_encoder_contract(detect_encoder_variant(session)).check(session)

    reports = build_engines(
        [EngineJob("sonic_encoder", bad, check)],
        SessionConfig(backend=BackendKind.ORT_CPU, cache_dir=tmp_path),
        ConsoleProgress(io.StringIO()),
        env=fake_env(gpu=None),
    )
    assert [r.status for r in reports] == [BuildStatus.FAILED]
    assert "sonic_encoder" in reports[0].detail
    assert "obs_dict" in reports[0].detail


def test_missing_file_fails_with_exit_status_1(tmp_path: Path) -> None:
    args = _parse(["engines", "build", "--decoder", str(tmp_path / "missing.onnx"),
                   "--cache-dir", str(tmp_path), "--backend", "auto"])  # fmt: skip
    out = io.StringIO()
    status = run_build(args, out)
    assert status == 1
    assert "file not found" in out.getvalue()


@pytest.mark.skipif(_HAS_GPU, reason="a GPU machine may have TensorRT")
def test_demanding_tensorrt_without_it_exits_2_with_a_hint(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    args = _parse(["engines", "build", "--decoder", str(tiny_models["decoder"]),
                   "--cache-dir", str(tmp_path), "--backend", "tensorrt"])  # fmt: skip
    out = io.StringIO()
    assert run_build(args, out) == 2
    assert "backend tensorrt" in out.getvalue()


def test_nothing_to_build_is_a_usage_error(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_build(_parse(["engines", "build", "--cache-dir", str(tmp_path)]), out) == 2
    assert "nothing to build" in out.getvalue()


def test_console_progress_draws_builder_phases() -> None:
    out = io.StringIO()
    progress = ConsoleProgress(out)
    progress.stage("sonic_decoder", "TensorRT engine for x.onnx")
    progress.phase_start("Building engine", None, 3)
    for step in range(3):
        progress.phase_step("Building engine", step)
    progress.phase_finish("Building engine")
    lines = out.getvalue().splitlines()
    assert lines[0] == "[sonic_decoder] TensorRT engine for x.onnx"
    assert "Building engine" in lines[-1]
    assert "[####################] 3/3" in lines[-1]
