"""Errors of the model runtime. Each carries the fields a caller needs, not only a message.

All of them are startup errors except ``InferenceError``: a model that loads, matches its
contract and has a working backend does not raise on ordinary input.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models.session import TensorSpec


class ModelError(RuntimeError):
    """Base class of everything ``models`` raises on purpose."""


class ModelLoadError(ModelError):
    """A model file is missing, unreadable, or not a valid ONNX/engine file."""

    def __init__(self, model: str, path: Path, detail: str) -> None:
        super().__init__(f"model {model!r}: cannot load {path}: {detail}")
        self.model = model
        self.path = path
        self.detail = detail


class ModelContractError(ModelError):
    """A model's inputs or outputs differ from the expected contract.

    Args:
        model: the model's role, e.g. ``sonic_encoder``.
        tensor: the tensor name that does not match.
        expected: the expected spec, or None when the tensor should not exist at all.
        actual: the model's spec, or None when the model lacks the tensor.
    """

    def __init__(
        self,
        model: str,
        tensor: str,
        expected: TensorSpec | None,
        actual: TensorSpec | None,
        hint: str = "",
    ) -> None:
        want = expected.describe() if expected is not None else "no such tensor"
        got = actual.describe() if actual is not None else "missing"
        message = f"model {model!r}, tensor {tensor!r}: expected {want}, got {got}"
        super().__init__(f"{message}; {hint}" if hint else message)
        self.model = model
        self.tensor = tensor
        self.expected = expected
        self.actual = actual


class BackendUnavailableError(ModelError):
    """The configured backend cannot run here; ``hint`` says what to install or change."""

    def __init__(self, backend: str, reason: str, hint: str) -> None:
        super().__init__(f"backend {backend}: {reason} ({hint})")
        self.backend = backend
        self.reason = reason
        self.hint = hint


class GpuRequiredError(BackendUnavailableError):
    """The configuration demands a GPU and none is usable (no silent CPU fallback)."""


class EngineBuildError(ModelError):
    """TensorRT could not build an engine from an ONNX file."""

    def __init__(self, model: str, detail: str) -> None:
        super().__init__(f"model {model!r}: TensorRT engine build failed: {detail}")
        self.model = model
        self.detail = detail


class InferenceError(ModelError):
    """A backend failed while running a loaded model (CUDA error, runtime fault).

    Raised from ``Session.run``; the policy turns it into a fault flag for the supervisor.
    """

    def __init__(self, model: str, detail: str) -> None:
        super().__init__(f"model {model!r}: inference failed: {detail}")
        self.model = model
        self.detail = detail
