"""Backend choice: a pure function of the configuration and the probed environment.

``AUTO`` prefers native TensorRT (importable, cuda-python present, GPU present), then ONNX
Runtime's CUDA provider, then the CPU. Any explicit backend is a demand: if it cannot run here
this raises at load time instead of silently running somewhere slower (ONNX Runtime itself would
only warn and fall back to the CPU).
"""

from __future__ import annotations

from dataclasses import dataclass

from models.config import SessionConfig
from models.environment import RuntimeEnvironment
from models.errors import BackendUnavailableError, GpuRequiredError
from models.session import BackendKind

TRT_PROVIDER = "TensorrtExecutionProvider"
CUDA_PROVIDER = "CUDAExecutionProvider"
CPU_PROVIDER = "CPUExecutionProvider"

_HINT_TRT = (
    "install TensorRT's Python bindings (JetPack 6: apt python3-libnvinfer, TensorRT 10.x; "
    "x86: pip install tensorrt) and cuda-python (pin 12.x on JetPack 6)"
)
_HINT_ORT_GPU = (
    "install onnxruntime-gpu (Jetson: NVIDIA's wheel index for your JetPack, "
    "e.g. https://pypi.jetson-ai-lab.io/jp6/cu126)"
)


@dataclass(frozen=True)
class BackendChoice:
    kind: BackendKind
    reason: str
    """One line for the log: why this backend and not a preferred one."""


def choose_backend(config: SessionConfig, env: RuntimeEnvironment) -> BackendChoice:
    """Pick the backend for ``config`` on ``env``; raise if a demanded one is unavailable."""
    requested = config.backend
    if requested is BackendKind.AUTO:
        return _choose_auto(config, env)
    if requested.is_gpu and env.gpu is None:
        raise GpuRequiredError(requested.value, env.gpu_problem, "check the driver and device")
    if requested is BackendKind.TENSORRT:
        if not env.has_native_tensorrt:
            missing = "tensorrt" if env.tensorrt_version is None else "cuda-python"
            raise BackendUnavailableError(requested.value, f"{missing} not importable", _HINT_TRT)
        return BackendChoice(requested, f"requested; TensorRT {env.tensorrt_version}")
    if requested is BackendKind.ORT_TENSORRT and TRT_PROVIDER not in env.ort_providers:
        raise BackendUnavailableError(
            requested.value, f"ONNX Runtime {env.ort_version} lacks {TRT_PROVIDER}", _HINT_ORT_GPU
        )
    if requested is BackendKind.ORT_CUDA and CUDA_PROVIDER not in env.ort_providers:
        raise BackendUnavailableError(
            requested.value, f"ONNX Runtime {env.ort_version} lacks {CUDA_PROVIDER}", _HINT_ORT_GPU
        )
    return BackendChoice(requested, "requested in the configuration")


def _choose_auto(config: SessionConfig, env: RuntimeEnvironment) -> BackendChoice:
    if env.gpu is not None:
        gpu = f"{env.gpu.name} (sm {env.gpu.compute_capability})"
        if env.has_native_tensorrt:
            return BackendChoice(
                BackendKind.TENSORRT, f"TensorRT {env.tensorrt_version} importable, GPU {gpu}"
            )
        why_not_trt = (
            "tensorrt not importable"
            if env.tensorrt_version is None
            else "cuda-python not importable"
        )
        if CUDA_PROVIDER in env.ort_providers:
            return BackendChoice(BackendKind.ORT_CUDA, f"GPU {gpu}, {why_not_trt}")
        problem = f"GPU {gpu} present but {why_not_trt} and ONNX Runtime lacks {CUDA_PROVIDER}"
    else:
        problem = env.gpu_problem
    if config.require_gpu:
        raise GpuRequiredError(BackendKind.AUTO.value, problem, f"{_HINT_TRT}; or {_HINT_ORT_GPU}")
    return BackendChoice(BackendKind.ORT_CPU, problem)


def ort_providers(
    kind: BackendKind, config: SessionConfig, env: RuntimeEnvironment, trt_cache_path: str | None
) -> list[str | tuple[str, dict[str, str]]]:
    """ONNX Runtime provider list for ``kind``, built only from providers that exist here."""
    providers: list[str | tuple[str, dict[str, str]]] = []
    if kind is BackendKind.ORT_TENSORRT and TRT_PROVIDER in env.ort_providers:
        trt_options = {
            "device_id": str(config.device_id),
            "trt_fp16_enable": "1" if config.precision.value == "fp16" else "0",
            "trt_max_workspace_size": str(config.workspace_mib << 20),
        }
        if trt_cache_path is not None:
            trt_options.update(
                trt_engine_cache_enable="1",
                trt_engine_cache_path=trt_cache_path,
                trt_timing_cache_enable="1",
                trt_timing_cache_path=trt_cache_path,
            )
        providers.append((TRT_PROVIDER, trt_options))
    if kind in (BackendKind.ORT_TENSORRT, BackendKind.ORT_CUDA) and (
        CUDA_PROVIDER in env.ort_providers
    ):
        providers.append((CUDA_PROVIDER, {"device_id": str(config.device_id)}))
    providers.append(CPU_PROVIDER)
    return providers
