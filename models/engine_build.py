"""Building and verifying engines ahead of boot (``exoactor-edge engines build``).

For each model: pick the backend as the runtime would, make sure its engine is in the cache
(reusing a matching one, rebuilding a stale or foreign one), load it, check the model's contract
and compare one random input against ONNX Runtime on the CPU. On a machine where the runtime
would not use TensorRT there is nothing to build: the models are still loaded and their
contracts checked, so a bad file is found before boot either way.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from models.config import Precision, SessionConfig
from models.engine_cache import CacheStatus
from models.environment import RuntimeEnvironment, probe_environment
from models.errors import ModelError
from models.factory import open_session
from models.selection import choose_backend
from models.session import BackendKind, Session
from models.trt_build import BuildProgress

_log = logging.getLogger(__name__)


class BuildStatus(enum.Enum):
    CACHED = "cached"
    """A cached engine with a matching key was found and verified."""
    BUILT = "built"
    REBUILT = "rebuilt"
    """The cached engine was stale (other ONNX/GPU/version/precision) or corrupt."""
    NOT_NEEDED = "not-needed"
    """The runtime here uses ONNX Runtime without TensorRT; the model was still checked."""
    FAILED = "failed"


@dataclass(frozen=True)
class EngineJob:
    model: str
    """Role name; must match what the runtime passes to ``open_session`` (cache file name)."""
    path: Path
    check: Callable[[Session], None] | None = None
    """Contract check run on the loaded engine/session (raises ``ModelContractError``)."""


@dataclass(frozen=True)
class EngineReport:
    model: str
    status: BuildStatus
    backend: BackendKind | None
    detail: str
    seconds: float
    max_abs_error: float | None = None
    """Largest difference from ONNX Runtime CPU on one random input."""


class EngineProgress(BuildProgress, Protocol):
    """Build phases from TensorRT plus one line per model stage."""

    def stage(self, model: str, message: str) -> None: ...


def tolerance(precision: Precision, reference_scale: float) -> float:
    """Acceptable max abs difference from the FP32 CPU result."""
    relative = 1e-3 if precision is Precision.FP32 else 3e-2
    return relative * max(1.0, reference_scale)


def compare_with_cpu(
    session: Session, path: Path, model: str, seed: int = 0
) -> tuple[float, float]:
    """Run ``session`` and ONNX Runtime CPU on one random input; (max abs diff, output scale)."""
    rng = np.random.default_rng(seed)
    inputs = {
        spec.name: rng.standard_normal(spec.shape).astype(spec.dtype) for spec in session.input_spec
    }
    outputs = {spec.name: spec.empty() for spec in session.output_spec}
    reference = {spec.name: spec.empty() for spec in session.output_spec}
    cpu = open_session(path, model=f"{model}_cpu_check", config=SessionConfig(
        backend=BackendKind.ORT_CPU, use_io_binding=False))  # fmt: skip
    try:
        session.run(inputs, outputs)
        cpu.run(inputs, reference)
    finally:
        cpu.close()
    error = max(
        float(np.max(np.abs(outputs[n].astype(np.float64) - reference[n].astype(np.float64))))
        for n in outputs
    )
    scale = max(float(np.max(np.abs(reference[n].astype(np.float64)))) for n in reference)
    return error, scale


def build_engines(
    jobs: Sequence[EngineJob],
    config: SessionConfig,
    progress: EngineProgress,
    *,
    force: bool = False,
    verify: bool = True,
    env: RuntimeEnvironment | None = None,
) -> list[EngineReport]:
    """Build (or confirm) and verify the engine of every job; never raises ``ModelError``."""
    env = env or probe_environment(config.device_id)
    choice = choose_backend(config, env)
    _log.info("engines: backend %s (%s)", choice.kind.value, choice.reason)
    reports = []
    for job in jobs:
        started = time.monotonic()
        try:
            status, session = _prepare(job, config, choice.kind, env, progress, force)
        except ModelError as error:
            reports.append(EngineReport(job.model, BuildStatus.FAILED, choice.kind, str(error),
                                        time.monotonic() - started))  # fmt: skip
            continue
        detail, max_error, failed = "not verified", None, False
        try:
            if verify:
                failed, detail, max_error = _verify(job, session, config, progress)
        except ModelError as error:
            detail, failed = str(error), True
        finally:
            session.close()
        reports.append(EngineReport(job.model, BuildStatus.FAILED if failed else status,
                                    session.backend, detail, time.monotonic() - started,
                                    max_error))  # fmt: skip
    return reports


def _prepare(
    job: EngineJob,
    config: SessionConfig,
    kind: BackendKind,
    env: RuntimeEnvironment,
    progress: EngineProgress,
    force: bool,
) -> tuple[BuildStatus, Session]:
    if kind is BackendKind.TENSORRT:
        from models.trt_session import TrtSession, ensure_engine, import_tensorrt

        progress.stage(job.model, f"TensorRT engine for {job.path}")
        plan, lookup = ensure_engine(job.path, model=job.model, config=config, env=env,
                                     progress=progress, force_rebuild=force)  # fmt: skip
        status = _status(lookup.status if lookup is not None else None, force)
        progress.stage(job.model, f"engine {status.value}; loading")
        trt, cudart = import_tensorrt()
        session: Session = TrtSession(plan, model=job.model, config=config, trt=trt, cudart=cudart)
    else:
        progress.stage(job.model, f"loading {job.path} on {kind.value}")
        pinned = replace(config, backend=kind)  # the choice, without re-probing AUTO
        session = open_session(job.path, model=job.model, config=pinned, env=env)
        # The ORT TensorRT provider builds (or reuses) its engine cache while loading.
        status = BuildStatus.BUILT if kind is BackendKind.ORT_TENSORRT else BuildStatus.NOT_NEEDED
    if job.check is not None:
        try:
            job.check(session)
        except ModelError:
            session.close()
            raise
    return status, session


def _status(cache: CacheStatus | None, force: bool) -> BuildStatus:
    if cache is CacheStatus.HIT and not force:
        return BuildStatus.CACHED
    if cache in (CacheStatus.STALE, CacheStatus.CORRUPT) or (force and cache is CacheStatus.HIT):
        return BuildStatus.REBUILT
    return BuildStatus.BUILT


def _verify(
    job: EngineJob, session: Session, config: SessionConfig, progress: EngineProgress
) -> tuple[bool, str, float]:
    """(failed, detail, max abs error) of one comparison against ONNX Runtime CPU."""
    progress.stage(job.model, "verifying against ONNX Runtime CPU")
    error, scale = compare_with_cpu(session, job.path, job.model)
    limit = tolerance(config.precision, scale)
    verdict = "ok" if error <= limit else "MISMATCH"
    return error > limit, f"{verdict}: max abs diff {error:.2e} (limit {limit:.1e})", error
