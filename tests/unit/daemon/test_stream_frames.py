"""Stream messages -> frames: the zero-pose rule, new frames only, per-controller content.

Real: the decoder and ``FrameBuilder`` with the real SMPL -> G1 mappings. Faked: the producer
(messages built as SONIC's sender builds them, with SMPL joints from forward kinematics).
"""

from __future__ import annotations

import numpy as np
import pytest

from controller.embodiment.dex3 import HAND_Q_MAX
from controller.embodiment.g1 import HW_TO_ISAAC, ISAAC_TO_HW, Q_MAX, Q_MIN, joint_index
from daemon.inputs.stream_frames import FrameBuilder
from daemon.inputs.stream_messages import PoseMessage, decode_pose_message, pack_pose_message
from estimators.track import HandState
from tests.support.sonic_producer import realistic_v3_fields, v1_fields, v4_fields

SHOULDER_ROLL = joint_index("left_shoulder_roll")
ELBOW = joint_index("left_elbow")


def v3(indices: list[int], **kwargs: object) -> PoseMessage:
    fields = realistic_v3_fields(np.array(indices), 0.5, **kwargs)  # type: ignore[arg-type]
    return decode_pose_message(pack_pose_message(3, fields))


def test_v1_joint_positions_are_reordered_to_hardware_and_clamped() -> None:
    fields = v1_fields(3)
    fields["joint_pos"][:, 9] = -3.0  # IsaacLab 9 = left knee, far below its limit
    built = FrameBuilder(maps_body=True).build(decode_pose_message(pack_pose_message(1, fields)))
    assert built.frames is not None
    q = built.frames.arrays["q_hw"]
    expected = np.clip(fields["joint_pos"][:, HW_TO_ISAAC], Q_MIN, Q_MAX)
    np.testing.assert_allclose(q, expected, rtol=1e-6)
    assert q[0, ISAAC_TO_HW[9]] == Q_MIN[ISAAC_TO_HW[9]]


def test_an_all_zero_pose_uses_the_joints_and_never_commands_a_t_pose() -> None:
    """Seen: a producer that fills smpl_joints and leaves smpl_pose zero got a T-pose
    (shoulder roll ±1.571, straight elbows)."""
    from_pose = FrameBuilder(maps_body=True).build(v3([0, 1]))
    from_joints = FrameBuilder(maps_body=True).build(v3([0, 1], send_pose=False))
    assert from_pose.frames is not None
    assert from_joints.frames is not None
    assert from_joints.refused == 0
    q_pose, q_joints = from_pose.frames.arrays["q_hw"], from_joints.frames.arrays["q_hw"]
    assert abs(q_joints[0, SHOULDER_ROLL]) < 0.5, "arms down, not a T-pose"
    np.testing.assert_allclose(q_joints[:, [SHOULDER_ROLL, ELBOW]],
                               q_pose[:, [SHOULDER_ROLL, ELBOW]], atol=1e-4)  # fmt: skip


def test_frames_with_no_pose_and_no_body_are_refused_with_a_reason() -> None:
    fields = realistic_v3_fields(np.array([0, 1, 2]), 0.5, send_pose=False)
    fields["smpl_joints"][1] = 0.0  # the middle frame has nothing
    built = FrameBuilder(maps_body=True).build(decode_pose_message(pack_pose_message(3, fields)))
    assert built.refused == 1
    assert "T-pose" in built.refusal
    assert built.frames is not None
    assert built.frames.frame_index.tolist() == [0, 2]
    everything_zero = realistic_v3_fields(np.array([3]), send_pose=False)
    everything_zero["smpl_joints"][:] = 0.0
    none = FrameBuilder(maps_body=True).build(
        decode_pose_message(pack_pose_message(3, everything_zero))
    )
    assert none.frames is None
    assert none.refused == 1


def test_for_sonic_v3_frames_carry_the_joints_and_need_a_body() -> None:
    built = FrameBuilder(maps_body=False).build(v3([0, 1], send_pose=False))
    assert built.frames is not None
    assert built.frames.arrays["smpl_joints"].shape == (2, 24, 3)
    fields = realistic_v3_fields(np.array([5]))
    fields["smpl_joints"][:] = 0.0
    refused = FrameBuilder(maps_body=False).build(decode_pose_message(pack_pose_message(3, fields)))
    assert refused.frames is None
    assert "encoder" in refused.refusal


def test_only_frames_newer_than_those_sent_are_built() -> None:
    builder = FrameBuilder(maps_body=True)
    first = builder.build(v3([0, 1, 2, 3, 4]))
    second = builder.build(v3([1, 2, 3, 4, 5]))  # a sliding window: one new frame
    assert first.frames is not None
    assert second.frames is not None
    assert second.frames.frame_index.tolist() == [5]
    assert builder.build(v3([1, 2, 3, 4, 5])).frames is None  # nothing new
    restarted = builder.build(v3([0, 1]))  # older frames, not far enough back for a restart
    assert restarted.frames is None
    builder2 = FrameBuilder(maps_body=True)
    builder2.build(v3([1000]))
    assert builder2.build(v3([0, 1])).frames is not None, "a restart (>200 frames back)"


def test_tokens_become_one_frame_each_numbered_in_arrival_order_without_frame_index() -> None:
    builder = FrameBuilder(maps_body=False)
    fields = v4_fields()
    del fields["frame_index"]
    for expected in (0, 1, 2):
        built = builder.build(decode_pose_message(pack_pose_message(4, fields)))
        assert built.frames is not None
        assert built.frames.frame_index.tolist() == [expected]
        np.testing.assert_allclose(built.frames.arrays["token"][0], fields["token_state"])


def test_hand_targets_are_clamped_and_kept_for_a_hand_not_sent() -> None:
    builder = FrameBuilder(maps_body=True)
    fields = v1_fields(2, first=0)
    fields["right_hand_joints"] = np.full(7, 10.0, np.float32)
    built = builder.build(decode_pose_message(pack_pose_message(1, fields)))
    assert built.frames is not None
    np.testing.assert_allclose(
        built.frames.arrays["hand_q"][:, 1], np.broadcast_to(HAND_Q_MAX[1], (2, 7))
    )
    assert built.frames.arrays["hand_q"][0, 0].tolist() == [0.0] * 7
    assert built.frames.arrays["hand_state"][0, 0] == HandState.OPEN
    later = builder.build(decode_pose_message(pack_pose_message(1, v1_fields(1, first=2))))
    assert later.frames is not None
    np.testing.assert_allclose(later.frames.arrays["hand_q"][0, 1], HAND_Q_MAX[1])


@pytest.mark.parametrize("maps_body", [True, False])
def test_frames_fit_the_control_process_checks(maps_body: bool) -> None:
    from controller.stream_ring import _check

    built = FrameBuilder(maps_body=maps_body).build(v3([0, 1, 2]))
    assert built.frames is not None
    assert _check(built.frames.frame_index, built.frames.arrays) == 3
