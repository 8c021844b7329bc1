"""Engine cache: a stale or foreign engine is rebuilt, never loaded.

Real: the cache files on disk (``EngineCache``) and ``ensure_engine``'s decision logic. Faked:
TensorRT itself (no GPU here): ``import_tensorrt`` returns a stand-in module and
``build_engine`` a deterministic plan that records each build, so the tests see exactly when a
rebuild happens.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from models import Precision, SessionConfig
from models import trt_session as trt_session_module
from models.engine_cache import MAGIC, CacheStatus, EngineCache, EngineKey
from models.environment import GpuInfo
from models.trt_session import ensure_engine
from tests.unit.models.model_helpers import fake_env

KEY = EngineKey(
    onnx_sha256="a" * 64,
    gpu_name="Orin",
    compute_capability="8.7",
    tensorrt_version="10.7.0",
    ort_version="1.23.2",
    precision="fp32",
)


def test_stored_engine_is_found_under_the_same_key(tmp_path: Path) -> None:
    cache = EngineCache(tmp_path)
    path = cache.store("sonic_decoder", KEY, b"plan-bytes")
    lookup = cache.lookup("sonic_decoder", KEY)
    assert lookup.status is CacheStatus.HIT
    assert lookup.plan == b"plan-bytes"
    assert lookup.path == path == tmp_path / "sonic_decoder.fp32.engine"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left behind


def test_missing_engine_is_a_miss(tmp_path: Path) -> None:
    lookup = EngineCache(tmp_path).lookup("sonic_decoder", KEY)
    assert lookup.status is CacheStatus.MISS
    assert lookup.plan is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("gpu_name", "NVIDIA GeForce RTX 4090"),
        ("compute_capability", "8.9"),
        ("tensorrt_version", "10.13.0"),
        ("ort_version", "1.31.1"),
        ("onnx_sha256", "b" * 64),
    ],
)
def test_engine_built_under_another_key_is_stale(tmp_path: Path, field: str, value: str) -> None:
    cache = EngineCache(tmp_path)
    cache.store("sonic_decoder", KEY, b"foreign plan")
    current = dataclasses.replace(KEY, **{field: value})
    lookup = cache.lookup("sonic_decoder", current)
    assert lookup.status is CacheStatus.STALE
    assert lookup.plan is None
    assert lookup.reason == f"{field}: cached {getattr(KEY, field)!r}, current {value!r}"


def test_precisions_are_cached_side_by_side(tmp_path: Path) -> None:
    cache = EngineCache(tmp_path)
    cache.store("sonic_decoder", KEY, b"fp32 plan")
    fp16 = dataclasses.replace(KEY, precision="fp16")
    assert cache.lookup("sonic_decoder", fp16).status is CacheStatus.MISS
    cache.store("sonic_decoder", fp16, b"fp16 plan")
    assert cache.lookup("sonic_decoder", KEY).plan == b"fp32 plan"
    assert cache.lookup("sonic_decoder", fp16).plan == b"fp16 plan"


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda blob: blob[:-3], "checksum"),
        (lambda blob: blob[:-1] + bytes([blob[-1] ^ 0xFF]), "checksum"),
        (lambda blob: b"PK\x03\x04 some zip" + blob, "bad magic"),
        (lambda blob: blob[: len(MAGIC) + 6], "truncated header"),
        (lambda blob: blob[: len(MAGIC) + 4] + b"{not json" + blob[len(MAGIC) + 13 :], "header"),
    ],
)
def test_damaged_engine_file_is_corrupt(tmp_path: Path, damage: Any, reason: str) -> None:
    cache = EngineCache(tmp_path)
    path = cache.store("sonic_decoder", KEY, b"0123456789" * 10)
    path.write_bytes(damage(path.read_bytes()))
    lookup = cache.lookup("sonic_decoder", KEY)
    assert lookup.status is CacheStatus.CORRUPT
    assert reason in lookup.reason
    assert lookup.plan is None


def test_ort_tensorrt_cache_folders_differ_per_key(tmp_path: Path) -> None:
    cache = EngineCache(tmp_path)
    other = dataclasses.replace(KEY, ort_version="1.31.1")
    assert cache.ort_trt_dir("sonic_decoder", KEY) != cache.ort_trt_dir("sonic_decoder", other)
    assert cache.ort_trt_dir("sonic_decoder", KEY) == cache.ort_trt_dir("sonic_decoder", KEY)


class _Builds:
    """Stand-in for TensorRT: counts builds and makes plans that name their inputs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[bytes, Precision]] = []
        fake_trt = SimpleNamespace(__version__="10.7.0")
        monkeypatch.setattr(trt_session_module, "import_tensorrt", lambda: (fake_trt, object()))
        monkeypatch.setattr(trt_session_module, "build_engine", self.build)

    def build(self, trt: Any, onnx_bytes: bytes, *, precision: Precision, **_: Any) -> bytes:
        self.calls.append((onnx_bytes, precision))
        return b"plan for " + onnx_bytes + b" " + precision.value.encode()


def test_ensure_engine_builds_once_then_reuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds = _Builds(monkeypatch)
    onnx = tmp_path / "model_decoder.onnx"
    onnx.write_bytes(b"onnx v1")
    config = SessionConfig(cache_dir=tmp_path / "engines")
    plan, lookup = ensure_engine(onnx, model="sonic_decoder", config=config, env=fake_env())
    assert lookup is not None
    assert lookup.status is CacheStatus.MISS
    assert plan == b"plan for onnx v1 fp32"
    plan_again, lookup_again = ensure_engine(
        onnx, model="sonic_decoder", config=config, env=fake_env()
    )
    assert lookup_again is not None
    assert lookup_again.status is CacheStatus.HIT
    assert plan_again == plan
    assert len(builds.calls) == 1


@pytest.mark.parametrize(
    "change",
    [
        "foreign_gpu",
        "other_tensorrt",
        "other_onnx_runtime",
        "changed_onnx",
    ],
)
def test_ensure_engine_rebuilds_a_stale_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    builds = _Builds(monkeypatch)
    onnx = tmp_path / "model_decoder.onnx"
    onnx.write_bytes(b"onnx v1")
    config = SessionConfig(cache_dir=tmp_path / "engines")
    ensure_engine(onnx, model="sonic_decoder", config=config, env=fake_env())
    env = fake_env()
    if change == "foreign_gpu":
        env = fake_env(gpu=GpuInfo(0, "NVIDIA H100 80GB HBM3", "9.0", 12080))
    elif change == "other_tensorrt":
        env = fake_env(tensorrt="10.13.0")
    elif change == "other_onnx_runtime":
        env = fake_env(ort="1.31.1")
    else:
        onnx.write_bytes(b"onnx v2")
    plan, lookup = ensure_engine(onnx, model="sonic_decoder", config=config, env=env)
    assert lookup is not None
    assert lookup.status is CacheStatus.STALE
    assert len(builds.calls) == 2
    # The rebuilt engine replaced the stale one and is now a hit under the new key.
    _, after = ensure_engine(onnx, model="sonic_decoder", config=config, env=env)
    assert after is not None
    assert after.status is CacheStatus.HIT
    assert len(builds.calls) == 2
    assert plan.startswith(b"plan for onnx v")


def test_ensure_engine_without_cache_dir_always_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds = _Builds(monkeypatch)
    onnx = tmp_path / "m.onnx"
    onnx.write_bytes(b"x")
    for _ in range(2):
        _, lookup = ensure_engine(onnx, model="m", config=SessionConfig(), env=fake_env())
        assert lookup is None
    assert len(builds.calls) == 2


def test_force_rebuild_ignores_a_matching_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds = _Builds(monkeypatch)
    onnx = tmp_path / "m.onnx"
    onnx.write_bytes(b"x")
    config = SessionConfig(cache_dir=tmp_path / "engines", precision=Precision.FP16)
    ensure_engine(onnx, model="m", config=config, env=fake_env())
    ensure_engine(onnx, model="m", config=config, env=fake_env(), force_rebuild=True)
    assert builds.calls == [(b"x", Precision.FP16), (b"x", Precision.FP16)]
