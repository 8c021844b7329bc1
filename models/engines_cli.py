"""``exoactor-edge engines build``: fill the engine cache before boot, with a progress display.

The main command line registers the group with ``add_engine_commands(subparsers)``; the parsed
namespace carries ``func`` (``run_build``), which returns the exit status: 0 all models ready,
1 a model failed (missing/corrupt file, contract mismatch, build error, verification mismatch),
2 the requested backend cannot run here.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TextIO

from models.config import Precision, SessionConfig
from models.contracts import (
    detect_encoder_variant,
    sonic_decoder_contract,
    sonic_encoder_contract,
)
from models.engine_build import BuildStatus, EngineJob, build_engines
from models.errors import BackendUnavailableError
from models.session import BackendKind, Session

_BUILD_BACKENDS = (BackendKind.AUTO, BackendKind.TENSORRT, BackendKind.ORT_TENSORRT)


class ConsoleProgress:
    """Stage lines, plus a one-line bar per TensorRT builder phase (redrawn on a terminal)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._is_tty = stream.isatty()
        self._steps: dict[str, int] = {}
        self._started: dict[str, float] = {}
        self._depth: dict[str, int] = {}

    def stage(self, model: str, message: str) -> None:
        self._write(f"[{model}] {message}\n")

    def phase_start(self, phase: str, parent: str | None, steps: int) -> None:
        self._steps[phase] = steps
        self._started[phase] = time.monotonic()
        self._depth[phase] = self._depth.get(parent, -1) + 1 if parent else 0
        self._draw(phase, 0)

    def phase_step(self, phase: str, step: int) -> None:
        if self._is_tty:
            self._draw(phase, step + 1)

    def phase_finish(self, phase: str) -> None:
        self._draw(phase, self._steps.get(phase, 0), done=True)

    def _draw(self, phase: str, step: int, done: bool = False) -> None:
        total = max(self._steps.get(phase, 0), 1)
        filled = int(20 * min(step, total) / total)
        elapsed = time.monotonic() - self._started.get(phase, time.monotonic())
        indent = "  " * (self._depth.get(phase, 0) + 1)
        line = f"{indent}{phase:<36.36} [{'#' * filled:<20}] {step}/{total} {elapsed:5.1f}s"
        if self._is_tty:
            self._write(f"\r{line}" + ("\n" if done else ""))
        elif done:
            self._write(f"{line}\n")

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()


def add_build_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``engines build`` (shared with ``scripts/build_engines.py``)."""
    parser.add_argument("--decoder", type=Path, help="SONIC model_decoder.onnx")
    parser.add_argument("--encoder", type=Path, help="SONIC model_encoder.onnx")
    parser.add_argument(
        "--model", action="append", default=[], metavar="NAME=PATH",
        help="any other ONNX model, built under NAME (repeatable)",
    )  # fmt: skip
    parser.add_argument("--cache-dir", type=Path, required=True, help="engine cache directory")
    parser.add_argument(
        "--precision", choices=[p.value for p in Precision], default=Precision.FP32.value
    )
    parser.add_argument(
        "--backend", choices=[b.value for b in _BUILD_BACKENDS], default=BackendKind.AUTO.value,
        help="auto: what the runtime would pick here; tensorrt/ort-tensorrt: demand it",
    )  # fmt: skip
    parser.add_argument("--device-id", type=int, default=0)
    parser.add_argument("--workspace-mib", type=int, default=1024)
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    parser.add_argument("--no-verify", action="store_true", help="skip the CPU comparison")
    parser.set_defaults(func=run_build)


def add_engine_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``engines build`` (sets ``func`` -> exit code) on the main ``add_subparsers()``."""
    engines = subparsers.add_parser("engines", help="TensorRT engine cache")
    commands = engines.add_subparsers(dest="engines_command", required=True)
    build = commands.add_parser(
        "build", help="build and verify engines ahead of boot",
        description="Build (or confirm) cached TensorRT engines and verify them against ONNX "
        "Runtime on the CPU, so the robot never builds engines on its first tick.",
    )  # fmt: skip
    add_build_arguments(build)


def jobs_from_args(args: argparse.Namespace) -> list[EngineJob]:
    """Engine jobs for the given paths; SONIC's models get their contracts."""
    jobs = []
    if args.decoder is not None:
        jobs.append(EngineJob("sonic_decoder", args.decoder, _check_sonic_decoder))
    if args.encoder is not None:
        jobs.append(EngineJob("sonic_encoder", args.encoder, _check_sonic_encoder))
    for item in args.model:
        name, sep, path = str(item).partition("=")
        if not sep or not name or not path:
            raise ValueError(f"--model expects NAME=PATH, got {item!r}")
        jobs.append(EngineJob(name, Path(path)))
    if not jobs:
        raise ValueError("nothing to build: give --decoder, --encoder or --model")
    return jobs


def _check_sonic_encoder(session: Session) -> None:
    sonic_encoder_contract(detect_encoder_variant(session)).check(session)


def _check_sonic_decoder(session: Session) -> None:
    sonic_decoder_contract().check(session)


def run_build(args: argparse.Namespace, stream: TextIO | None = None) -> int:
    """Handler of ``engines build``; returns the exit status."""
    out = stream or sys.stdout
    try:
        jobs = jobs_from_args(args)
        config = SessionConfig(
            backend=BackendKind(args.backend), precision=Precision(args.precision),
            cache_dir=args.cache_dir, device_id=args.device_id, workspace_mib=args.workspace_mib,
        )  # fmt: skip
    except ValueError as error:
        out.write(f"engines build: {error}\n")
        return 2
    progress = ConsoleProgress(out)
    try:
        reports = build_engines(jobs, config, progress, force=args.force, verify=not args.no_verify)
    except BackendUnavailableError as error:
        out.write(f"engines build: {error}\n")
        return 2
    for report in reports:
        backend = report.backend.value if report.backend is not None else "-"
        out.write(f"{report.model:<16} {report.status.value:<10} {backend:<12} "
                  f"{report.seconds:6.1f}s  {report.detail}\n")  # fmt: skip
    return 1 if any(r.status is BuildStatus.FAILED for r in reports) else 0
