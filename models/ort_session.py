"""ONNX Runtime backend (TensorRT provider, CUDA provider or CPU).

ONNX Runtime only *warns* when a requested provider is missing and then runs on the CPU, so the
provider list is built from ``get_available_providers()``, the providers the session really uses
are logged, and a configuration that demands a GPU fails here instead of running slowly.

Steady state uses IO binding: the caller's buffers are bound once (ONNX Runtime reads the input
in place and writes the output straight into the caller's array), so ``run`` is one call into
ONNX Runtime with no feed dict and no result arrays.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from onnxruntime.capi import onnxruntime_pybind11_state as _ort_state

from models.config import SessionConfig
from models.environment import RuntimeEnvironment
from models.errors import GpuRequiredError, InferenceError, ModelLoadError
from models.selection import CUDA_PROVIDER, TRT_PROVIDER, ort_providers
from models.session import BackendKind, TensorSpec, check_buffer

_log = logging.getLogger(__name__)

# ONNX Runtime's own exception classes derive from Exception directly; name them instead of
# catching everything.
ORT_ERRORS: tuple[type[BaseException], ...] = (
    *(
        cls
        for name in (
            "Fail", "InvalidArgument", "NoSuchFile", "NoModel", "EngineError", "RuntimeException",
            "InvalidProtobuf", "ModelLoaded", "NotImplemented", "InvalidGraph", "EPFail",
        )
        if isinstance(cls := getattr(_ort_state, name, None), type)
    ),
    RuntimeError,
    ValueError,
)  # fmt: skip

_ORT_DTYPES: dict[str, np.dtype[np.generic]] = {
    "tensor(float)": np.dtype(np.float32),
    "tensor(float16)": np.dtype(np.float16),
    "tensor(double)": np.dtype(np.float64),
    "tensor(int64)": np.dtype(np.int64),
    "tensor(int32)": np.dtype(np.int32),
    "tensor(bool)": np.dtype(np.bool_),
}

F = npt.NDArray[np.generic]


def _spec(model: str, path: Path, node: Any) -> TensorSpec:
    dtype = _ORT_DTYPES.get(str(node.type))
    if dtype is None:
        raise ModelLoadError(model, path, f"tensor {node.name!r} has unsupported type {node.type}")
    # Symbolic or unknown dimensions (dynamic batch) run as 1.
    shape = tuple(d if isinstance(d, int) and d > 0 else 1 for d in node.shape)
    return TensorSpec(str(node.name), shape, dtype)


class OrtSession:
    """A model running in ONNX Runtime. Build with ``OrtSession.open``."""

    def __init__(
        self, session: Any, *, model: str, path: Path, backend: BackendKind, use_io_binding: bool
    ) -> None:
        self._session = session
        self._model = model
        self._backend = backend
        self._inputs = tuple(_spec(model, path, node) for node in session.get_inputs())
        self._outputs = tuple(_spec(model, path, node) for node in session.get_outputs())
        self._output_names = [spec.name for spec in self._outputs]
        self._binding: Any = session.io_binding() if use_io_binding else None
        # The caller's arrays as last bound, and shaped views of them (kept alive while bound).
        self._bound_in: list[F | None] = [None] * len(self._inputs)
        self._bound_out: list[F | None] = [None] * len(self._outputs)
        self._in_views: dict[str, F] = {}
        self._out_views: list[F] = []

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        model: str,
        backend: BackendKind,
        config: SessionConfig,
        env: RuntimeEnvironment,
        trt_cache_dir: Path | None = None,
    ) -> OrtSession:
        """Load ``path`` with the providers of ``backend``; fail if a demanded GPU is unused."""
        if not path.is_file():
            raise ModelLoadError(model, path, "file not found")
        options = ort.SessionOptions()
        options.intra_op_num_threads = config.intra_op_threads
        options.inter_op_num_threads = config.inter_op_threads
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only: warnings would go to stderr unstructured
        spin = "1" if config.allow_spinning else "0"
        options.add_session_config_entry("session.intra_op.allow_spinning", spin)
        options.add_session_config_entry("session.inter_op.allow_spinning", spin)
        if trt_cache_dir is not None:
            trt_cache_dir.mkdir(parents=True, exist_ok=True)
        providers = ort_providers(
            backend, config, env, str(trt_cache_dir) if trt_cache_dir is not None else None
        )
        try:
            session = ort.InferenceSession(str(path), options, providers=providers)
        except ORT_ERRORS as error:
            raise ModelLoadError(model, path, f"ONNX Runtime rejected it: {error}") from None
        used = tuple(session.get_providers())
        actual = _backend_from_providers(backend, used)
        _log.info(
            "model %s: ONNX Runtime %s running on %s (asked %s)",
            model, ort.__version__, ", ".join(used), backend.value,
        )  # fmt: skip
        if config.demands_gpu and not actual.is_gpu:
            raise GpuRequiredError(
                backend.value,
                f"ONNX Runtime fell back to {', '.join(used)}",
                "check CUDA/cuDNN/TensorRT libraries match onnxruntime-gpu",
            )
        return cls(
            session, model=model, path=path, backend=actual, use_io_binding=config.use_io_binding
        )

    @property
    def input_spec(self) -> tuple[TensorSpec, ...]:
        return self._inputs

    @property
    def output_spec(self) -> tuple[TensorSpec, ...]:
        return self._outputs

    @property
    def backend(self) -> BackendKind:
        return self._backend

    def run(self, inputs: Mapping[str, F], outputs: Mapping[str, F]) -> None:
        """Run once; see ``Session.run``."""
        if self._needs_bind(inputs, outputs):
            self._bind(inputs, outputs)
        try:
            if self._binding is not None:
                self._session.run_with_iobinding(self._binding)
            else:
                results = self._session.run(self._output_names, self._in_views)
                for view, result in zip(self._out_views, results, strict=True):
                    np.copyto(view, result)
        except ORT_ERRORS as error:
            raise InferenceError(self._model, str(error)) from None

    def close(self) -> None:
        if self._binding is not None:
            self._binding.clear_binding_inputs()
            self._binding.clear_binding_outputs()
        self._bound_in = [None] * len(self._inputs)
        self._bound_out = [None] * len(self._outputs)
        self._in_views.clear()
        self._out_views.clear()

    def _needs_bind(self, inputs: Mapping[str, F], outputs: Mapping[str, F]) -> bool:
        for index, spec in enumerate(self._inputs):
            if inputs[spec.name] is not self._bound_in[index]:
                return True
        for index, spec in enumerate(self._outputs):
            if outputs[spec.name] is not self._bound_out[index]:
                return True
        return False

    def _bind(self, inputs: Mapping[str, F], outputs: Mapping[str, F]) -> None:
        """Check and (re)bind the caller's buffers. Only on the first call or new buffers."""
        self._in_views.clear()
        self._out_views.clear()
        for index, spec in enumerate(self._inputs):
            array = inputs[spec.name]
            check_buffer(self._model, spec, array)
            view = array.reshape(spec.shape)
            self._in_views[spec.name] = view
            self._bound_in[index] = array
            if self._binding is not None:
                self._binding.bind_cpu_input(spec.name, view)
        for index, spec in enumerate(self._outputs):
            array = outputs[spec.name]
            check_buffer(self._model, spec, array)
            view = array.reshape(spec.shape)
            self._out_views.append(view)
            self._bound_out[index] = array
            if self._binding is not None:
                self._binding.bind_output(
                    spec.name, "cpu", 0, spec.dtype.type, list(spec.shape), view.ctypes.data
                )


def _backend_from_providers(asked: BackendKind, used: tuple[str, ...]) -> BackendKind:
    if asked is BackendKind.ORT_TENSORRT and TRT_PROVIDER in used:
        return BackendKind.ORT_TENSORRT
    if asked in (BackendKind.ORT_TENSORRT, BackendKind.ORT_CUDA) and CUDA_PROVIDER in used:
        return BackendKind.ORT_CUDA
    return BackendKind.ORT_CPU
