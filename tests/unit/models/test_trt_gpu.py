"""Native TensorRT and ONNX Runtime GPU backends on a real GPU (``pytest -m gpu``).

Real: TensorRT, cuda-python, the GPU, ONNX Runtime CPU as the reference. Skipped, with the
reason, where any of them is missing. Needs: tensorrt (10.x on JetPack 6, 11.x from PyPI on
x86), cuda-python, and onnxruntime-gpu for the ONNX Runtime GPU test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models import BackendKind, SessionConfig, open_session
from models import trt_session as trt_session_module
from models.engine_cache import CacheStatus, EngineCache, EngineKey
from models.environment import probe_environment
from models.fixtures import sonic_decoder_fixture
from models.selection import CUDA_PROVIDER

_ENV = probe_environment()
if _ENV.gpu is None:
    _SKIP = f"no NVIDIA GPU ({_ENV.gpu_problem})"
elif not _ENV.has_native_tensorrt:
    _SKIP = "tensorrt or cuda-python not installed (pip install tensorrt cuda-python)"
else:
    _SKIP = ""

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(bool(_SKIP), reason=_SKIP)]


def _run(session: object, x: np.ndarray) -> np.ndarray:
    y = np.zeros((1, 29), dtype=np.float32)
    session.run({"obs_dict": x}, {"action": y})  # type: ignore[attr-defined]
    return y


@pytest.fixture
def decoder(tmp_path: Path) -> Path:
    return sonic_decoder_fixture(tmp_path / "model_decoder.onnx", hidden=(256, 256))


def test_tensorrt_matches_onnx_runtime_cpu_and_replays_its_graph(
    decoder: Path, tmp_path: Path
) -> None:
    config = SessionConfig(backend=BackendKind.TENSORRT, cache_dir=tmp_path / "engines")
    trt = open_session(decoder, model="sonic_decoder", config=config)
    cpu = open_session(decoder, model="cpu_ref", config=SessionConfig(backend=BackendKind.ORT_CPU))
    assert trt.backend is BackendKind.TENSORRT
    assert getattr(trt, "uses_cuda_graph", False)
    x = np.zeros((1, 994), dtype=np.float32)
    rng = np.random.default_rng(0)
    for _ in range(3):  # same input buffer, new values: the graph must see them
        x[...] = rng.standard_normal((1, 994))
        np.testing.assert_allclose(_run(trt, x), _run(cpu, x), atol=2e-3, rtol=1e-3)
    trt.close()


def test_second_start_loads_the_cached_engine(
    decoder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = SessionConfig(backend=BackendKind.TENSORRT, cache_dir=tmp_path / "engines")
    open_session(decoder, model="sonic_decoder", config=config).close()

    def no_build(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("engine rebuilt although the cache matched")

    monkeypatch.setattr(trt_session_module, "build_engine", no_build)
    open_session(decoder, model="sonic_decoder", config=config).close()


def test_foreign_engine_is_rebuilt_not_loaded(decoder: Path, tmp_path: Path) -> None:
    config = SessionConfig(backend=BackendKind.TENSORRT, cache_dir=tmp_path / "engines")
    cache = EngineCache(tmp_path / "engines")
    foreign = EngineKey("0" * 64, "Some Other GPU", "7.5", "10.0.0", "1.17.0", "fp32")
    # Same file name as the real engine, garbage plan: loading it would crash TensorRT.
    cache.store("sonic_decoder", foreign, b"not an engine")
    session = open_session(decoder, model="sonic_decoder", config=config)
    assert np.isfinite(_run(session, np.ones((1, 994), np.float32))).all()
    session.close()
    plan, lookup = trt_session_module.ensure_engine(
        decoder, model="sonic_decoder", config=config, env=_ENV
    )
    assert lookup is not None
    assert lookup.status is CacheStatus.HIT
    assert plan != b"not an engine"


@pytest.mark.skipif(CUDA_PROVIDER not in _ENV.ort_providers, reason="onnxruntime-gpu not installed")
def test_onnx_runtime_cuda_runs_on_the_gpu(decoder: Path) -> None:
    session = open_session(
        decoder, model="sonic_decoder", config=SessionConfig(backend=BackendKind.ORT_CUDA)
    )
    assert session.backend is BackendKind.ORT_CUDA
    assert np.isfinite(_run(session, np.ones((1, 994), np.float32))).all()
