"""``open_session``: the one way the rest of the code loads a model.

Picks the backend (``models.selection``), logs the choice and its reason once per model, loads
the model on that backend and checks it against its contract before handing it out. Backends are
imported here lazily, so importing ``models`` never imports ONNX Runtime or TensorRT.
"""

from __future__ import annotations

import logging
from pathlib import Path

from models.config import SessionConfig
from models.contracts import ModelContract
from models.engine_cache import EngineCache, EngineKey, sha256_file
from models.environment import RuntimeEnvironment, probe_environment, tensorrt_library_version
from models.errors import ModelError
from models.selection import BackendChoice, choose_backend
from models.session import BackendKind, Session

_log = logging.getLogger(__name__)
_logged_choices: set[tuple[str, BackendKind]] = set()


def open_session(
    path: Path,
    *,
    model: str,
    config: SessionConfig | None = None,
    contract: ModelContract | None = None,
    env: RuntimeEnvironment | None = None,
) -> Session:
    """Load ``path`` for inference.

    Args:
        path: the ONNX file (TensorRT engines are derived from it and cached).
        model: the model's role, used in logs, errors and engine file names.
        config: backend, precision, threads, cache; defaults to ``SessionConfig()``.
        contract: checked after loading; a mismatch raises ``ModelContractError``.
        env: the probed machine (tests pass a fake); probed once per process when None.

    Raises:
        ModelLoadError, ModelContractError, BackendUnavailableError, GpuRequiredError,
        EngineBuildError: all at load time.
    """
    config = config or SessionConfig()
    env = env or probe_environment(config.device_id)
    choice = choose_backend(config, env)
    _log_choice(model, choice)
    session = _open(path, model=model, kind=choice.kind, config=config, env=env)
    if contract is not None:
        try:
            contract.check(session)
        except ModelError:
            session.close()
            raise
    return session


def _log_choice(model: str, choice: BackendChoice) -> None:
    if (model, choice.kind) not in _logged_choices:
        _logged_choices.add((model, choice.kind))
        _log.info("model %s: backend %s (%s)", model, choice.kind.value, choice.reason)


def _open(
    path: Path, *, model: str, kind: BackendKind, config: SessionConfig, env: RuntimeEnvironment
) -> Session:
    if kind is BackendKind.TENSORRT:
        from models.trt_session import open_trt_session

        return open_trt_session(path, model=model, config=config, env=env)
    from models.ort_session import OrtSession

    trt_dir = None
    if kind is BackendKind.ORT_TENSORRT and config.cache_dir is not None and path.is_file():
        trt_dir = EngineCache(config.cache_dir).ort_trt_dir(model, _ort_trt_key(path, config, env))
    return OrtSession.open(
        path, model=model, backend=kind, config=config, env=env, trt_cache_dir=trt_dir
    )


def _ort_trt_key(path: Path, config: SessionConfig, env: RuntimeEnvironment) -> EngineKey:
    """Key of ONNX Runtime's TensorRT-provider cache. Its engines are not portable across
    model, ORT version, TensorRT version or hardware (ORT's docs), so all of them are in it."""
    gpu = env.gpu
    return EngineKey(
        onnx_sha256=sha256_file(path),
        gpu_name=gpu.name if gpu is not None else "none",
        compute_capability=gpu.compute_capability if gpu is not None else "none",
        tensorrt_version=env.tensorrt_version or tensorrt_library_version() or "unknown",
        ort_version=env.ort_version,
        precision=config.precision.value,
    )
