"""Building TensorRT engines from ONNX, for TensorRT 10 (JetPack 6) and 11 (current x86 PyPI).

The two majors differ in how reduced precision is asked for:

- TensorRT 10: weakly typed networks; ``BuilderFlag.FP16`` lets the builder pick FP16 kernels.
- TensorRT 11: ``BuilderFlag.FP16`` (and ``platform_has_fast_fp16``) are gone and every network
  is strongly typed: precision lives in the graph. NVIDIA's migration guide converts the FP32
  ONNX model first with ModelOpt AutoCast (``modelopt.onnx.autocast``, keeping FP32 inputs and
  outputs); that is what happens here when FP16 is requested, and a missing ``nvidia-modelopt``
  is a build error that says so.

``tensorrt`` is passed in as a module (imported lazily by the caller), so importing this file
never needs TensorRT.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from models.config import Precision
from models.environment import import_optional
from models.errors import BackendUnavailableError, EngineBuildError

_log = logging.getLogger(__name__)


class BuildProgress(Protocol):
    """Receives TensorRT builder phases (``IProgressMonitor``) for a progress display."""

    def phase_start(self, phase: str, parent: str | None, steps: int) -> None: ...

    def phase_step(self, phase: str, step: int) -> None: ...

    def phase_finish(self, phase: str) -> None: ...


def tensorrt_major(trt: ModuleType) -> int:
    """Major version of an imported ``tensorrt``; only 10 and later are supported."""
    major = int(str(trt.__version__).split(".", 1)[0])
    if major < 10:
        raise BackendUnavailableError(
            "tensorrt", f"TensorRT {trt.__version__} is too old", "TensorRT 10 or 11 is required"
        )
    return major


def make_logger(trt: ModuleType) -> Any:
    """A ``trt.ILogger`` that forwards TensorRT's messages to ``logging``."""
    severity = trt.ILogger.Severity
    levels = {
        severity.INTERNAL_ERROR: logging.ERROR,
        severity.ERROR: logging.ERROR,
        severity.WARNING: logging.WARNING,
        severity.INFO: logging.DEBUG,
        severity.VERBOSE: logging.DEBUG,
    }

    class _Logger(trt.ILogger):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            trt.ILogger.__init__(self)

        def log(self, level: Any, message: str) -> None:
            _log.log(levels.get(level, logging.INFO), "tensorrt: %s", message)

    return _Logger()


def _make_progress_monitor(trt: ModuleType, progress: BuildProgress) -> Any:
    class _Monitor(trt.IProgressMonitor):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            trt.IProgressMonitor.__init__(self)

        def phase_start(self, phase_name: str, parent_phase: str | None, num_steps: int) -> None:
            progress.phase_start(phase_name, parent_phase, num_steps)

        def step_complete(self, phase_name: str, step: int) -> bool:
            progress.phase_step(phase_name, step)
            return True  # False would cancel the build

        def phase_finish(self, phase_name: str) -> None:
            progress.phase_finish(phase_name)

    return _Monitor()


def autocast_fp16(onnx_bytes: bytes, model: str) -> bytes:
    """FP32 ONNX -> mixed FP16 ONNX with FP32 I/O (ModelOpt AutoCast), for TensorRT 11."""
    autocast = import_optional("modelopt.onnx.autocast")
    if autocast is None:
        raise EngineBuildError(
            model,
            "FP16 on TensorRT 11 needs the model converted to FP16 first (BuilderFlag.FP16 was "
            "removed); pip install nvidia-modelopt[onnx], or build FP32",
        )
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "model_fp32.onnx"
        source.write_bytes(onnx_bytes)
        converted = autocast.convert_to_mixed_precision(
            onnx_path=str(source), low_precision_type="fp16", keep_io_types=True
        )
    return bytes(converted.SerializeToString())


def build_engine(
    trt: ModuleType,
    onnx_bytes: bytes,
    *,
    model: str,
    precision: Precision,
    workspace_mib: int,
    progress: BuildProgress | None = None,
) -> bytes:
    """Parse ``onnx_bytes`` and build a serialized engine (batch 1 for dynamic inputs)."""
    major = tensorrt_major(trt)
    if precision is Precision.FP16 and major >= 11:
        onnx_bytes = autocast_fp16(onnx_bytes, model)
    logger = make_logger(trt)
    builder = trt.Builder(logger)
    network = builder.create_network(0)  # explicit batch is the only mode in 10.x and 11.x
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(onnx_bytes):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise EngineBuildError(model, f"ONNX parser: {errors or 'unknown error'}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_mib << 20)
    if precision is Precision.FP16 and major == 10:
        if not getattr(builder, "platform_has_fast_fp16", True):
            _log.warning("model %s: FP16 requested but this GPU has no fast FP16", model)
        config.set_flag(trt.BuilderFlag.FP16)
    profile = None
    for index in range(network.num_inputs):
        tensor = network.get_input(index)
        shape = tuple(int(d) for d in tensor.shape)
        if any(d < 0 for d in shape):
            # The runtime runs batch 1; a fixed profile lets TensorRT specialise for it.
            fixed = tuple(1 if d < 0 else d for d in shape)
            profile = profile or builder.create_optimization_profile()
            profile.set_shape(tensor.name, fixed, fixed, fixed)
    if profile is not None:
        config.add_optimization_profile(profile)
    if progress is not None and hasattr(trt, "IProgressMonitor"):
        config.progress_monitor = _make_progress_monitor(trt, progress)
    plan = builder.build_serialized_network(network, config)
    if plan is None:
        raise EngineBuildError(model, "the builder returned no engine (see the TensorRT log)")
    return bytes(plan)
