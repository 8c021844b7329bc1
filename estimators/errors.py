"""Errors raised by the estimators package. Each carries fields as well as a message."""

from __future__ import annotations

import enum


class PackageErrorCode(str, enum.Enum):
    """Stable, machine-readable reasons a motion package is rejected (wire values never change)."""

    MALFORMED = "malformed"
    """Not a msgpack message of the expected top-level structure."""
    UNSUPPORTED_VERSION = "unsupported_version"
    """Unknown format marker or package format version."""
    MISSING_FIELD = "missing_field"
    UNKNOWN_FIELD = "unknown_field"
    INVALID_METADATA = "invalid_metadata"
    """A metadata field has the wrong type or value (pydantic validation)."""
    BAD_DTYPE = "bad_dtype"
    BAD_SHAPE = "bad_shape"
    """Array shape does not match the metadata (including frame-count mismatches)."""
    NON_FINITE = "non_finite"
    NOT_A_ROTATION = "not_a_rotation"
    """Axis-angle longer than 2π, or a matrix that is not orthonormal with det +1."""
    OUT_OF_RANGE = "out_of_range"
    """A value outside its documented domain (hand state codes, confidences)."""
    FPS_OUT_OF_RANGE = "fps_out_of_range"
    TOO_MANY_FRAMES = "too_many_frames"
    TOO_LARGE = "too_large"
    DIGEST_MISMATCH = "digest_mismatch"
    SIGNATURE_MISSING = "signature_missing"
    SIGNATURE_INVALID = "signature_invalid"
    """The signature is malformed (not 64 bytes) or does not verify with the key it names."""
    SIGNATURE_UNKNOWN_KEY = "signature_unknown_key"
    """The signature names a key id (``key_id``) this robot does not trust. A signature that
    cannot be checked is refused whether or not signatures are required."""
    JOINT_LIMIT = "joint_limit"
    """A precomputed G1 joint reference lies outside the G1 joint limits."""
    JOINT_VELOCITY = "joint_velocity"
    """The G1 track (precomputed or mapped) moves a joint faster than allowed: a jump."""
    SELF_COLLISION = "self_collision"
    """An arm or hand of the G1 track hits the hips, torso or the other arm, and no small
    shoulder-roll/elbow adjustment clears it."""


class PackageRejectedError(ValueError):
    """A motion package failed decoding or validation; nothing was loaded.

    Attributes:
        code: the stable reason.
        field: the offending field (``"meta.fps"``, ``"arrays.body_pose"``, ``"digest"``, ...).
        detail: a human-readable explanation.
    """

    def __init__(self, code: PackageErrorCode, field: str, detail: str) -> None:
        super().__init__(f"package rejected [{code.value}] {field}: {detail}")
        self.code = code
        self.field = field
        self.detail = detail

    def __reduce__(self) -> tuple[type[PackageRejectedError], tuple[PackageErrorCode, str, str]]:
        # Keeps the fields when the error crosses a process boundary (pickle).
        return (type(self), (self.code, self.field, self.detail))


class SkeletonError(ValueError):
    """A rest-joint skeleton that cannot be used (wrong shape, non-finite, unreadable file).

    Attributes:
        source: what was being loaded (a path or a source name).
        detail: why it was refused.
    """

    def __init__(self, source: str, detail: str) -> None:
        super().__init__(f"skeleton {source}: {detail}")
        self.source = source
        self.detail = detail


class OptionalDependencyError(ImportError):
    """An optional package (``smplx``, ``torch``) is needed for this call but not installed.

    Attributes:
        package: the missing distribution name.
        purpose: what it was needed for.
    """

    def __init__(self, package: str, purpose: str) -> None:
        super().__init__(f"{purpose} needs the optional package {package!r}: pip install {package}")
        self.package = package
        self.purpose = purpose


class GenmoErrorCode(str, enum.Enum):
    """Stable reasons a GENMO output (or a WiLoR file beside it) cannot be imported."""

    UNREADABLE = "unreadable"
    """The file cannot be opened or read (missing, permissions)."""
    EMPTY_FILE = "empty_file"
    TOO_LARGE = "too_large"
    UNKNOWN_FORMAT = "unknown_format"
    """Neither a .pt (torch), .npz nor .npy file by its content."""
    CORRUPT = "corrupt"
    """Truncated or damaged: the container or the pickle stream inside it is broken."""
    UNSAFE_CONTENT = "unsafe_content"
    """A pickle asks for something other than dicts, lists and numeric arrays (never run)."""
    MISSING_DEPENDENCY = "missing_dependency"
    NOT_A_DICT = "not_a_dict"
    MISSING_ARRAY = "missing_array"
    NOT_NUMERIC = "not_numeric"
    BAD_SHAPE = "bad_shape"
    """Not one of the exact shapes GENMO writes; the detail names the likely mistake."""
    FRAME_MISMATCH = "frame_mismatch"
    EMPTY_SEQUENCE = "empty_sequence"
    NON_FINITE = "non_finite"
    NOT_A_ROTATION = "not_a_rotation"
    BAD_FPS = "bad_fps"
    BAD_METADATA = "bad_metadata"


class GenmoImportError(ValueError):
    """GENMO output that cannot be turned into a motion package.

    Attributes:
        code: the stable reason.
        source: the file or object read.
        detail: what is wrong with it, in one line.
    """

    def __init__(self, code: GenmoErrorCode, source: str, detail: str) -> None:
        super().__init__(f"[{code.value}] {source}: {detail}")
        self.code = code
        self.source = source
        self.detail = detail

    def __reduce__(
        self,
    ) -> tuple[type[GenmoImportError], tuple[GenmoErrorCode, str, str]]:
        return (type(self), (self.code, self.source, self.detail))


class SigningKeyError(ValueError):
    """A key file's content is not a usable Ed25519 key.

    Attributes:
        detail: what is wrong with it (never the key material itself).
    """

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail
