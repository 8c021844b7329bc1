"""The one interface every inference backend implements, and the tensor description it uses.

A ``Session`` runs one model: named float inputs in, named outputs written into buffers the
caller owns. The caller allocates its buffers once (shapes from ``input_spec`` and
``output_spec``) and passes the same mappings on every call; backends bind those buffers on the
first call and only re-bind when a different array object shows up, so the 50 Hz path allocates
nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from models.errors import ModelContractError


class BackendKind(enum.Enum):
    """Which runtime executes a model. ``AUTO`` picks one at load time."""

    AUTO = "auto"
    TENSORRT = "tensorrt"
    """Native TensorRT engine (``tensorrt`` Python API), built from the ONNX file and cached."""
    ORT_TENSORRT = "ort-tensorrt"
    """ONNX Runtime with the TensorRT execution provider first, then CUDA, then CPU."""
    ORT_CUDA = "ort-cuda"
    """ONNX Runtime with the CUDA execution provider, then CPU."""
    ORT_CPU = "ort-cpu"
    """ONNX Runtime on the CPU only."""

    @property
    def is_gpu(self) -> bool:
        return self in (BackendKind.TENSORRT, BackendKind.ORT_TENSORRT, BackendKind.ORT_CUDA)


@dataclass(frozen=True)
class TensorSpec:
    """Name, concrete shape and dtype of one model input or output.

    Dynamic dimensions in the model file are resolved to 1 (the runtime runs batch 1).
    """

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype[np.generic]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def describe(self) -> str:
        return f"{self.name}{list(self.shape)} {self.dtype.name}"

    def empty(self) -> npt.NDArray[np.generic]:
        """A zeroed buffer with this spec's shape and dtype (for callers' preallocation)."""
        return np.zeros(self.shape, dtype=self.dtype)


class Session(Protocol):
    """One loaded model on one backend."""

    @property
    def input_spec(self) -> tuple[TensorSpec, ...]: ...

    @property
    def output_spec(self) -> tuple[TensorSpec, ...]: ...

    @property
    def backend(self) -> BackendKind:
        """The backend actually running the model (after any provider fallback)."""
        ...

    def run(
        self,
        inputs: Mapping[str, npt.NDArray[np.generic]],
        outputs: Mapping[str, npt.NDArray[np.generic]],
    ) -> None:
        """Run once: read ``inputs[name]``, write ``outputs[name]`` in place.

        Every buffer must be C-contiguous with its spec's dtype and element count. Raises
        ``InferenceError`` if the backend fails; never allocates on the steady path.
        """
        ...

    def close(self) -> None:
        """Release backend resources (GPU memory, streams). Idempotent."""
        ...


def check_buffer(model: str, spec: TensorSpec, array: npt.NDArray[np.generic]) -> None:
    """Raise ``ModelContractError`` unless ``array`` can serve as ``spec``'s buffer."""
    ok = array.dtype == spec.dtype and array.size == spec.size and array.flags.c_contiguous
    if not ok:
        actual = TensorSpec(spec.name, tuple(int(d) for d in array.shape), array.dtype)
        raise ModelContractError(
            model, spec.name, spec, actual, hint="caller buffer must be C-contiguous"
        )
