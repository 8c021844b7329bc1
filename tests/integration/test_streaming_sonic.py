"""SONIC driven by the stream: v3 -> SMPL encoder mode, v1 -> G1 mode, v4 -> tokens; heading
alignment, heading increments and catch-up (issue 12: "streaming into SONIC is refused").

Real: ZeroMQ sockets end to end (``tests.support.stream_rig``), the SONIC policy with ONNX
Runtime on the CPU. Faked: the robot (a standing robot), the producer, and SONIC's weights,
which cannot be downloaded here: the models are ``models.fixtures`` stand-ins with SONIC's exact
input/output contract (a random-weight encoder, and a decoder that outputs zero actions so the
robot stands still while the test looks at what the policy was fed).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest

from controller.embodiment import g1
from controller.sonic.config import SonicConfig
from controller.sonic.obs_config import ENCODER_CONFIGS
from controller.sonic.policy import ReferenceMode, SonicPolicy
from daemon.inputs.stream_messages import pack_pose_message
from models import BackendKind, EncoderVariant, SessionConfig, open_session
from models import fixtures as onnx_fixtures
from tests.support.sonic_producer import realistic_v3_fields, v1_fields, v4_fields
from tests.support.stream_rig import stream_rig

pytestmark = pytest.mark.integration

T = TypeVar("T")
CPU = SessionConfig(backend=BackendKind.ORT_CPU)
LAYOUT = ENCODER_CONFIGS[EncoderVariant.RELEASE].layout


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(coro, timeout=60))


@pytest.fixture
def sonic(tmp_path: Path) -> tuple[SonicPolicy, SonicConfig]:
    decoder = onnx_fixtures.sonic_decoder_probe(tmp_path / "dec.onnx", [])  # zero actions
    encoder = onnx_fixtures.sonic_encoder_fixture(tmp_path / "enc.onnx", hidden=(32,))
    policy = SonicPolicy(
        decoder=open_session(decoder, model="sonic_decoder", config=CPU),
        encoder=open_session(encoder, model="sonic_encoder", config=CPU),
    )
    return policy, SonicConfig(decoder_path=decoder, encoder_path=encoder, session=CPU)


def yaw_quat(yaw: float) -> np.ndarray:
    return np.array([math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)], np.float32)


def encoder_term(policy: SonicPolicy, name: str) -> np.ndarray:
    assert policy.encoder_input is not None
    return np.array(policy.encoder_input[0, LAYOUT.slice(name)])


def test_v3_streams_feed_the_smpl_encoder_with_heading_alignment_and_increments(
    tmp_path: Path, sonic: tuple[SonicPolicy, SonicConfig]
) -> None:
    policy, config = sonic
    fields = realistic_v3_fields(np.array([0]), 0.4)

    def message(index: int, heading_increment: float = 0.0) -> bytes:
        fields["frame_index"][:] = index
        fields["body_quat"][:] = yaw_quat(0.7)  # the operator faces 0.7 rad
        fields["heading_increment"] = np.array([heading_increment], np.float32)
        return pack_pose_message(3, fields)

    async def scenario() -> None:
        async with stream_rig(tmp_path, controller=policy, sonic=config) as rig:
            await rig.enable()
            await rig.stream(message, 40)
            assert rig.status().mode == "TRACK"
            assert policy.mode is ReferenceMode.SMPL
            assert encoder_term(policy, "encoder_mode_4").tolist() == [2.0, 0.0, 0.0, 0.0]
            joints = encoder_term(policy, "smpl_joints_10frame_step1").reshape(10, 72)
            np.testing.assert_allclose(joints[0], fields["smpl_joints"][0].reshape(72), atol=1e-6)
            assert policy.heading_offset_rad == pytest.approx(-0.7, abs=1e-5), "robot yaw 0"
            # The anchor then says: the reference faces where the robot faces.
            anchor = encoder_term(policy, "smpl_anchor_orientation_10frame_step1")[:6]
            np.testing.assert_allclose(anchor, [1, 0, 0, 1, 0, 0], atol=1e-5)
            await rig.stream(lambda i: message(i, 0.01), 10)
            await asyncio.sleep(0.1)
            assert policy.heading_offset_rad == pytest.approx(-0.7 + 0.1, abs=1e-4)

    run(scenario())


def test_v1_streams_feed_the_g1_encoder_mode(
    tmp_path: Path, sonic: tuple[SonicPolicy, SonicConfig]
) -> None:
    policy, config = sonic
    fields = v1_fields(1)
    fields["body_quat"][:] = (1.0, 0.0, 0.0, 0.0)

    def message(index: int) -> bytes:
        fields["frame_index"][:] = index
        return pack_pose_message(1, fields)

    async def scenario() -> None:
        async with stream_rig(tmp_path, controller=policy, sonic=config) as rig:
            await rig.enable()
            await rig.stream(message, 40)
            assert rig.status().mode == "TRACK"
            assert policy.mode is ReferenceMode.G1
            assert not encoder_term(policy, "encoder_mode_4").any(), "mode 0 (G1)"
            joints = encoder_term(policy, "motion_joint_positions_10frame_step5").reshape(10, 29)
            expected = np.clip(fields["joint_pos"][0][g1.HW_TO_ISAAC], g1.Q_MIN, g1.Q_MAX)
            np.testing.assert_allclose(joints[0], expected[g1.ISAAC_TO_HW], atol=1e-6)
            assert not encoder_term(policy, "smpl_joints_10frame_step1").any()
            assert encoder_term(policy, "motion_root_z_position")[0] == pytest.approx(0.76)

    run(scenario())


def test_v4_tokens_go_straight_to_the_decoder(
    tmp_path: Path, sonic: tuple[SonicPolicy, SonicConfig]
) -> None:
    policy, config = sonic
    fields = v4_fields()

    def message(index: int) -> bytes:
        fields["frame_index"][:] = index
        return pack_pose_message(4, fields)

    async def scenario() -> None:
        async with stream_rig(tmp_path, controller=policy, sonic=config) as rig:
            await rig.enable()
            await rig.stream(message, 40)
            assert rig.status().mode == "TRACK"
            assert policy.mode is ReferenceMode.TOKEN
            np.testing.assert_allclose(policy.token, fields["token_state"], atol=1e-6)

    run(scenario())


def test_catch_up_jumps_to_the_live_edge_and_realigns_the_heading(
    tmp_path: Path, sonic: tuple[SonicPolicy, SonicConfig]
) -> None:
    """A producer that skips ahead (frame numbers +40 at once, on time) is caught up."""
    policy, config = sonic
    fields = realistic_v3_fields(np.array([0]))
    yaw = {"value": 0.2}

    def message(index: int) -> bytes:
        fields["frame_index"][:] = index if index < 30 else index + 40
        fields["body_quat"][:] = yaw_quat(yaw["value"])
        return pack_pose_message(3, fields)

    async def scenario() -> None:
        async with stream_rig(tmp_path, controller=policy, sonic=config) as rig:
            await rig.enable()
            await rig.stream(message, 30)
            assert policy.heading_offset_rad == pytest.approx(-0.2, abs=1e-5)
            yaw["value"] = 1.0  # the operator turned during the skip
            await rig.stream(message, 30)
            assert rig.status().stream["jumps"] == 1
            assert policy.heading_offset_rad == pytest.approx(-1.0, abs=1e-5), "re-captured"
            assert rig.status().mode == "TRACK"

    run(scenario())
