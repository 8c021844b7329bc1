"""Native TensorRT backend: cached engine, own CUDA stream, ``execute_async_v3``, CUDA graph.

Memory and streams come from cuda-python's runtime bindings (what TensorRT's own Python samples
use; no torch, no pycuda). Per engine: one pinned host buffer and one device buffer per I/O
tensor, bound once with ``set_tensor_address``. After one warm-up enqueue (TensorRT wants one
before capture), copy-in, enqueue and copy-out are captured once as a CUDA graph, so a run is:
copy the caller's input into pinned memory, one ``cudaGraphLaunch``, one stream synchronize, copy
the output to the caller's buffer. Engines that cannot be captured fall back to the three calls.
This mirrors SONIC's C++ ``PolicyEngine::CaptureGraph``/``Infer``.

``tensorrt`` and cuda-python are imported inside ``open_trt_session`` only.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from models.config import SessionConfig
from models.engine_cache import CacheLookup, CacheStatus, EngineCache, EngineKey
from models.environment import RuntimeEnvironment, import_cudart, import_optional
from models.errors import BackendUnavailableError, InferenceError, ModelLoadError
from models.session import BackendKind, TensorSpec, check_buffer
from models.trt_build import BuildProgress, build_engine, make_logger, tensorrt_major

_log = logging.getLogger(__name__)

F = npt.NDArray[np.generic]


class _CudaError(Exception):
    """A cuda-python call returned an error code."""


def _check(result: Any, what: str) -> Any:
    """Unpack cuda-python's ``(err, value...)`` tuples; raise on error."""
    err, *values = result if isinstance(result, tuple) else (result,)
    if int(err) != 0:
        raise _CudaError(f"{what}: {err}")
    return values[0] if len(values) == 1 else tuple(values)


@dataclass
class _Buffer:
    spec: TensorSpec
    host: F
    """Pinned host memory shaped as ``spec``."""
    host_ptr: int
    device_ptr: int
    is_input: bool


class TrtSession:
    """A deserialized engine ready to run. Build with ``open_trt_session``."""

    def __init__(
        self, plan: bytes, *, model: str, config: SessionConfig, trt: ModuleType, cudart: Any
    ) -> None:
        self._model = model
        self._cudart = cudart
        self._copy_h2d = cudart.cudaMemcpyKind.cudaMemcpyHostToDevice
        self._copy_d2h = cudart.cudaMemcpyKind.cudaMemcpyDeviceToHost
        self._buffers: list[_Buffer] = []
        self._graph: Any = None
        self._graph_exec: Any = None
        self._stream: Any = None
        self._bound: dict[str, F] = {}
        self._caller_views: dict[str, F] = {}
        self._logger = make_logger(trt)  # must outlive the runtime and engine
        self._runtime = trt.Runtime(self._logger)
        try:
            _check(cudart.cudaSetDevice(config.device_id), "cudaSetDevice")
            self._engine = self._runtime.deserialize_cuda_engine(plan)
            if self._engine is None:
                raise _CudaError("TensorRT could not deserialize the engine")
            self._context = self._engine.create_execution_context()
            self._stream = _check(cudart.cudaStreamCreate(), "cudaStreamCreate")
            self._stream_handle = int(self._stream)
            self._allocate(trt)
            self._enqueue_all()  # warm-up; also required once before graph capture
            _check(cudart.cudaStreamSynchronize(self._stream), "cudaStreamSynchronize")
            if config.use_cuda_graph:
                self._capture_graph()
        except _CudaError as error:
            self.close()
            raise ModelLoadError(model, Path("<engine>"), str(error)) from None
        self.input_spec = tuple(b.spec for b in self._buffers if b.is_input)
        self.output_spec = tuple(b.spec for b in self._buffers if not b.is_input)
        _log.info(
            "model %s: TensorRT engine ready (CUDA graph %s)",
            model, "captured" if self._graph_exec is not None else "off",
        )  # fmt: skip

    @property
    def backend(self) -> BackendKind:
        return BackendKind.TENSORRT

    @property
    def uses_cuda_graph(self) -> bool:
        return self._graph_exec is not None

    def _allocate(self, trt: ModuleType) -> None:
        engine, cudart = self._engine, self._cudart
        for index in range(engine.num_io_tensors):
            name = engine.get_tensor_name(index)
            is_input = engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT
            shape = tuple(1 if int(d) < 0 else int(d) for d in engine.get_tensor_shape(name))
            if is_input:
                self._context.set_input_shape(name, shape)
            dtype = np.dtype(trt.nptype(engine.get_tensor_dtype(name)))
            spec = TensorSpec(name, shape, dtype)
            nbytes = spec.size * dtype.itemsize
            host_ptr = int(_check(cudart.cudaMallocHost(nbytes), "cudaMallocHost"))
            device_ptr = int(_check(cudart.cudaMalloc(nbytes), "cudaMalloc"))
            raw = (ctypes.c_byte * nbytes).from_address(host_ptr)
            host = np.frombuffer(raw, dtype=dtype).reshape(shape)
            self._buffers.append(_Buffer(spec, host, host_ptr, device_ptr, is_input))
            self._context.set_tensor_address(name, device_ptr)

    def _enqueue_all(self) -> None:
        """Copy in, enqueue, copy out on the stream (captured into the graph, or run directly)."""
        cudart, stream = self._cudart, self._stream
        for buffer in self._buffers:
            if buffer.is_input:
                nbytes = buffer.host.nbytes
                _check(
                    cudart.cudaMemcpyAsync(
                        buffer.device_ptr, buffer.host_ptr, nbytes, self._copy_h2d, stream
                    ),
                    "cudaMemcpyAsync H2D",
                )
        if not self._context.execute_async_v3(self._stream_handle):
            raise _CudaError("execute_async_v3 returned False")
        for buffer in self._buffers:
            if not buffer.is_input:
                nbytes = buffer.host.nbytes
                _check(
                    cudart.cudaMemcpyAsync(
                        buffer.host_ptr, buffer.device_ptr, nbytes, self._copy_d2h, stream
                    ),
                    "cudaMemcpyAsync D2H",
                )

    def _capture_graph(self) -> None:
        cudart = self._cudart
        mode = cudart.cudaStreamCaptureMode.cudaStreamCaptureModeThreadLocal
        try:
            _check(cudart.cudaStreamBeginCapture(self._stream, mode), "cudaStreamBeginCapture")
            try:
                self._enqueue_all()
            finally:
                self._graph = _check(cudart.cudaStreamEndCapture(self._stream), "EndCapture")
            self._graph_exec = _check(cudart.cudaGraphInstantiate(self._graph, 0), "Instantiate")
        except _CudaError as error:
            _log.warning("model %s: CUDA graph capture failed (%s); running uncaptured",
                         self._model, error)  # fmt: skip
            self._graph_exec = None

    def run(self, inputs: Mapping[str, F], outputs: Mapping[str, F]) -> None:
        """Run once; see ``Session.run``."""
        cudart = self._cudart
        try:
            for buffer in self._buffers:
                if buffer.is_input:
                    np.copyto(buffer.host, self._view(buffer.spec, inputs[buffer.spec.name]))
            if self._graph_exec is not None:
                _check(cudart.cudaGraphLaunch(self._graph_exec, self._stream), "cudaGraphLaunch")
            else:
                self._enqueue_all()
            _check(cudart.cudaStreamSynchronize(self._stream), "cudaStreamSynchronize")
        except _CudaError as error:
            raise InferenceError(self._model, str(error)) from None
        for buffer in self._buffers:
            if not buffer.is_input:
                np.copyto(self._view(buffer.spec, outputs[buffer.spec.name]), buffer.host)

    def _view(self, spec: TensorSpec, array: F) -> F:
        """The caller's array shaped as ``spec``, checked once per new array object."""
        if self._bound.get(spec.name) is not array:
            check_buffer(self._model, spec, array)
            self._bound[spec.name] = array
            self._caller_views[spec.name] = array.reshape(spec.shape)
        return self._caller_views[spec.name]

    def close(self) -> None:
        """Free the graph, buffers and stream. Idempotent; errors while freeing are logged."""
        cudart = self._cudart
        calls: list[tuple[str, Any, Any]] = []
        if self._graph_exec is not None:
            calls.append(("cudaGraphExecDestroy", cudart.cudaGraphExecDestroy, self._graph_exec))
        if self._graph is not None:
            calls.append(("cudaGraphDestroy", cudart.cudaGraphDestroy, self._graph))
        for buffer in self._buffers:
            calls.append(("cudaFree", cudart.cudaFree, buffer.device_ptr))
            calls.append(("cudaFreeHost", cudart.cudaFreeHost, buffer.host_ptr))
        if self._stream is not None:
            calls.append(("cudaStreamDestroy", cudart.cudaStreamDestroy, self._stream))
        self._graph_exec = self._graph = self._stream = None
        self._buffers = []
        for what, call, handle in calls:
            try:
                _check(call(handle), what)
            except _CudaError as error:
                _log.warning("model %s: %s", self._model, error)


def engine_key(onnx_bytes: bytes, config: SessionConfig, env: RuntimeEnvironment) -> EngineKey:
    """The cache key for ``onnx_bytes`` on this machine."""
    if env.gpu is None or env.tensorrt_version is None:
        raise BackendUnavailableError("tensorrt", "no GPU or no TensorRT", "see environment")
    return EngineKey(
        onnx_sha256=hashlib.sha256(onnx_bytes).hexdigest(),
        gpu_name=env.gpu.name,
        compute_capability=env.gpu.compute_capability,
        tensorrt_version=env.tensorrt_version,
        ort_version=env.ort_version,
        precision=config.precision.value,
    )


def import_tensorrt() -> tuple[ModuleType, Any]:
    """``(tensorrt, cudart)`` or ``BackendUnavailableError`` with an install hint."""
    trt = import_optional("tensorrt")
    cudart = import_cudart()
    if trt is None or cudart is None:
        missing = "tensorrt" if trt is None else "cuda-python"
        raise BackendUnavailableError(
            "tensorrt", f"{missing} not importable", "pip install tensorrt cuda-python"
        )
    tensorrt_major(trt)
    return trt, cudart


def ensure_engine(
    path: Path,
    *,
    model: str,
    config: SessionConfig,
    env: RuntimeEnvironment,
    progress: BuildProgress | None = None,
    force_rebuild: bool = False,
) -> tuple[bytes, CacheLookup | None]:
    """The engine plan for ``path``: from the cache when its key matches, else built (and
    stored when a cache directory is configured). Returns (plan, what the cache said)."""
    trt, _ = import_tensorrt()
    try:
        onnx_bytes = path.read_bytes()
    except OSError as error:
        raise ModelLoadError(model, path, error.strerror or str(error)) from None
    key = engine_key(onnx_bytes, config, env)
    cache = EngineCache(config.cache_dir) if config.cache_dir is not None else None
    lookup = cache.lookup(model, key) if cache is not None else None
    if lookup is not None and lookup.plan is not None and not force_rebuild:
        return lookup.plan, lookup  # only a HIT carries a plan
    if lookup is not None and lookup.status in (CacheStatus.STALE, CacheStatus.CORRUPT):
        _log.warning("model %s: cached engine %s is %s (%s); rebuilding",
                     model, lookup.path, lookup.status.value, lookup.reason)  # fmt: skip
    _log.info("model %s: building TensorRT %s engine from %s", model, key.precision, path)
    plan = build_engine(
        trt, onnx_bytes, model=model, precision=config.precision,
        workspace_mib=config.workspace_mib, progress=progress,
    )  # fmt: skip
    if cache is not None:
        cache.store(model, key, plan)
    return plan, lookup


def open_trt_session(
    path: Path, *, model: str, config: SessionConfig, env: RuntimeEnvironment
) -> TrtSession:
    """Load (or build, then cache) the engine for ``path`` and prepare it to run."""
    trt, cudart = import_tensorrt()
    plan, lookup = ensure_engine(path, model=model, config=config, env=env)
    try:
        return TrtSession(plan, model=model, config=config, trt=trt, cudart=cudart)
    except ModelLoadError:
        if lookup is None or lookup.status is not CacheStatus.HIT:
            raise
    # A cached engine whose key matched but which TensorRT refused: rebuild once.
    _log.warning("model %s: cached engine failed to load; rebuilding", model)
    plan, _ = ensure_engine(path, model=model, config=config, env=env, force_rebuild=True)
    return TrtSession(plan, model=model, config=config, trt=trt, cudart=cudart)
