"""Motion package v1: round trips, signatures, and one crafted bad package per rejection code.

Real: msgpack encoding, SHA-256, Ed25519 (``cryptography``), pydantic metadata validation and
every content check. Faked: the motion itself (random SMPL parameters, synthetic hands).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import msgpack
import numpy as np
import pytest

from controller.embodiment.g1 import Q_DEFAULT, joint_index
from estimators.package import (
    HandsFormat,
    PackageConfig,
    PackageErrorCode,
    PackageRejectedError,
    RotationFormat,
    decode_package,
    encode_package,
    generate_signing_key,
    public_key_bytes,
)
from estimators.package.codec import seal_body
from tests.unit.estimators.package_builders import build_package, reseal, wire_dict

Code = PackageErrorCode


def test_round_trip_preserves_metadata_and_arrays() -> None:
    package = build_package(20, seed=3)
    data = encode_package(package)
    decoded = decode_package(data, PackageConfig())
    assert decoded.package.meta == package.meta
    assert decoded.wire_bytes == len(data)
    assert len(decoded.sha256_hex) == 64
    assert decoded.signed_by is None
    got, want = decoded.package, package
    np.testing.assert_array_equal(got.body.body_pose, want.body.body_pose)
    np.testing.assert_array_equal(got.body.global_orient, want.body.global_orient)
    np.testing.assert_array_equal(got.body.transl, want.body.transl)
    assert got.body.betas is not None
    assert want.body.betas is not None
    np.testing.assert_array_equal(got.body.betas, want.body.betas)
    assert got.hands is not None
    assert want.hands is not None
    np.testing.assert_array_equal(got.hands.keypoints, want.hands.keypoints)  # type: ignore[union-attr]
    np.testing.assert_array_equal(got.hands.valid, want.hands.valid)  # type: ignore[union-attr]


@pytest.mark.parametrize("hands_format", list(HandsFormat))
@pytest.mark.parametrize("rotation_format", list(RotationFormat))
def test_round_trip_every_layout(
    hands_format: HandsFormat, rotation_format: RotationFormat
) -> None:
    package = build_package(8, hands_format=hands_format, rotation_format=rotation_format)
    decoded = decode_package(encode_package(package), PackageConfig()).package
    assert decoded.meta.hands_format is hands_format
    assert decoded.body.body_pose.shape == package.body.body_pose.shape
    assert (decoded.hands is None) == (hands_format is HandsFormat.NONE)


def test_smpl_body_pose_with_23_joints_round_trips() -> None:
    package = build_package(6, body_joints=23, hands_format=HandsFormat.NONE)
    decoded = decode_package(encode_package(package), PackageConfig()).package
    assert decoded.body.body_pose.shape == (6, 23, 3)


def test_decoded_arrays_are_zero_copy_read_only_views() -> None:
    decoded = decode_package(encode_package(build_package(10)), PackageConfig()).package
    for array in (decoded.body.body_pose, decoded.body.transl):
        assert not array.flags.writeable
        assert not array.flags.owndata
        assert array.dtype == np.float32


def test_signed_package_verifies_with_trusted_key() -> None:
    key = generate_signing_key()
    config = PackageConfig(require_signature=True, trusted_keys={"cloud-1": public_key_bytes(key)})
    data = encode_package(build_package(5), signing_key=key, key_id="cloud-1")
    assert decode_package(data, config).signed_by == "cloud-1"


def test_signature_from_unknown_key_is_refused_even_when_not_required() -> None:
    data = encode_package(build_package(5), signing_key=generate_signing_key(), key_id="other")
    with pytest.raises(PackageRejectedError) as caught:
        decode_package(data, PackageConfig())
    assert caught.value.code is Code.SIGNATURE_UNKNOWN_KEY
    assert caught.value.field == "key_id"


def test_all_zero_signature_under_an_unknown_key_id_is_refused() -> None:
    """The issue's forgery: 64 zero bytes claiming a key the robot never heard of."""
    for config in (PackageConfig(), _STRICT):
        with pytest.raises(PackageRejectedError) as caught:
            decode_package(reseal(_body(), signature=bytes(64), key_id="fleet-ca"), config)
        assert caught.value.code is Code.SIGNATURE_UNKNOWN_KEY


def test_all_zero_signature_under_a_trusted_key_id_is_invalid() -> None:
    with pytest.raises(PackageRejectedError) as caught:
        decode_package(reseal(_body(), signature=bytes(64), key_id="cloud-1"), _STRICT)
    assert caught.value.code is Code.SIGNATURE_INVALID


def test_a_key_id_without_a_signature_is_refused() -> None:
    with pytest.raises(PackageRejectedError) as caught:
        decode_package(reseal(_body(), key_id="cloud-1"), PackageConfig())
    assert caught.value.code is Code.SIGNATURE_INVALID


def test_encode_rejects_what_the_daemon_would_reject() -> None:
    package = build_package(5)
    package.body.transl[2, 1] = np.nan
    with pytest.raises(PackageRejectedError) as info:
        encode_package(package)
    assert info.value.code is Code.NON_FINITE
    assert info.value.field == "arrays.transl"


def test_error_carries_fields_and_survives_pickling() -> None:
    import pickle

    error = PackageRejectedError(Code.BAD_SHAPE, "arrays.transl", "wrong")
    clone = pickle.loads(pickle.dumps(error))
    assert (clone.code, clone.field, clone.detail) == (Code.BAD_SHAPE, "arrays.transl", "wrong")


# ------------------------------------------------------------------ crafted bad packages


def _body(**kw: Any) -> dict[str, Any]:
    return wire_dict(build_package(6, **kw))


def _edit_meta(**changes: Any) -> bytes:
    body = _body()
    body["meta"].update(changes)
    return reseal(body)


def _drop(path: tuple[str, str]) -> bytes:
    body = _body()
    del body[path[0]][path[1]]
    return reseal(body)


def _set_array(name: str, entry: list[Any]) -> bytes:
    body = _body()
    body["arrays"][name] = entry
    return reseal(body)


def _unvalidated(**kw: Any) -> Callable[[Callable[[Any], None]], bytes]:
    def apply(mutate: Callable[[Any], None]) -> bytes:
        package = build_package(6, **kw)
        mutate(package)
        return encode_package(package, validate=False)

    return apply


def _nan_transl(p: Any) -> None:
    p.body.transl[1, 0] = np.inf


def _long_rotvec(p: Any) -> None:
    p.body.body_pose[3, 4] = [7.0, 0.0, 0.0]


def _scaled_rotmat(p: Any) -> None:
    p.body.body_pose[2, 5] *= 1.2


def _reflection(p: Any) -> None:
    p.body.global_orient[0] = np.diag([1.0, 1.0, -1.0])


def _confidence_above_one(p: Any) -> None:
    p.hands.confidence[0, 0] = 1.5


def _g1_ref(n: int, edit: Callable[[np.ndarray], None]) -> np.ndarray:
    q = np.tile(Q_DEFAULT, (n, 1)).astype(np.float32)
    edit(q)
    return q


def _knee_below_limit(q: np.ndarray) -> None:
    q[3, joint_index("left_knee")] = -0.5


def _knee_jump(q: np.ndarray) -> None:
    q[3:, joint_index("right_knee")] = 2.5  # 1.8 rad in one 1/30 s frame = 54 rad/s


def _wrong_key_signature() -> bytes:
    return encode_package(build_package(5), signing_key=generate_signing_key(), key_id="cloud-1")


def _bad_hand_state() -> bytes:
    body = _body(hands_format=HandsFormat.STATES)
    body["arrays"]["hand_state"] = ["|i1", [6, 2], b"\x03" * 12]
    return reseal(body)


def _flip_body_byte() -> bytes:
    data = bytearray(encode_package(build_package(5)))
    data[len(data) // 2] ^= 0x01
    return bytes(data)


_TRUSTED = generate_signing_key()
_STRICT = PackageConfig(
    require_signature=True, trusted_keys={"cloud-1": public_key_bytes(_TRUSTED)}
)


class BadCase(NamedTuple):
    name: str
    make: Callable[[], bytes]
    code: PackageErrorCode
    field: str
    config: PackageConfig = PackageConfig()


BAD_CASES: list[BadCase] = [
    BadCase("not msgpack", lambda: b"\xc1\x00\x01", Code.MALFORMED, "message"),
    BadCase("top level list", lambda: bytes(msgpack.packb([1, 2])), Code.MALFORMED, "message"),
    BadCase("body not a map", lambda: seal_body(bytes(msgpack.packb([1]))), Code.MALFORMED, "body"),
    BadCase(
        "array entry not a triple",
        lambda: _set_array("transl", [1, 2]),
        Code.MALFORMED,
        "arrays.transl",
    ),
    BadCase("version 2", lambda: reseal(_body(), version=2), Code.UNSUPPORTED_VERSION, "version"),
    BadCase(
        "foreign format", lambda: reseal(_body(), format="x"), Code.UNSUPPORTED_VERSION, "format"
    ),
    BadCase(
        "no translation", lambda: _drop(("arrays", "transl")), Code.MISSING_FIELD, "arrays.transl"
    ),
    BadCase("no fps", lambda: _drop(("meta", "fps")), Code.MISSING_FIELD, "meta.fps"),
    BadCase(
        "no hand keypoints",
        lambda: _drop(("arrays", "hand_keypoints")),
        Code.MISSING_FIELD,
        "arrays.hand_keypoints",
    ),
    BadCase(
        "extra array",
        lambda: _set_array("face", ["<f4", [1], b"\0" * 4]),
        Code.UNKNOWN_FIELD,
        "arrays.face",
    ),
    BadCase("extra meta key", lambda: _edit_meta(colour="red"), Code.UNKNOWN_FIELD, "meta.colour"),
    BadCase(
        "bad camera view",
        lambda: _edit_meta(camera_view="side"),
        Code.INVALID_METADATA,
        "meta.camera_view",
    ),
    BadCase(
        "naive timestamp",
        lambda: _edit_meta(created_at="2026-01-01T00:00:00"),
        Code.INVALID_METADATA,
        "meta.created_at",
    ),
    BadCase(
        "float64 transl",
        lambda: _set_array("transl", ["<f8", [6, 3], b"\0" * 144]),
        Code.BAD_DTYPE,
        "arrays.transl",
    ),
    BadCase(
        "22 body joints",
        lambda: _set_array("body_pose", ["<f4", [6, 22, 3], b"\0" * 1584]),
        Code.BAD_SHAPE,
        "arrays.body_pose",
    ),
    BadCase(
        "bytes do not fill shape",
        lambda: _set_array("transl", ["<f4", [6, 3], b"\0" * 8]),
        Code.BAD_SHAPE,
        "arrays.transl",
    ),
    BadCase(
        "frame count mismatch",
        lambda: _edit_meta(n_frames=7),
        Code.BAD_SHAPE,
        "arrays.global_orient",
    ),
    BadCase(
        "infinite translation",
        lambda: _unvalidated()(_nan_transl),
        Code.NON_FINITE,
        "arrays.transl",
    ),
    BadCase(
        "rotvec longer than 2π",
        lambda: _unvalidated()(_long_rotvec),
        Code.NOT_A_ROTATION,
        "arrays.body_pose",
    ),
    BadCase(
        "scaled matrix",
        lambda: _unvalidated(rotation_format=RotationFormat.ROTMAT)(_scaled_rotmat),
        Code.NOT_A_ROTATION,
        "arrays.body_pose",
    ),
    BadCase(
        "reflection",
        lambda: _unvalidated(rotation_format=RotationFormat.ROTMAT)(_reflection),
        Code.NOT_A_ROTATION,
        "arrays.global_orient",
    ),
    BadCase(
        "confidence 1.5",
        lambda: _unvalidated()(_confidence_above_one),
        Code.OUT_OF_RANGE,
        "arrays.hand_confidence",
    ),
    BadCase("hand state 3", lambda: _bad_hand_state(), Code.OUT_OF_RANGE, "arrays.hand_state"),
    BadCase("5 fps", lambda: _edit_meta(fps=5.0), Code.FPS_OUT_OF_RANGE, "meta.fps"),
    BadCase("200 fps", lambda: _edit_meta(fps=200.0), Code.FPS_OUT_OF_RANGE, "meta.fps"),
    BadCase(
        "too many frames",
        lambda: encode_package(build_package(6)),
        Code.TOO_MANY_FRAMES,
        "meta.n_frames",
        PackageConfig(max_frames=5),
    ),
    BadCase(
        "too many bytes",
        lambda: encode_package(build_package(6)),
        Code.TOO_LARGE,
        "message",
        PackageConfig(max_bytes=1000),
    ),
    BadCase("flipped body byte", _flip_body_byte, Code.DIGEST_MISMATCH, "sha256"),
    BadCase(
        "replaced digest",
        lambda: reseal(_body(), sha256=b"\0" * 32),
        Code.DIGEST_MISMATCH,
        "sha256",
    ),
    BadCase(
        "unsigned, signature required",
        lambda: encode_package(build_package(5)),
        Code.SIGNATURE_MISSING,
        "signature",
        _STRICT,
    ),
    BadCase(
        "signed by another key", _wrong_key_signature, Code.SIGNATURE_INVALID, "signature", _STRICT
    ),
    BadCase(
        "untrusted key id",
        lambda: encode_package(build_package(5), signing_key=_TRUSTED, key_id="nope"),
        Code.SIGNATURE_UNKNOWN_KEY,
        "key_id",
        _STRICT,
    ),
    BadCase(
        "truncated signature",
        lambda: reseal(_body(), signature=b"\1" * 10, key_id="cloud-1"),
        Code.SIGNATURE_INVALID,
        "signature",
    ),
    BadCase(
        "knee below its limit",
        lambda: encode_package(
            build_package(6, g1_q_ref=_g1_ref(6, _knee_below_limit)), validate=False
        ),
        Code.JOINT_LIMIT,
        "arrays.g1_q_ref[3, 3]",
    ),
    BadCase(
        "knee too fast",
        lambda: encode_package(build_package(6, g1_q_ref=_g1_ref(6, _knee_jump)), validate=False),
        Code.JOINT_VELOCITY,
        "arrays.g1_q_ref[3, 9]",
    ),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in BAD_CASES])
def test_bad_package_is_rejected_with_code_and_field(case: BadCase) -> None:
    data = case.make()
    with pytest.raises(PackageRejectedError) as info:
        decode_package(data, case.config)
    assert info.value.code is case.code, info.value
    assert info.value.field == case.field


def test_every_rejection_code_has_a_crafted_case() -> None:
    covered = {case.code for case in BAD_CASES}
    # Raised by the upload checks on the robot model, not by decoding (tests/unit/daemon/
    # test_package_library.py and tests/unit/controller/test_collision_fix.py craft it).
    from_checks = {PackageErrorCode.SELF_COLLISION}
    assert covered == set(PackageErrorCode) - from_checks


def test_decode_accepts_bytearray_and_memoryview() -> None:
    data = encode_package(build_package(4))
    for view in (bytearray(data), memoryview(data)):
        assert decode_package(view, PackageConfig()).package.meta.n_frames == 4
