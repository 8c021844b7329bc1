"""Engine building branches on the TensorRT major version (10: FP16 flag; 11: strong typing).

Faked: the ``tensorrt`` module (not installable without a GPU here) by a small stand-in with
the API surface ``build_engine`` uses, recording what was asked of it. Real: ``build_engine``'s
logic. The real build runs in ``test_trt_gpu.py`` on a GPU machine.
"""

from __future__ import annotations

from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from models import BackendUnavailableError, EngineBuildError, Precision
from models import trt_build as trt_build_module
from models.trt_build import build_engine


class _Recorder:
    def __init__(self) -> None:
        self.flags: list[str] = []
        self.parsed: list[bytes] = []
        self.profiles: list[tuple[str, tuple[int, ...]]] = []
        self.monitor: Any = None


def fake_tensorrt(
    version: str, *, parse_ok: bool = True, input_shape: tuple[int, ...] = (1, 994)
) -> tuple[ModuleType, _Recorder]:
    record = _Recorder()
    trt = ModuleType("tensorrt")

    class ILogger:
        Severity = SimpleNamespace(INTERNAL_ERROR=0, ERROR=1, WARNING=2, INFO=3, VERBOSE=4)

        def __init__(self) -> None:
            pass

    class IProgressMonitor:
        def __init__(self) -> None:
            pass

    class Network:
        num_inputs = 1

        def get_input(self, index: int) -> Any:
            return SimpleNamespace(name="obs_dict", shape=input_shape)

    class Parser:
        num_errors = 0 if parse_ok else 1

        def __init__(self, network: Network, logger: Any) -> None:
            pass

        def parse(self, data: bytes) -> bool:
            record.parsed.append(data)
            return parse_ok

        def get_error(self, index: int) -> str:
            return "In node 3 (Gemm): unsupported"

    class Profile:
        def set_shape(self, name: str, low: Any, opt: Any, high: Any) -> None:
            assert low == opt == high
            record.profiles.append((name, tuple(low)))

    class Config:
        progress_monitor: Any = None

        def set_memory_pool_limit(self, pool: str, size: int) -> None:
            assert size == 256 << 20

        def set_flag(self, flag: str) -> None:
            record.flags.append(flag)

        def add_optimization_profile(self, profile: Profile) -> None:
            pass

        def __setattr__(self, name: str, value: Any) -> None:
            record.monitor = value
            object.__setattr__(self, name, value)

    class Builder:
        def __init__(self, logger: Any) -> None:
            if version.startswith("10"):
                self.platform_has_fast_fp16 = True

        def create_network(self, flags: int) -> Network:
            assert flags == 0
            return Network()

        def create_builder_config(self) -> Config:
            return Config()

        def create_optimization_profile(self) -> Profile:
            return Profile()

        def build_serialized_network(self, network: Network, config: Config) -> bytes:
            return b"serialized engine"

    trt.__version__ = version  # type: ignore[attr-defined]
    trt.ILogger = ILogger  # type: ignore[attr-defined]
    trt.IProgressMonitor = IProgressMonitor  # type: ignore[attr-defined]
    trt.Builder = Builder  # type: ignore[attr-defined]
    trt.OnnxParser = Parser  # type: ignore[attr-defined]
    trt.MemoryPoolType = SimpleNamespace(WORKSPACE="workspace")  # type: ignore[attr-defined]
    if version.startswith("10"):
        trt.BuilderFlag = SimpleNamespace(FP16="FP16")  # type: ignore[attr-defined]
    return trt, record


def _build(trt: ModuleType, precision: Precision, **kwargs: Any) -> bytes:
    return build_engine(
        trt, b"onnx", model="sonic_decoder", precision=precision, workspace_mib=256, **kwargs
    )


def test_tensorrt_10_fp32_sets_no_precision_flag() -> None:
    trt, record = fake_tensorrt("10.7.0")
    assert _build(trt, Precision.FP32) == b"serialized engine"
    assert record.flags == []
    assert record.parsed == [b"onnx"]


def test_tensorrt_10_fp16_uses_the_builder_flag() -> None:
    trt, record = fake_tensorrt("10.3.0")
    _build(trt, Precision.FP16)
    assert record.flags == ["FP16"]


def test_tensorrt_11_fp16_without_modelopt_is_a_clear_build_error() -> None:
    trt, record = fake_tensorrt("11.4.0")
    with pytest.raises(EngineBuildError, match="nvidia-modelopt"):
        _build(trt, Precision.FP16)
    assert record.parsed == []


def test_tensorrt_11_fp16_converts_the_model_first(monkeypatch: pytest.MonkeyPatch) -> None:
    trt, record = fake_tensorrt("11.4.0")
    seen: dict[str, Any] = {}

    def convert(**kwargs: Any) -> Any:
        seen.update(kwargs)
        return SimpleNamespace(SerializeToString=lambda: b"fp16 onnx")

    autocast = SimpleNamespace(convert_to_mixed_precision=convert)
    monkeypatch.setattr(
        trt_build_module, "import_optional",
        lambda name: autocast if name == "modelopt.onnx.autocast" else None,
    )  # fmt: skip
    _build(trt, Precision.FP16)
    assert record.parsed == [b"fp16 onnx"]
    assert record.flags == []  # no weak-typing flag exists in 11
    assert seen["low_precision_type"] == "fp16"
    assert seen["keep_io_types"] is True


def test_tensorrt_11_fp32_builds_as_is() -> None:
    trt, record = fake_tensorrt("11.4.0")
    _build(trt, Precision.FP32)
    assert record.parsed == [b"onnx"]


def test_tensorrt_9_is_refused() -> None:
    trt, _ = fake_tensorrt("9.3.0")
    with pytest.raises(BackendUnavailableError, match="TensorRT 10 or 11"):
        _build(trt, Precision.FP32)


def test_parser_errors_are_reported() -> None:
    trt, _ = fake_tensorrt("10.7.0", parse_ok=False)
    with pytest.raises(EngineBuildError, match=r"ONNX parser: In node 3 \(Gemm\)"):
        _build(trt, Precision.FP32)


def test_dynamic_batch_gets_a_batch_one_profile() -> None:
    trt, record = fake_tensorrt("10.7.0", input_shape=(-1, 994))
    _build(trt, Precision.FP32)
    assert record.profiles == [("obs_dict", (1, 994))]


def test_progress_monitor_is_attached_when_asked() -> None:
    trt, record = fake_tensorrt("10.7.0")

    class Progress:
        def phase_start(self, phase: str, parent: str | None, steps: int) -> None: ...

        def phase_step(self, phase: str, step: int) -> None: ...

        def phase_finish(self, phase: str) -> None: ...

    _build(trt, Precision.FP32, progress=Progress())
    assert isinstance(record.monitor, trt.IProgressMonitor)
    assert record.monitor.step_complete("Building", 0) is True  # True = keep building
