"""Neural-network runtime: one ``Session`` interface over TensorRT and ONNX Runtime.

Load models with ``open_session``; it picks the backend (native TensorRT, ONNX Runtime CUDA or
CPU), checks the model's contract and returns a ``Session``. Backends are never imported from
here, so importing ``models`` does not import ONNX Runtime or TensorRT.
"""

from models.config import Precision, SessionConfig
from models.contracts import EncoderVariant, ModelContract
from models.errors import (
    BackendUnavailableError,
    EngineBuildError,
    GpuRequiredError,
    InferenceError,
    ModelContractError,
    ModelError,
    ModelLoadError,
)
from models.factory import open_session
from models.session import BackendKind, Session, TensorSpec

__all__ = [
    "BackendKind",
    "BackendUnavailableError",
    "EncoderVariant",
    "EngineBuildError",
    "GpuRequiredError",
    "InferenceError",
    "ModelContract",
    "ModelContractError",
    "ModelError",
    "ModelLoadError",
    "Precision",
    "Session",
    "SessionConfig",
    "TensorSpec",
    "open_session",
]
