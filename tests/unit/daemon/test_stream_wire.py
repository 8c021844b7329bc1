"""SONIC's wire format and messages: round trips, every refusal, fuzzing, producer commands.

Real: the decoders on bytes built by ``pack_pose_message`` / ``pack_command_message`` (which
mirror SONIC's own builders, including ``"count": 1`` for any number of frames) and by hand for
malformed messages; hypothesis for random and mutated bytes. Faked: the producer (no SONIC
teleop or VLA here): the test builds the bytes a v1/v3/v4 producer would send.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Coroutine
from typing import Any, TypeVar

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daemon.inputs.stream_messages import (
    ProducerCommand,
    decode_command_message,
    decode_pose_message,
    pack_command_message,
    pack_pose_message,
)
from daemon.inputs.stream_wire import (
    HEADER_SIZE,
    StreamDecodeConfig,
    StreamDecodeError,
    StreamErrorCode,
    pack_wire_message,
)
from tests.support.sonic_producer import raw_message, unit_quats, v1_fields, v3_fields, v4_fields

T = TypeVar("T")
Code = StreamErrorCode
RNG = np.random.default_rng(7)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(coro, timeout=20))


def refused(message: bytes, code: StreamErrorCode, **config: Any) -> StreamDecodeError:
    with pytest.raises(StreamDecodeError) as caught:
        decode_pose_message(message, StreamDecodeConfig(**config))
    assert caught.value.code is code, caught.value
    return caught.value


# ---------------------------------------------------------------------- round trips


def test_v1_round_trip_takes_the_frame_count_from_the_shapes() -> None:
    fields = v1_fields(5)
    message = decode_pose_message(pack_pose_message(1, fields, count=1))
    assert message.version == 1
    assert message.n_frames == 5
    assert message.header_count == 1
    assert message.joint_pos_isaac is not None
    assert message.joint_vel_isaac is not None
    np.testing.assert_allclose(message.joint_pos_isaac, fields["joint_pos"])
    np.testing.assert_allclose(message.joint_vel_isaac, fields["joint_vel"])
    assert message.body_quat_wxyz is not None
    np.testing.assert_allclose(message.body_quat_wxyz, fields["body_quat"], atol=1e-6)
    np.testing.assert_array_equal(message.frame_index, fields["frame_index"])
    assert message.smpl_joints is None
    assert message.token_state is None


def test_v3_round_trip_with_optional_fields() -> None:
    fields: dict[str, Any] = v3_fields(4)
    fields |= {
        "left_hand_joints": np.full((1, 7), 0.2, np.float32),
        "right_hand_joints": np.full(7, -0.2, np.float64),
        "vr_position": np.zeros(9, np.float32),
        "vr_orientation": np.tile([1.0, 0, 0, 0], 3).astype(np.float32),
        "catch_up": np.array(True),
        "heading_increment": np.array([0.1], np.float32),
        "vr_compliance": np.zeros(3, np.float32),  # ignored, as SONIC does
    }
    message = decode_pose_message(pack_pose_message(3, fields))
    assert message.version == 3
    assert message.n_frames == 4
    assert message.smpl_joints is not None
    assert message.smpl_joints.shape == (4, 24, 3)
    assert message.smpl_pose is not None
    assert message.smpl_pose.shape == (4, 21, 3)
    assert message.left_hand_q is not None
    assert message.right_hand_q is not None
    np.testing.assert_allclose(message.left_hand_q, 0.2, rtol=1e-6)
    assert message.vr_position is not None
    assert message.vr_position.shape == (3, 3)
    assert message.vr_orientation is not None
    assert message.vr_orientation.shape == (3, 4)
    assert message.catch_up is True
    assert message.heading_increment_rad == pytest.approx(0.1)


def test_v4_round_trip_carries_one_token_as_one_frame() -> None:
    fields = v4_fields()
    message = decode_pose_message(pack_pose_message(4, fields))
    assert message.version == 4
    assert message.n_frames == 1
    assert message.token_state is not None
    np.testing.assert_allclose(message.token_state, fields["token_state"])
    np.testing.assert_array_equal(message.frame_index, [7])
    assert message.body_quat_wxyz is None
    assert message.left_hand_q is not None


def test_multi_body_quaternions_use_the_root_body() -> None:
    fields = v1_fields(3)
    bodies = np.stack([fields["body_quat"], unit_quats(3)], axis=1)
    fields["body_quat"] = bodies
    message = decode_pose_message(pack_pose_message(1, fields))
    assert message.body_quat_wxyz is not None
    np.testing.assert_allclose(message.body_quat_wxyz, bodies[:, 0], atol=1e-6)


def test_all_wire_dtypes_are_readable() -> None:
    extra = {
        f"extra_{name}": np.arange(3).astype(dtype)
        for name, dtype in [
            ("f16", np.float16),
            ("i16", np.int16),
            ("i8", np.int8),
            ("u8", np.uint8),
            ("i32", np.int32),
            ("f64", np.float64),
        ]
    }
    extra["extra_bool"] = np.array([True, False])
    fields = {**v1_fields(2), **extra, "frame_index": np.arange(2, dtype=np.int32)}
    message = decode_pose_message(pack_pose_message(1, fields))
    assert message.n_frames == 2


# ---------------------------------------------------------------------- refusals


def test_refuses_the_wrong_topic() -> None:
    refused(pack_pose_message(1, v1_fields(), topic=b"planner"), Code.WRONG_TOPIC)


def test_refuses_a_truncated_header() -> None:
    refused(pack_pose_message(1, v1_fields())[:900], Code.TRUNCATED)


def test_refuses_a_truncated_body() -> None:
    error = refused(pack_pose_message(1, v1_fields())[:-1], Code.TRUNCATED)
    assert error.field == "frame_index"


def test_refuses_a_header_that_claims_more_bytes_than_arrived() -> None:
    header = {"v": 1, "fields": [{"name": "joint_pos", "dtype": "f32", "shape": [10**9, 29]}]}
    refused(raw_message(header, b"\0" * 64), Code.TRUNCATED)


def test_refuses_trailing_bytes() -> None:
    refused(pack_pose_message(1, v1_fields()) + b"\0", Code.TRAILING_BYTES)


@pytest.mark.parametrize(
    "header",
    [b"{not json", b"[1, 2]", b'{"v": 1}\0{"x": 1}', b"\xff\xfe", b"[" * 1280, b'"a string"'],
)
def test_refuses_a_header_that_is_not_a_json_object(header: bytes) -> None:
    refused(raw_message(header), Code.BAD_HEADER)


@pytest.mark.parametrize("version", [0, 2, 5, -1])
def test_refuses_unsupported_versions(version: int) -> None:
    refused(pack_pose_message(version, v1_fields()), Code.UNSUPPORTED_VERSION)


@pytest.mark.parametrize("version", ["1", True, 1.0, None])
def test_refuses_a_version_that_is_not_an_integer(version: object) -> None:
    refused(raw_message({"v": version, "fields": []}), Code.BAD_HEADER)


def test_refuses_big_endian() -> None:
    refused(raw_message({"v": 1, "endian": "be", "fields": []}), Code.BAD_ENDIAN)


def test_refuses_unknown_dtypes() -> None:
    header = {"v": 1, "fields": [{"name": "joint_pos", "dtype": "c64", "shape": [1, 29]}]}
    refused(raw_message(header, b"\0" * 232), Code.UNKNOWN_DTYPE)


def test_refuses_a_known_dtype_the_field_cannot_have() -> None:
    fields = v1_fields(2)
    fields["joint_pos"] = np.zeros((2, 29), np.int32)
    refused(pack_pose_message(1, fields), Code.BAD_DTYPE)


@pytest.mark.parametrize(
    ("name", "shape"),
    [("joint_pos", (2, 28)), ("joint_vel", (3, 29)), ("body_quat", (2, 3)), ("frame_index", (3,))],
)
def test_refuses_wrong_shapes_and_frame_count_mismatches(name: str, shape: tuple[int, ...]) -> None:
    fields = v1_fields(2)
    fields[name] = np.zeros(shape, fields[name].dtype)
    error = refused(pack_pose_message(1, fields), Code.BAD_SHAPE)
    assert error.field == name


def test_refuses_a_message_with_no_frames() -> None:
    refused(pack_pose_message(1, v1_fields(0)), Code.BAD_SHAPE)


@pytest.mark.parametrize(
    ("shape", "field"),
    [([-1, 29], "joint_pos"), ([1, 2, 3, 4, 5], "joint_pos"), ("29", "joint_pos")],
)
def test_refuses_malformed_shape_lists(shape: object, field: str) -> None:
    header = {"v": 1, "fields": [{"name": field, "dtype": "f32", "shape": shape}]}
    refused(raw_message(header), Code.BAD_SHAPE)


@pytest.mark.parametrize(
    ("version", "fields", "missing"),
    [
        (1, {k: v for k, v in v1_fields().items() if k != "joint_vel"}, "joint_vel"),
        (1, {k: v for k, v in v1_fields().items() if k != "body_quat"}, "body_quat"),
        (1, {k: v for k, v in v1_fields().items() if k != "frame_index"}, "frame_index"),
        (3, v1_fields(), "smpl_joints"),
        (3, {k: v for k, v in v3_fields().items() if k != "smpl_pose"}, "smpl_pose"),
        (4, {"frame_index": np.array([1])}, "token_state"),
    ],
)
def test_refuses_missing_required_fields(
    version: int, fields: dict[str, Any], missing: str
) -> None:
    error = refused(pack_pose_message(version, fields), Code.MISSING_FIELD)
    assert error.field == missing


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_refuses_non_finite_values(bad: float, dtype: type[np.floating[Any]]) -> None:
    fields: dict[str, Any] = v3_fields(2)
    smpl = fields["smpl_joints"].astype(dtype)
    smpl[1, 5, 2] = bad
    fields["smpl_joints"] = smpl
    refused(pack_pose_message(3, fields), Code.NON_FINITE)


def test_refuses_non_finite_values_in_unknown_fields_too() -> None:
    fields: dict[str, Any] = {**v1_fields(1), "future_field": np.array([np.nan], np.float32)}
    refused(pack_pose_message(1, fields), Code.NON_FINITE)


def test_refuses_quaternions_far_from_unit_norm() -> None:
    fields = v1_fields(2)
    fields["body_quat"] = np.zeros((2, 4), np.float32)
    refused(pack_pose_message(1, fields), Code.NOT_A_QUATERNION)


def test_refuses_too_many_frames() -> None:
    refused(pack_pose_message(1, v1_fields(6)), Code.TOO_MANY_FRAMES, max_frames=5)


def test_refuses_a_v4_token_of_the_wrong_size() -> None:
    refused(pack_pose_message(4, {"token_state": np.zeros(32, np.float32)}), Code.BAD_SHAPE)


def test_refuses_duplicate_field_names() -> None:
    spec = {"name": "joint_pos", "dtype": "f32", "shape": [1, 29]}
    refused(raw_message({"v": 1, "fields": [spec, spec]}, b"\0" * 232), Code.DUPLICATE_FIELD)


def test_refuses_too_many_fields() -> None:
    fields = [{"name": f"f{i}", "dtype": "u8", "shape": [0]} for i in range(5)]
    refused(raw_message({"v": 1, "fields": fields}), Code.BAD_HEADER, max_fields=4)


# ---------------------------------------------------------------------- fuzz

VALID = [
    pack_pose_message(1, v1_fields(3)),
    pack_pose_message(3, v3_fields(2)),
    pack_pose_message(4, v4_fields()),
]


def decodes_or_refuses(data: bytes) -> None:
    """Any other exception escapes and fails the test."""
    with contextlib.suppress(StreamDecodeError):
        decode_pose_message(data)


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=4096))
def test_fuzz_random_bytes_only_raise_the_typed_error(data: bytes) -> None:
    decodes_or_refuses(data)
    decodes_or_refuses(b"pose" + data)


@FUZZ
@given(
    st.sampled_from(VALID),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8),
)
def test_fuzz_byte_mutations_only_raise_the_typed_error(
    message: bytes, edits: list[tuple[int, int]]
) -> None:
    data = bytearray(message)
    for position, value in edits:
        data[position % len(data)] = value
    decodes_or_refuses(bytes(data))


@FUZZ
@given(st.sampled_from(VALID), st.integers(0, 50_000), st.binary(max_size=64))
def test_fuzz_truncation_and_extension_only_raise_the_typed_error(
    message: bytes, cut: int, tail: bytes
) -> None:
    decodes_or_refuses(message[: cut % (len(message) + 1)])
    decodes_or_refuses(message + tail)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELD_SPECS = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["joint_pos", "joint_vel", "body_quat", "frame_index", "x"])
        | JSON_VALUES,
        "dtype": st.sampled_from(["f32", "f64", "i64", "u8", "bool", "q8"]) | JSON_VALUES,
        "shape": st.lists(st.integers(-2, 40), max_size=5) | JSON_VALUES,
    },
)


@FUZZ
@given(
    st.sampled_from([1, 2, 3, 4]) | JSON_VALUES,
    st.lists(FIELD_SPECS, max_size=6) | JSON_VALUES,
    st.binary(max_size=2048),
)
def test_fuzz_structured_headers_only_raise_the_typed_error(
    version: object, fields: object, body: bytes
) -> None:
    header = json.dumps({"v": version, "endian": "le", "count": 1, "fields": fields}).encode()
    if len(header) <= HEADER_SIZE:
        decodes_or_refuses(raw_message(header, body))


# ---------------------------------------------------------------------- producer side


def test_producer_refuses_what_the_wire_cannot_carry() -> None:
    with pytest.raises(ValueError, match="dtype"):
        pack_pose_message(1, {"x": np.zeros(2, np.complex64)})
    with pytest.raises(ValueError, match="header too large"):
        pack_pose_message(1, {f"field_{i:03d}": np.zeros(1, np.float32) for i in range(60)})


def test_command_messages_round_trip_as_sonics_sender_builds_them() -> None:
    command = decode_command_message(
        pack_command_message(start=True, stop=False, planner=False, delta_heading_rad=0.25)
    )
    assert command == ProducerCommand(start=True, stop=False, planner=False,
                                      delta_heading_rad=pytest.approx(0.25))  # fmt: skip
    assert decode_command_message(pack_command_message(start=False, stop=True, planner=True)) == (
        ProducerCommand(start=False, stop=True, planner=True)
    )


@pytest.mark.parametrize("dtype", [np.bool_, np.uint8, np.int32])
def test_command_flags_may_be_bool_u8_or_i32_as_sonics_manager_reads_them(dtype: type) -> None:
    names = ("start", "stop", "planner")
    fields = {name: np.array([name == "stop"], dtype=dtype) for name in names}
    expected = ProducerCommand(start=False, stop=True, planner=False)
    assert decode_command_message(pack_wire_message(b"command", 1, fields)) == expected


def test_a_command_without_a_required_flag_is_refused() -> None:
    message = pack_wire_message(b"command", 1, {"start": np.array([1], np.uint8)})
    with pytest.raises(StreamDecodeError) as caught:
        decode_command_message(message)
    assert caught.value.code is Code.MISSING_FIELD
    assert caught.value.field == "stop"


def test_the_pose_and_command_topics_must_not_shadow_each_other() -> None:
    with pytest.raises(ValueError, match="prefix"):
        StreamDecodeConfig(topic=b"pose", command_topic=b"pos")
