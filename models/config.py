"""How a model is run: backend choice, precision, threads and the engine cache location."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from models.session import BackendKind


class Precision(enum.Enum):
    """Arithmetic precision of TensorRT engines. ONNX Runtime CPU/CUDA always run FP32."""

    FP32 = "fp32"
    FP16 = "fp16"


@dataclass(frozen=True)
class SessionConfig:
    """Options for ``open_session``; the defaults suit the 50 Hz policy on any machine."""

    backend: BackendKind = BackendKind.AUTO
    """``AUTO``: native TensorRT when importable and a GPU is present, else ONNX Runtime CUDA,
    else ONNX Runtime CPU. Any other value is a demand: it fails rather than falling back."""
    precision: Precision = Precision.FP32
    """FP32 as SONIC's own deploy ships; FP16 is opt-in and applies to TensorRT backends."""
    require_gpu: bool = False
    """With ``AUTO``: fail at load instead of running on the CPU when no GPU is usable."""
    intra_op_threads: int = 1
    """ONNX Runtime CPU threads per model. 1-2 keeps the thread pool off the control core."""
    inter_op_threads: int = 1
    allow_spinning: bool = False
    """Let ONNX Runtime's worker threads busy-wait between runs. Off: spinning workers steal
    the core the control thread needs between two inference calls (2 shared cores, 2 threads,
    SONIC-width models: step p99 10.0 ms spinning vs 2.9 ms not). Irrelevant with 1 thread."""
    use_io_binding: bool = True
    """Bind caller buffers to ONNX Runtime once instead of passing a feed dict every call."""
    cache_dir: Path | None = None
    """Where TensorRT engines (native and the ORT TensorRT provider's) are cached. None: build in
    memory at every start (slow; ``exoactor-edge engines build`` fills the cache ahead of boot)."""
    device_id: int = 0
    """CUDA device ordinal."""
    use_cuda_graph: bool = True
    """Native TensorRT: capture copy-in, enqueue and copy-out once as a CUDA graph and replay it."""
    workspace_mib: int = 1024
    """TensorRT builder workspace limit."""

    def __post_init__(self) -> None:
        if self.intra_op_threads < 1 or self.inter_op_threads < 1:
            raise ValueError("thread counts must be >= 1")
        if self.workspace_mib < 16:
            raise ValueError("workspace_mib must be >= 16")
        if self.device_id < 0:
            raise ValueError("device_id must be >= 0")
        if self.require_gpu and self.backend is BackendKind.ORT_CPU:
            raise ValueError("require_gpu contradicts backend ort-cpu")

    @property
    def demands_gpu(self) -> bool:
        """True when running on the CPU would violate this configuration."""
        return self.require_gpu or self.backend.is_gpu
