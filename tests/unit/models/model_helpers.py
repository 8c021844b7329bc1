"""Helpers shared by the model-runtime tests: fake machine descriptions."""

from __future__ import annotations

from models.environment import GpuInfo, RuntimeEnvironment

ORIN = GpuInfo(index=0, name="Orin", compute_capability="8.7", driver_version=12060)


def fake_env(
    *,
    gpu: GpuInfo | None = ORIN,
    tensorrt: str | None = "10.7.0",
    cuda_bindings: bool = True,
    providers: tuple[str, ...] = ("CPUExecutionProvider",),
    ort: str = "1.23.2",
) -> RuntimeEnvironment:
    """A machine as backend selection sees it; defaults: a Jetson Orin with TensorRT 10.7."""
    return RuntimeEnvironment(
        gpu=gpu,
        gpu_problem="" if gpu is not None else "no NVIDIA driver (libcuda.so.1 not loadable)",
        tensorrt_version=tensorrt if gpu is not None else None,
        has_cuda_bindings=cuda_bindings,
        ort_version=ort,
        ort_providers=providers,
    )
