"""Our CDR codecs against the SDK's own (de)serialiser: same bytes, same fields, both ways.

Real: unitree_sdk2py's IDL classes and cyclonedds' Python serialiser (the robot extra); the
Dex3 mode-byte layout from ../shared/reference/unitree-g1.md §2.2.
"""

from __future__ import annotations

import numpy as np
import pytest

from controller.robot.base import RobotCommand, RobotState
from controller.robot.dex3_dds import (
    HandCmdDecoder,
    HandCmdEncoder,
    HandStateDecoder,
    mode_byte,
)
from controller.robot.unitree_codec import (
    LowCmdDecoder,
    LowCmdEncoder,
    LowStateDecoder,
    LowStateEncoder,
)
from controller.robot.unitree_layout import LOW_CMD_LAYOUT, LOW_STATE_LAYOUT
from tests.support.dds import require_robot_extra


@pytest.fixture
def hg() -> object:
    require_robot_extra()
    from unitree_sdk2py.idl.unitree_hg.msg import dds_

    return dds_


def a_command(seed: int = 0) -> RobotCommand:
    rng = np.random.default_rng(seed)
    cmd = RobotCommand()
    for name in ("q", "dq", "kp", "kd", "tau"):
        getattr(cmd, name)[:] = rng.uniform(-50, 50, 29)
    return cmd


def test_wire_sizes_are_those_of_the_sdk_serialiser(hg: object) -> None:
    from unitree_sdk2py.idl.default import (
        unitree_hg_msg_dds__LowCmd_,
        unitree_hg_msg_dds__LowState_,
    )

    assert len(unitree_hg_msg_dds__LowCmd_().serialize()) == 4 + LOW_CMD_LAYOUT.wire_size
    assert len(unitree_hg_msg_dds__LowState_().serialize()) == 4 + LOW_STATE_LAYOUT.wire_size
    assert LOW_CMD_LAYOUT.image_size == 1004  # the SDK's struct image sizes (§1.5)
    assert LOW_STATE_LAYOUT.image_size == 2092


def test_lowcmd_encoded_by_us_reads_back_with_the_sdk(hg: object) -> None:
    from unitree_sdk2py.utils.crc import CRC

    cmd = a_command()
    message = hg.LowCmd_.deserialize(LowCmdEncoder().encode(cmd, mode_machine=5))  # type: ignore[attr-defined]
    assert (message.mode_pr, message.mode_machine) == (0, 5)
    assert [m.mode for m in message.motor_cmd] == [1] * 29 + [0] * 6
    for name in ("q", "dq", "kp", "kd", "tau"):
        sent = [getattr(m, name) for m in message.motor_cmd[:29]]
        np.testing.assert_allclose(sent, getattr(cmd, name), rtol=1e-6)
    assert message.crc == CRC().Crc(message)


def test_lowcmd_serialised_by_the_sdk_decodes_and_a_bad_crc_is_dropped(hg: object) -> None:
    from unitree_sdk2py.idl.default import unitree_hg_msg_dds__LowCmd_
    from unitree_sdk2py.utils.crc import CRC

    message = unitree_hg_msg_dds__LowCmd_()
    message.mode_machine = 5
    for i, motor in enumerate(message.motor_cmd[:29]):
        motor.mode, motor.q, motor.kp, motor.kd = 1, 0.01 * i, 40.0, 1.0
    message.motor_cmd[3].mode = 0  # a disabled motor exerts nothing
    message.crc = CRC().Crc(message)
    out, decoder = RobotCommand(), LowCmdDecoder()
    assert decoder.decode(message.serialize(), out)
    np.testing.assert_allclose(out.q, 0.01 * np.arange(29), atol=1e-6)
    assert out.kp[3] == 0.0
    assert out.kp[4] == 40.0
    message.crc ^= 1
    assert not decoder.decode(message.serialize(), out)


def test_lowstate_round_trips_through_the_sdk(hg: object) -> None:
    from unitree_sdk2py.utils.crc import CRC

    state = RobotState()
    rng = np.random.default_rng(1)
    state.q[:] = rng.uniform(-1, 1, 29)
    state.dq[:] = rng.uniform(-5, 5, 29)
    state.imu_quat_wxyz[:] = [0.9, 0.1, -0.2, 0.3] / np.linalg.norm([0.9, 0.1, -0.2, 0.3])
    state.motor_temp_c[:] = [41.0, 57.0]
    state.remote_keys = 0x0108
    sample = LowStateEncoder(mode_machine=5).encode(state, tick=777)
    message = hg.LowState_.deserialize(sample)  # type: ignore[attr-defined]
    assert (message.tick, message.mode_machine, message.crc) == (777, 5, CRC().Crc(message))
    assert list(message.wireless_remote[2:4]) == [0x08, 0x01]
    assert message.motor_state[7].temperature == [41, 57]
    decoder, out = LowStateDecoder(), RobotState()
    assert decoder.check(message.serialize())
    decoder.decode_into(out)
    np.testing.assert_allclose(out.q, state.q, atol=1e-6)
    np.testing.assert_allclose(out.imu_quat_wxyz, state.imu_quat_wxyz, atol=1e-6)
    assert out.remote_keys == 0x0108
    assert out.has_imu
    assert decoder.tick == 777


def test_lowstate_with_a_wrong_crc_or_size_is_refused() -> None:
    encoder, decoder = LowStateEncoder(mode_machine=5), LowStateDecoder()
    assert not decoder.check(encoder.encode(RobotState(), 1, corrupt_crc=True))
    assert not decoder.check(encoder.encode(RobotState(), 1)[:-8])
    assert decoder.check(encoder.encode(RobotState(), 1))


def test_dex3_mode_byte_carries_id_status_and_the_release_bit() -> None:
    assert [mode_byte(i, is_released=False) for i in range(7)] == [0x10 + i for i in range(7)]
    assert mode_byte(6, is_released=True) == 0x96


def test_dex3_command_keeps_each_hands_slot_order_and_releases_unpowered_motors(
    hg: object,
) -> None:
    q = np.linspace(0.1, 0.7, 7)
    kp, kd = np.full(7, 1.5), np.full(7, 0.1)
    kp[2] = kd[2] = 0.0
    sample = HandCmdEncoder().encode(q, np.zeros(7), kp, kd, np.zeros(7))
    message = hg.HandCmd_.deserialize(sample)  # type: ignore[attr-defined]
    assert [m.mode for m in message.motor_cmd] == [0x10, 0x11, 0x92, 0x13, 0x14, 0x15, 0x16]
    np.testing.assert_allclose([m.q for m in message.motor_cmd], q, rtol=1e-6)
    out = {k: np.zeros(7) for k in ("q", "dq", "tau", "kp", "kd")}
    decoder = HandCmdDecoder()
    assert decoder.decode(sample, out)
    np.testing.assert_allclose(out["q"], q, rtol=1e-6)


def test_dex3_state_joint_fields_decode_from_an_sdk_sample(hg: object) -> None:
    from unitree_sdk2py.idl.default import unitree_hg_msg_dds__HandState_

    message = unitree_hg_msg_dds__HandState_()
    for slot, motor in enumerate(message.motor_state):
        motor.q, motor.dq = 0.1 * slot, -float(slot)
    q, dq = np.zeros(7), np.zeros(7)
    assert HandStateDecoder().decode(message.serialize(), q, dq)
    np.testing.assert_allclose(q, 0.1 * np.arange(7), atol=1e-6)
    np.testing.assert_allclose(dq, -np.arange(7.0))
    message.motor_state = message.motor_state[:5]  # not a Dex3: refused
    assert not HandStateDecoder().decode(message.serialize(), q, dq)
