"""The one place that reads configuration: a TOML file, ``EXOACTOR_*`` environment overrides,
command-line overrides; validated into the controller's own frozen config dataclasses.

Any error (syntax, unknown key, wrong type, value out of range) becomes a ``ConfigError`` whose
message is one line naming the key, so ``exoactor-edge`` can stop before anything moves.
Priority: command-line overrides > environment > file > defaults.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from controller.dynamics import FeedforwardJoints
from controller.loop import LoopConfig
from controller.pd_tracker import PdTrackerConfig
from controller.realtime import RealtimeConfig
from controller.robot.mujoco_backend import SimConfig
from controller.robot.unitree_config import BackendKind, UnitreeDdsConfig
from controller.safety import SupervisorConfig
from controller.sonic.config import SonicConfig
from daemon.fleet.vda5050.config import FleetConfig
from daemon.generation.config import GenerationConfig
from daemon.inputs.ingest_zmq import IngestConfig
from daemon.inputs.stream_config import StreamingConfig
from estimators.errors import SigningKeyError
from estimators.package import PackageConfig, key_id_of
from estimators.package.signing import parse_public_key

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 on JetPack 6
    import tomli as tomllib

DEFAULT_CONFIG_PATH = Path("/etc/exoactor/edge.toml")


class ConfigError(ValueError):
    """A configuration problem, described in one line that names the key or path."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(f"{key}: {message}" if key else message)


class RobotSettings(BaseModel):
    """Which robot to drive (``backend``) and, for the simulator, which model to simulate."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    backend: BackendKind = BackendKind.SIM
    """``sim``: the in-process simulator; ``unitree``: a G1 (or ``exoactor-edge sim-bridge``)
    on DDS, configured by ``[robot.unitree]``."""
    unitree: UnitreeDdsConfig = Field(default_factory=UnitreeDdsConfig)
    mjcf_path: Path | None = None
    """An MJCF to simulate; must exist when set. Unset: Unitree's official model beside the
    checkout when present, else the built-in one."""
    use_official_model: bool = True


class DaemonSettings(BaseModel):
    """The service itself: where it keeps state and how it stops."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    run_dir: Path = Path("/run/exoactor-edge")
    """IPC sockets to the control process and the local admin socket."""
    state_dir: Path = Path("/var/lib/exoactor-edge")
    """The e-stop latch and the package store live here (must survive reboots)."""
    shutdown_mode: Literal["hold", "damp"] = "damp"
    """What the robot is left in when the service stops (SIGTERM)."""
    heartbeat_timeout_s: float = Field(default=0.5, gt=0.0)
    """The control process holds, then damps, when the daemon is silent this long."""
    ready_max_state_age_ms: float = Field(default=100.0, gt=0.0)
    """READY=1 waits for robot state at least this fresh."""
    realtime: bool = True
    """Ask for SCHED_FIFO, mlockall and a frozen GC in the control process."""
    state_publish_endpoint: str | None = None
    """ZeroMQ PUB of per-tick robot state (msgpack) for visualisers, e.g. "tcp://*:5557"."""


class SafetySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    estop_latch_path: Path = Path("/var/lib/exoactor-edge/estop.json")
    supervisor: SupervisorConfig = Field(default_factory=SupervisorConfig)
    gravity_feedforward: FeedforwardJoints = FeedforwardJoints.ALL


class StoreSettings(BaseModel):
    """Bounds of the on-disk package store (it lives under ``daemon.state_dir``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    max_packages: int = Field(default=64, ge=1)
    max_total_bytes: int = Field(default=2 * 1024**3, ge=1024)


PUBLIC_KEY_SUFFIX = ".pub"


def load_trusted_keys(paths: tuple[Path, ...]) -> dict[str, bytes]:
    """Key id -> raw Ed25519 public key from key files and directories (``*.pub`` inside).

    Raises:
        ValueError: a path is missing or unreadable, or a file is not an Ed25519 public key.
    """
    keys: dict[str, bytes] = {}
    for path in paths:
        try:
            if path.is_dir():
                files = sorted(
                    p for p in path.iterdir() if p.suffix == PUBLIC_KEY_SUFFIX and p.is_file()
                )
            elif path.is_file():
                files = [path]
            else:
                raise ValueError(f"{path}: no such key file or directory")
            for file in files:
                raw = parse_public_key(file.read_bytes())
                keys[key_id_of(raw)] = raw
        except SigningKeyError as exc:
            raise ValueError(f"{file}: {exc.detail}") from None
        except OSError as exc:
            raise ValueError(f"{exc.filename or path}: cannot read: {exc.strerror}") from None
    return keys


class PackageSettings(BaseModel):
    """Motion packages: who may sign them and how large they may be."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    require_signature: bool = False
    """Refuse packages without a valid signature by a trusted key. The shipped edge.toml sets
    it; the default stays off so a development run without keys works (the simulator demo runs
    in-process and uploads nothing). A signature by an unknown key is refused either way."""
    trusted_keys: tuple[Path, ...] = ()
    """Ed25519 public key files (PEM or hex) and directories of them (every ``*.pub`` inside).
    Each key is known by the id derived from it (``exoactor-edge package keygen`` prints it)."""
    max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    """Largest package (bytes); ``ingest.max_message_bytes`` may not exceed it."""
    max_frames: int = Field(default=36_000, ge=1)
    """Most frames in one package (10 minutes at 60 fps)."""
    _keys: dict[str, bytes] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _load_keys(self) -> PackageSettings:
        self._keys = load_trusted_keys(self.trusted_keys)
        if self.require_signature and not self._keys:
            raise ValueError("require_signature is set but trusted_keys names no key")
        return self

    def package_config(self) -> PackageConfig:
        """The codec's limits and trust settings (keys as read when the config was loaded)."""
        return PackageConfig(
            max_bytes=self.max_bytes,
            max_frames=self.max_frames,
            require_signature=self.require_signature,
            trusted_keys=self._keys,
        )


class EdgeConfig(BaseSettings):
    """The whole configuration. Sections map to the controller's config dataclasses."""

    model_config = SettingsConfigDict(
        env_prefix="EXOACTOR_", env_nested_delimiter="__", extra="forbid", frozen=True
    )
    robot: RobotSettings = Field(default_factory=RobotSettings)
    sim: SimConfig = Field(default_factory=SimConfig)
    safety: SafetySettings = Field(default_factory=SafetySettings)
    loop: LoopConfig = Field(default_factory=LoopConfig)
    realtime: RealtimeConfig = Field(default_factory=RealtimeConfig)
    pd_tracker: PdTrackerConfig = Field(default_factory=PdTrackerConfig)
    sonic: SonicConfig | None = None
    """SONIC's encoder/decoder ONNX files; when set, SONIC tracks instead of the PD tracker."""
    daemon: DaemonSettings = Field(default_factory=DaemonSettings)
    fleet: FleetConfig = Field(default_factory=FleetConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    store: StoreSettings = Field(default_factory=lambda: StoreSettings())
    package: PackageSettings = Field(default_factory=PackageSettings)
    """Signatures and limits of motion packages (every upload path)."""
    generation: GenerationConfig = Field(default_factory=GenerationConfig)
    """Cloud generation stage (camera, embodiment transfer, planning, video, estimation)."""
    streaming: StreamingConfig | None = None
    """SONIC-protocol streaming input (teleoperation, webcam, VLA producers); off when unset."""

    @model_validator(mode="after")
    def _uploads_fit_packages(self) -> EdgeConfig:
        # A larger transport limit would let an upload that can never be accepted be buffered.
        limit = self.package.max_bytes
        for key, value in (
            ("ingest.max_message_bytes", self.ingest.max_message_bytes),
            ("fleet.max_package_bytes", self.fleet.max_package_bytes),
        ):
            if value > limit:
                raise ValueError(f"{key} ({value}) exceeds package.max_bytes ({limit})")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _FileSource(settings_cls))


@dataclass
class _FileData:
    values: dict[str, Any]


_file_data = _FileData({})


class _FileSource(PydanticBaseSettingsSource):
    """The TOML file's content, the lowest-priority source (set by ``load_config``)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return _file_data.values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_file_data.values)


def load_config(
    path: Path | None, overrides: dict[str, Any] | None = None, *, required: bool = False
) -> EdgeConfig:
    """Read, merge and validate the configuration.

    Args:
        path: a TOML file, or None for defaults + environment.
        overrides: command-line values (nested dicts by section), highest priority.
        required: when True a missing file is an error; else it is skipped.
    """
    file_values: dict[str, Any] = {}
    if path is not None:
        if path.is_file():
            try:
                file_values = tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(str(path), f"not valid TOML: {exc}") from None
            except OSError as exc:
                raise ConfigError(str(path), f"cannot read: {exc.strerror}") from None
        elif required:
            raise ConfigError(str(path), "configuration file not found")
    _file_data.values = file_values
    try:
        return EdgeConfig(**(overrides or {}))
    except ValidationError as exc:
        raise ConfigError(*_describe(exc)) from None
    finally:
        _file_data.values = {}


def _describe(exc: ValidationError) -> tuple[str, str]:
    """(key, message) for the first error, plus a count of the others, on one line."""
    errors = exc.errors()
    first = errors[0]
    key = ".".join(str(part) for part in first["loc"])
    if first["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        message = "unknown key"
    else:
        message = first["msg"].removeprefix("Value error, ")
        if "input" in first and not isinstance(first["input"], dict):
            message += f" (got {first['input']!r})"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more error(s))"
    return key, message


def service_environment() -> dict[str, str]:
    """The variables systemd hands the service (notify socket, watchdog, credentials)."""
    import os

    names = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "CREDENTIALS_DIRECTORY")
    return {name: os.environ[name] for name in names if name in os.environ}


_SECRET_WORDS = ("password", "secret", "token", "api_key", "private")
_REFERENCE_SUFFIXES = ("_file", "_credential", "_path", "_dir")


def masked(values: Any, key: str = "") -> Any:
    """A JSON-ready copy of ``values`` with every secret value replaced by ``"***"``.

    A key naming a secret (password, secret, token, API key, private key) is masked unless it
    only *refers* to one (``..._file``, ``..._credential``): those say where, not what.
    """
    lowered = key.lower()
    if (
        any(word in lowered for word in _SECRET_WORDS)
        and not lowered.endswith(_REFERENCE_SUFFIXES)
        and values not in (None, "")
    ):
        return "***"
    if isinstance(values, dict):
        return {k: masked(v, k) for k, v in values.items()}
    if isinstance(values, list):
        return [masked(v, key) for v in values]
    return values
