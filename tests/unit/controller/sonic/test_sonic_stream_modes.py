"""The SONIC policy following a stream: which mode each protocol selects, what is refused, and
that stream steps (advance + step, in every mode) allocate nothing in our code.

Real: the policy with ONNX Runtime on the CPU, the stream track. Faked: SONIC's weights (tiny
random models with the real contract, ``models.fixtures``) and the robot state.
"""

from __future__ import annotations

import gc
import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import controller
import models
from controller.embodiment import g1
from controller.robot.base import RobotCommand
from controller.sonic.config import SonicConfig, load_sonic_policy
from controller.sonic.policy import ReferenceMode, UnsupportedReferenceError
from controller.stream_track import StreamPlaybackConfig, StreamTrack

from .conftest import CPU
from .sonic_helpers import make_state

PERIOD_NS = 20_000_000


def stream_of(protocol: int, frames: int = 60) -> StreamTrack:
    stream = StreamTrack(StreamPlaybackConfig(), 0.02)
    stream.begin(session=1, protocol=protocol)
    rng = np.random.default_rng(protocol)
    for index in range(frames):
        arrays: dict[str, np.ndarray] = {
            "q_hw": np.clip(g1.Q_DEFAULT + rng.normal(0, 0.1, 29), g1.Q_MIN, g1.Q_MAX)[None],
            "hand_q": np.zeros((1, 2, 7)),
            "hand_state": np.zeros((1, 2), np.int8),
            "root_quat_wxyz": np.array([[1.0, 0.0, 0.0, 0.0]]),
        }
        if protocol == 3:
            arrays["smpl_joints"] = rng.normal(0, 0.3, (1, 24, 3))
        if protocol == 4:
            arrays["token"] = rng.normal(size=(1, 64)).astype(np.float32)
        stream.write(np.array([index]), arrays, 1_000_000_000 + index * PERIOD_NS)
    return stream


@pytest.mark.parametrize(
    ("protocol", "mode"), [(1, ReferenceMode.G1), (3, ReferenceMode.SMPL), (4, ReferenceMode.TOKEN)]
)
def test_each_protocol_selects_its_mode(
    small_models: dict[str, Path], protocol: int, mode: ReferenceMode
) -> None:
    policy = load_sonic_policy(
        SonicConfig(small_models["decoder"], small_models["release"], session=CPU)
    )
    stream = stream_of(protocol)
    policy.prepare(stream)
    assert policy.mode is mode
    policy.start(stream, make_state(0))
    out = RobotCommand()
    stream.advance(1_000_000_000 + 61 * PERIOD_NS)
    policy.step(make_state(0), 0, out)
    assert policy.last_step_finite
    if mode is ReferenceMode.TOKEN:
        np.testing.assert_allclose(policy.token, stream.token)
    # A package after a stream is tracked in SMPL mode again.
    from .sonic_helpers import make_track

    policy.prepare(make_track())
    assert policy.mode is ReferenceMode.SMPL


def test_token_only_policies_refuse_joint_and_smpl_streams(small_models: dict[str, Path]) -> None:
    policy = load_sonic_policy(SonicConfig(small_models["decoder"], token_mode=True, session=CPU))
    assert policy.stream_refusal(4) == ""
    for protocol in (1, 3):
        assert "encoder" in policy.stream_refusal(protocol)
        with pytest.raises(UnsupportedReferenceError):
            policy.prepare(stream_of(protocol))


@pytest.mark.parametrize("protocol", [1, 3, 4])
def test_stream_steps_allocate_nothing_in_our_code(
    small_models: dict[str, Path], protocol: int
) -> None:
    policy = load_sonic_policy(
        SonicConfig(small_models["decoder"], small_models["release"], session=CPU)
    )
    stream = stream_of(protocol, frames=200)
    policy.prepare(stream)
    states = [make_state(seed) for seed in range(4)]
    policy.start(stream, states[0])
    out = RobotCommand()
    clock = {"t": 1_000_000_000 + 10 * PERIOD_NS}

    def run(ticks: int) -> None:
        for tick in range(ticks):
            clock["t"] += PERIOD_NS // 4  # slower than the stream: it never runs dry
            stream.advance(clock["t"])
            policy.step(states[tick % 4], 0, out)

    ours = [
        tracemalloc.Filter(True, f"{Path(str(package.__file__)).parent}{os.sep}*", all_frames=True)
        for package in (controller, models)
    ]
    not_ort = [tracemalloc.Filter(False, "*onnxruntime*", all_frames=True)]
    gc.collect()
    tracemalloc.start(25)
    try:
        run(100)
        before = tracemalloc.take_snapshot().filter_traces(ours).filter_traces(not_ort)
        run(500)
        after = tracemalloc.take_snapshot().filter_traces(ours).filter_traces(not_ort)
    finally:
        tracemalloc.stop()
    assert policy.last_step_finite
    diff = after.compare_to(before, "traceback")
    assert sum(stat.count_diff for stat in diff) <= 0, [str(s) for s in diff if s.count_diff > 0]
    assert sum(stat.size_diff for stat in diff) <= 256, [str(s) for s in diff if s.size_diff > 0]
