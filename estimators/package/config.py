"""Limits and trust settings for decoding motion packages (the daemon builds one from config)."""

from __future__ import annotations

import math
import types
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ED25519_PUBLIC_KEY_BYTES = 32


@dataclass(frozen=True)
class PackageConfig:
    """What a package may be. Defaults suit a robot receiving minute-long ExoActor motions."""

    max_bytes: int = 64 * 1024 * 1024
    """Largest accepted wire message (bytes)."""
    max_frames: int = 36_000
    """Most frames (10 minutes at 60 fps)."""
    min_fps: float = 10.0
    max_fps: float = 120.0
    require_signature: bool = False
    """When True, a package must carry a valid Ed25519 signature by a key in ``trusted_keys``."""
    trusted_keys: Mapping[str, bytes] = field(default_factory=dict)
    """Key id -> raw 32-byte Ed25519 public key (the daemon derives ids with
    ``signing.key_id_of``; tools may name keys freely)."""
    rotation_tolerance: float = 1e-3
    """Largest ``|R^T R - I|`` entry and ``|det R - 1|`` accepted for rotation matrices."""
    joint_limit_tolerance_rad: float = 1e-3
    """Slack on the G1 joint limits for ``g1_q_ref`` (float32 rounding at the limit)."""
    velocity_limit_scale: float = 1.0
    """``g1_q_ref`` may move at most this fraction of each joint's velocity limit."""

    def __post_init__(self) -> None:
        if self.max_bytes < 64 or self.max_frames < 1:
            raise ValueError("max_bytes must be >= 64 and max_frames >= 1")
        if not (0.0 < self.min_fps <= self.max_fps and math.isfinite(self.max_fps)):
            raise ValueError(f"bad fps range {self.min_fps}..{self.max_fps}")
        if not 0.0 < self.velocity_limit_scale <= 1.0:
            raise ValueError("velocity_limit_scale must lie in (0, 1]")
        if not 0.0 < self.rotation_tolerance < 0.1 or self.joint_limit_tolerance_rad < 0.0:
            raise ValueError("rotation_tolerance must lie in (0, 0.1), limit tolerance >= 0")
        for key_id, key in self.trusted_keys.items():
            if not key_id or len(key) != ED25519_PUBLIC_KEY_BYTES:
                raise ValueError(f"trusted key {key_id!r}: need a name and 32 raw bytes")
            try:
                Ed25519PublicKey.from_public_bytes(key)
            except ValueError:
                raise ValueError(f"trusted key {key_id!r}: not an Ed25519 public key") from None
        if self.require_signature and not self.trusted_keys:
            raise ValueError("require_signature needs at least one trusted key")
        object.__setattr__(self, "trusted_keys", types.MappingProxyType(dict(self.trusted_keys)))
