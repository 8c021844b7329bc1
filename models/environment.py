"""What this machine offers for inference: GPU, TensorRT, CUDA bindings, ONNX Runtime providers.

The GPU is probed through the CUDA driver library with ctypes (``libcuda.so.1``: present on any
machine with an NVIDIA driver, Jetson included), so the probe needs neither torch nor
cuda-python and costs a few milliseconds. TensorRT is only imported when a GPU exists, because
importing it takes about a second.
"""

from __future__ import annotations

import ctypes
import functools
import importlib
import importlib.util
import logging
from dataclasses import dataclass
from types import ModuleType

_log = logging.getLogger(__name__)

_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75
_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76


@dataclass(frozen=True)
class GpuInfo:
    """One CUDA device, as the driver reports it."""

    index: int
    name: str
    compute_capability: str
    """``major.minor``, e.g. ``8.7`` for Jetson Orin."""
    driver_version: int
    """CUDA driver API version, e.g. 12060."""


@dataclass(frozen=True)
class RuntimeEnvironment:
    """Everything backend selection depends on. Tests build this directly."""

    gpu: GpuInfo | None
    gpu_problem: str
    """Why ``gpu`` is None (empty when a GPU was found)."""
    tensorrt_version: str | None
    """Version of the importable ``tensorrt`` Python package, or None."""
    has_cuda_bindings: bool
    """``cuda-python`` (``cuda.bindings.runtime`` or the older ``cuda.cudart``) importable."""
    ort_version: str
    ort_providers: tuple[str, ...]

    @property
    def has_native_tensorrt(self) -> bool:
        return self.tensorrt_version is not None and self.has_cuda_bindings


def import_optional(name: str) -> ModuleType | None:
    """Import ``name`` if it is installed; None when it is not (other import errors propagate)."""
    try:
        if importlib.util.find_spec(name) is None:
            return None
    except ModuleNotFoundError:  # a parent package is missing
        return None
    return importlib.import_module(name)


def import_cudart() -> ModuleType | None:
    """The CUDA runtime bindings of cuda-python: ``cuda.bindings.runtime`` (12.6+/13.x) or
    ``cuda.cudart`` (older 12.x)."""
    return import_optional("cuda.bindings.runtime") or import_optional("cuda.cudart")


def probe_gpu(device_id: int = 0) -> tuple[GpuInfo | None, str]:
    """Ask the CUDA driver for device ``device_id``. Returns (info, problem)."""
    try:
        lib = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return None, "no NVIDIA driver (libcuda.so.1 not loadable)"
    if lib.cuInit(0) != 0:
        return None, "NVIDIA driver present but cuInit failed (no usable device?)"
    count = ctypes.c_int(0)
    if lib.cuDeviceGetCount(ctypes.byref(count)) != 0 or count.value <= device_id:
        return None, f"CUDA device {device_id} not found ({count.value} devices)"
    device = ctypes.c_int(0)
    lib.cuDeviceGet(ctypes.byref(device), device_id)
    name = ctypes.create_string_buffer(256)
    lib.cuDeviceGetName(name, len(name), device)
    major, minor, driver = ctypes.c_int(0), ctypes.c_int(0), ctypes.c_int(0)
    lib.cuDeviceGetAttribute(
        ctypes.byref(major), _CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device
    )
    lib.cuDeviceGetAttribute(
        ctypes.byref(minor), _CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device
    )
    lib.cuDriverGetVersion(ctypes.byref(driver))
    info = GpuInfo(
        index=device_id,
        name=name.value.decode(errors="replace"),
        compute_capability=f"{major.value}.{minor.value}",
        driver_version=driver.value,
    )
    return info, ""


def tensorrt_library_version() -> str | None:
    """Version of the TensorRT shared library (what ONNX Runtime's TensorRT provider links),
    read with ``getInferLibVersion`` when the Python package is absent."""
    for soname in ("libnvinfer.so.10", "libnvinfer.so.11", "libnvinfer.so"):
        try:
            lib = ctypes.CDLL(soname)
        except OSError:
            continue
        code = int(lib.getInferLibVersion())
        return f"{code // 10000}.{code // 100 % 100}.{code % 100}"
    return None


@functools.lru_cache(maxsize=4)
def probe_environment(device_id: int = 0) -> RuntimeEnvironment:
    """Probe once per process (cached): GPU, TensorRT, cuda-python, ONNX Runtime."""
    import onnxruntime as ort

    gpu, problem = probe_gpu(device_id)
    trt_version: str | None = None
    has_cuda = False
    if gpu is not None:
        trt = import_optional("tensorrt")
        trt_version = str(trt.__version__) if trt is not None else None
        has_cuda = import_cudart() is not None
    environment = RuntimeEnvironment(
        gpu=gpu,
        gpu_problem=problem,
        tensorrt_version=trt_version,
        has_cuda_bindings=has_cuda,
        ort_version=str(ort.__version__),
        ort_providers=tuple(ort.get_available_providers()),
    )
    _log.debug("inference environment: %s", environment)
    return environment
