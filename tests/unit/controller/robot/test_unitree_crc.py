"""Our vectorised Unitree CRC against the SDK's (its ctypes library) on the same messages.

Real: the SDK's ``CRC().Crc`` and its IDL (de)serialiser (unitree_sdk2py, the robot extra);
messages are random but valid (finite floats, padding zero as in the SDK's struct image).
"""

from __future__ import annotations

import numpy as np
import pytest

from controller.robot.unitree_crc import low_cmd_crc, low_state_crc
from controller.robot.unitree_layout import LOW_CMD_LAYOUT, LOW_STATE_LAYOUT, Layout
from tests.support.dds import require_robot_extra

ALL_ZERO_LOWCMD_CRC = 0xFE172F9F
"""The all-zero HG LowCmd's CRC (../shared/reference/unitree-g1.md §1.5)."""


def random_payloads(layout: Layout, count: int, seed: int) -> np.ndarray:
    """``count`` CDR payloads with every field random (floats finite), padding zero."""
    rng = np.random.default_rng(seed)
    payloads = np.zeros((count, layout.wire_size), dtype=np.uint8)
    for f in layout.fields:
        dtype = np.dtype(f.dtype)
        if dtype.kind == "f":
            values = rng.uniform(-500.0, 500.0, count).astype(dtype)
        else:
            info = np.iinfo(dtype)
            values = rng.integers(info.min, info.max, count, endpoint=True, dtype=dtype)
        raw = values.view(np.uint8).reshape(count, dtype.itemsize)
        payloads[:, f.wire : f.wire + dtype.itemsize] = raw
    return payloads


def test_the_all_zero_lowcmd_gives_the_published_vector() -> None:
    payload = np.zeros(LOW_CMD_LAYOUT.wire_size, dtype=np.uint8)
    assert low_cmd_crc().compute(payload) == ALL_ZERO_LOWCMD_CRC


def test_seal_writes_the_crc_where_the_sdk_reads_it_and_is_valid_checks_it() -> None:
    crc = low_cmd_crc()
    payload = random_payloads(LOW_CMD_LAYOUT, 1, seed=3)[0]
    sealed = crc.seal(payload)
    assert crc.stored(payload) == sealed
    assert crc.is_valid(payload)
    payload[100] ^= 0x01  # one flipped bit anywhere in the data
    assert not crc.is_valid(payload)


@pytest.mark.parametrize(
    ("layout", "make", "count", "sdk_type"),
    [(LOW_CMD_LAYOUT, low_cmd_crc, 10_000, "LowCmd_"), (LOW_STATE_LAYOUT, low_state_crc, 2_000,
                                                          "LowState_")],
)  # fmt: skip
def test_matches_the_sdk_crc_on_random_messages(
    layout: Layout, make: object, count: int, sdk_type: str
) -> None:
    """10,000 random LowCmds (2,000 LowStates): every CRC equals the SDK's."""
    require_robot_extra()
    from unitree_sdk2py.idl.unitree_hg.msg import dds_ as hg
    from unitree_sdk2py.utils.crc import CRC

    ours = make()  # type: ignore[operator]
    sdk = CRC()
    message_type = getattr(hg, sdk_type)
    header = bytes([0, 1, 0, 0])
    mismatches = 0
    for payload in random_payloads(layout, count, seed=count):
        message = message_type.deserialize(header + payload.tobytes())
        if ours.compute(payload) != sdk.Crc(message):
            mismatches += 1
    assert mismatches == 0
