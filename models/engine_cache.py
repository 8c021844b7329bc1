"""On-disk cache of serialized TensorRT engines.

A TensorRT engine is only valid for the exact ONNX bytes, GPU, TensorRT version and precision it
was built with; loading a foreign one gives wrong results or crashes (SONIC's maintainers call
version pinning safety-critical). Each engine file therefore starts with a header that records
its key; a file whose key differs from the current one is *stale* and is rebuilt, never loaded.
The ONNX Runtime version is part of the key too, as the issue asks of every cache key (it
matters for the ORT TensorRT provider's cache, and costs nothing here).

File layout (one file per model and precision, replaced in place when stale)::

    MAGIC (16 bytes) | header length (uint32 LE) | header (UTF-8 JSON) | plan bytes

The header holds the key fields and the plan's SHA-256, so a truncated or corrupted file is
detected too. Writes go to a temporary file and are renamed, so a crash mid-write never leaves a
half engine under the real name.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import logging
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

_log = logging.getLogger(__name__)

MAGIC = b"EXOACTOR-ENGINE1"
_LENGTH = struct.Struct("<I")
_MAX_HEADER_BYTES = 64 * 1024


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class EngineKey:
    """Everything an engine's validity depends on."""

    onnx_sha256: str
    gpu_name: str
    compute_capability: str
    tensorrt_version: str
    ort_version: str
    precision: str

    def digest(self) -> str:
        """Stable hex digest of all fields (names the ORT TensorRT provider's cache folder)."""
        canonical = json.dumps(dataclasses.asdict(self), sort_keys=True).encode()
        return hashlib.sha256(canonical).hexdigest()

    def differences(self, other: EngineKey) -> list[str]:
        """Human-readable list of fields where ``other`` (cached) differs from ``self``."""
        mine, theirs = dataclasses.asdict(self), dataclasses.asdict(other)
        return [
            f"{name}: cached {theirs[name]!r}, current {mine[name]!r}"
            for name in mine
            if mine[name] != theirs[name]
        ]


class CacheStatus(enum.Enum):
    HIT = "hit"
    MISS = "miss"
    STALE = "stale"
    """Built for another ONNX file, GPU, TensorRT/ORT version or precision."""
    CORRUPT = "corrupt"
    """Unreadable header or plan checksum mismatch."""


@dataclass(frozen=True)
class CacheLookup:
    status: CacheStatus
    plan: bytes | None
    """The serialized engine, only on ``HIT``."""
    reason: str
    path: Path


class EngineCache:
    """A directory of engines, one file per (model, precision)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path_for(self, model: str, key: EngineKey) -> Path:
        return self.directory / f"{model}.{key.precision}.engine"

    def ort_trt_dir(self, model: str, key: EngineKey) -> Path:
        """Folder for ONNX Runtime's TensorRT provider cache; a new key gets a new folder, so
        the provider never sees an engine built under another key."""
        return self.directory / "ort-trt" / f"{model}-{key.digest()[:16]}"

    def lookup(self, model: str, key: EngineKey) -> CacheLookup:
        """Return the cached plan if, and only if, it was built under exactly ``key``."""
        path = self.path_for(model, key)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            return CacheLookup(CacheStatus.MISS, None, "no cached engine", path)
        parsed = _parse(blob)
        if isinstance(parsed, str):
            return CacheLookup(CacheStatus.CORRUPT, None, parsed, path)
        cached_key, plan = parsed
        differences = key.differences(cached_key)
        if differences:
            return CacheLookup(CacheStatus.STALE, None, "; ".join(differences), path)
        return CacheLookup(CacheStatus.HIT, plan, "key matches", path)

    def store(self, model: str, key: EngineKey, plan: bytes) -> Path:
        """Write ``plan`` under ``key`` atomically, replacing any older engine for the model."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path_for(model, key)
        header = json.dumps(
            {
                "key": dataclasses.asdict(key),
                "plan_sha256": hashlib.sha256(plan).hexdigest(),
                "plan_bytes": len(plan),
            },
            sort_keys=True,
        ).encode()
        fd, tmp_name = tempfile.mkstemp(dir=self.directory, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as stream:
                stream.write(MAGIC)
                stream.write(_LENGTH.pack(len(header)))
                stream.write(header)
                stream.write(plan)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        _log.info("engine cache: stored %s (%d bytes)", path, len(plan))
        return path


def _parse(blob: bytes) -> tuple[EngineKey, bytes] | str:
    """Split a cache file into (key, plan), or return why it cannot be trusted."""
    start = len(MAGIC) + _LENGTH.size
    if len(blob) < start or not blob.startswith(MAGIC):
        return "not an exoactor engine file (bad magic)"
    (header_len,) = _LENGTH.unpack_from(blob, len(MAGIC))
    if header_len > _MAX_HEADER_BYTES or len(blob) < start + header_len:
        return "truncated header"
    try:
        header = json.loads(blob[start : start + header_len])
        key = EngineKey(**header["key"])
        plan_sha, plan_bytes = str(header["plan_sha256"]), int(header["plan_bytes"])
    except (ValueError, KeyError, TypeError) as error:
        return f"unreadable header ({error})"
    plan = blob[start + header_len :]
    if len(plan) != plan_bytes or hashlib.sha256(plan).hexdigest() != plan_sha:
        return "engine bytes do not match the header checksum (truncated or modified)"
    return key, plan
