"""Backend choice from configuration and machine, and the provider lists handed to ONNX Runtime.

Pure logic: the machine is a ``RuntimeEnvironment`` built by the test (no GPU here).
"""

from __future__ import annotations

import pytest

from models import (
    BackendKind,
    BackendUnavailableError,
    GpuRequiredError,
    Precision,
    SessionConfig,
)
from models.environment import probe_environment, probe_gpu
from models.selection import choose_backend, ort_providers
from tests.unit.models.model_helpers import fake_env

CUDA = "CUDAExecutionProvider"
TRT = "TensorrtExecutionProvider"
CPU = "CPUExecutionProvider"


def test_auto_prefers_native_tensorrt_on_a_gpu() -> None:
    choice = choose_backend(SessionConfig(), fake_env(providers=(CUDA, CPU)))
    assert choice.kind is BackendKind.TENSORRT
    assert choice.reason == "TensorRT 10.7.0 importable, GPU Orin (sm 8.7)"


def test_auto_uses_ort_cuda_without_tensorrt() -> None:
    choice = choose_backend(SessionConfig(), fake_env(tensorrt=None, providers=(TRT, CUDA, CPU)))
    assert choice.kind is BackendKind.ORT_CUDA
    assert "tensorrt not importable" in choice.reason


def test_auto_uses_ort_cuda_without_cuda_python() -> None:
    choice = choose_backend(SessionConfig(), fake_env(cuda_bindings=False, providers=(CUDA, CPU)))
    assert choice.kind is BackendKind.ORT_CUDA
    assert "cuda-python not importable" in choice.reason


def test_auto_falls_back_to_cpu_and_says_why() -> None:
    choice = choose_backend(SessionConfig(), fake_env(gpu=None))
    assert choice.kind is BackendKind.ORT_CPU
    assert "libcuda" in choice.reason
    gpu_but_no_runtime = choose_backend(SessionConfig(), fake_env(tensorrt=None))
    assert gpu_but_no_runtime.kind is BackendKind.ORT_CPU
    assert "lacks CUDAExecutionProvider" in gpu_but_no_runtime.reason


def test_auto_with_require_gpu_fails_fast_without_a_gpu() -> None:
    with pytest.raises(GpuRequiredError, match="libcuda"):
        choose_backend(SessionConfig(require_gpu=True), fake_env(gpu=None))


@pytest.mark.parametrize(
    "kind", [BackendKind.TENSORRT, BackendKind.ORT_CUDA, BackendKind.ORT_TENSORRT]
)
def test_explicit_gpu_backend_without_gpu_fails(kind: BackendKind) -> None:
    with pytest.raises(GpuRequiredError):
        choose_backend(SessionConfig(backend=kind), fake_env(gpu=None, providers=(TRT, CUDA, CPU)))


def test_explicit_tensorrt_without_the_package_says_what_to_install() -> None:
    with pytest.raises(BackendUnavailableError) as caught:
        choose_backend(SessionConfig(backend=BackendKind.TENSORRT), fake_env(tensorrt=None))
    assert caught.value.reason == "tensorrt not importable"
    assert "python3-libnvinfer" in caught.value.hint


def test_explicit_ort_cuda_without_the_provider_names_onnxruntime_gpu() -> None:
    with pytest.raises(BackendUnavailableError, match="onnxruntime-gpu"):
        choose_backend(SessionConfig(backend=BackendKind.ORT_CUDA), fake_env())


def test_explicit_cpu_is_always_available() -> None:
    choice = choose_backend(SessionConfig(backend=BackendKind.ORT_CPU), fake_env(gpu=None))
    assert choice.kind is BackendKind.ORT_CPU


def test_provider_list_for_ort_tensorrt_carries_the_engine_cache() -> None:
    config = SessionConfig(backend=BackendKind.ORT_TENSORRT, precision=Precision.FP16)
    providers = ort_providers(
        BackendKind.ORT_TENSORRT, config, fake_env(providers=(TRT, CUDA, CPU)), "/cache/x"
    )
    assert [p if isinstance(p, str) else p[0] for p in providers] == [TRT, CUDA, CPU]
    trt_options = providers[0][1]
    assert isinstance(trt_options, dict)
    assert trt_options["trt_engine_cache_enable"] == "1"
    assert trt_options["trt_engine_cache_path"] == "/cache/x"
    assert trt_options["trt_fp16_enable"] == "1"


def test_provider_list_only_names_available_providers() -> None:
    env = fake_env(providers=(CUDA, CPU))
    assert ort_providers(BackendKind.ORT_CPU, SessionConfig(), env, None) == [CPU]
    cuda = ort_providers(BackendKind.ORT_CUDA, SessionConfig(), env, None)
    assert [p if isinstance(p, str) else p[0] for p in cuda] == [CUDA, CPU]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"intra_op_threads": 0}, "thread"),
        ({"workspace_mib": 1}, "workspace"),
        ({"require_gpu": True, "backend": BackendKind.ORT_CPU}, "contradicts"),
        ({"device_id": -1}, "device_id"),
    ],
)
def test_session_config_rejects_nonsense(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SessionConfig(**kwargs)  # type: ignore[arg-type]


def test_probe_on_this_machine_is_consistent() -> None:
    """Whatever this machine is, the probe's answer is self-consistent (no GPU: a reason)."""
    env = probe_environment()
    gpu, problem = probe_gpu()
    assert (env.gpu is None) == (gpu is None)
    if gpu is None:
        assert problem
        assert env.tensorrt_version is None
        assert choose_backend(SessionConfig(), env).kind is BackendKind.ORT_CPU
    assert "CPUExecutionProvider" in env.ort_providers
