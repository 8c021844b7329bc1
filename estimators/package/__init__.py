"""Motion package format v1: metadata, arrays, digest, signature; encode and decode + validate.

Producer: build a ``MotionPackage`` and call ``encode_package``. Daemon: ``decode_package`` with
its ``PackageConfig``; a ``PackageRejectedError`` carries the reason.
"""

from estimators.errors import PackageErrorCode, PackageRejectedError
from estimators.package.codec import decode_package, encode_package
from estimators.package.config import PackageConfig
from estimators.package.envelope import PackageIdentity, peek_identity, resign_package
from estimators.package.meta import (
    AxisConvention,
    BodyModel,
    BodyMotion,
    CameraView,
    DecodedPackage,
    HandsFormat,
    HandStates,
    MotionPackage,
    PackageMeta,
    PackageSource,
    RotationFormat,
    WilorHands,
)
from estimators.package.signing import generate_signing_key, key_id_of, public_key_bytes

__all__ = [
    "AxisConvention",
    "BodyModel",
    "BodyMotion",
    "CameraView",
    "DecodedPackage",
    "HandStates",
    "HandsFormat",
    "MotionPackage",
    "PackageConfig",
    "PackageErrorCode",
    "PackageIdentity",
    "PackageMeta",
    "PackageRejectedError",
    "PackageSource",
    "RotationFormat",
    "WilorHands",
    "decode_package",
    "encode_package",
    "generate_signing_key",
    "key_id_of",
    "peek_identity",
    "public_key_bytes",
    "resign_package",
]
