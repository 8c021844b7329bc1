"""The control stack on real MuJoCo physics: ramp, PD tracking, e-stop damping, the demo.

Real: MuJoCo physics (the official Unitree MJCF when ../shared is present, else the built-in
model; both are exercised where it matters), the loop, supervisor, PD tracker, e-stop latch in
tmp_path, and the ``exoactor-edge demo`` command. Nothing is faked.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from controller.assembly import ControlStack, StackConfig, build_sim_stack
from controller.embodiment import g1
from controller.loop import TrackPhase
from controller.remote import RemoteKey
from controller.robot.model_source import ModelKind, ModelSource, resolve_model
from controller.robot.mujoco_backend import SimConfig, SimMode
from controller.safety import Cause, Mode, SupervisorConfig
from daemon.cli.edge_cli import main
from estimators.track import ReferenceTrack

pytestmark = pytest.mark.integration

MODELS = {
    "builtin": ModelSource(ModelKind.BUILTIN, None, ()),
    "resolved": resolve_model(None),
}


@pytest.fixture(params=list(MODELS))
def source(request: pytest.FixtureRequest) -> ModelSource:
    return MODELS[request.param]


def ramped_stack(source: ModelSource, tmp_path: Path, **sim: object) -> ControlStack:
    stack = build_sim_stack(
        source,
        StackConfig(sim=SimConfig(**sim), supervisor=SupervisorConfig(ramp_time_s=2.0)),  # type: ignore[arg-type]
        latch_path=tmp_path / "estop.json",
    )
    stack.loop.run(max_ticks=5)
    assert stack.supervisor.request_enable(stack.clock.now_ns())
    stack.loop.run(max_ticks=110)
    assert stack.supervisor.mode is Mode.HOLD
    return stack


def sine_track(joint: str, amplitude: float, hz: float, seconds: float) -> ReferenceTrack:
    n = int(seconds * 50)
    t = np.arange(n) / 50.0
    q = np.tile(g1.Q_DEFAULT, (n, 1))
    q[:, g1.joint_index(joint)] += amplitude * np.sin(2 * np.pi * hz * t)
    return ReferenceTrack(
        q_hw=q,
        hand_q=np.zeros((n, 2, 7)),
        hand_state=np.zeros((n, 2), dtype=np.int8),
        smpl_joints_local=np.zeros((n, 24, 3)),
        root_quat_wxyz=np.tile([1.0, 0.0, 0.0, 0.0], (n, 1)),
    )


def test_after_ramp_every_joint_is_near_the_default_pose(
    source: ModelSource, tmp_path: Path
) -> None:
    stack = ramped_stack(source, tmp_path)
    stack.loop.run(max_ticks=10)
    error = np.abs(stack.loop.state.q - g1.Q_DEFAULT)
    assert error.max() < 0.05, g1.BODY_JOINT_NAMES[int(error.argmax())]
    stack.close()


def test_pd_tracker_follows_a_half_hertz_elbow_sine(source: ModelSource, tmp_path: Path) -> None:
    stack = ramped_stack(source, tmp_path)
    loop = stack.loop
    track = sine_track("left_elbow", 0.5, 0.5, 4.0)
    loop.load_track(track)
    assert loop.start_track()
    elbow = g1.joint_index("left_elbow")
    errors: list[float] = []
    previous = [-1]

    def observe(_: object) -> None:  # the state of tick k answers the command of tick k-1
        if previous[0] >= 0:
            errors.append(loop.state.q[elbow] - track.q_hw[previous[0], elbow])
        is_playing = stack.supervisor.mode is Mode.TRACK and loop.phase is TrackPhase.PLAY
        previous[0] = loop.frame if is_playing else -1

    loop.observer = observe
    loop.run(max_ticks=track.n_frames + 5 + 50)  # the blend back to the default pose: < 1 s
    assert stack.supervisor.mode is Mode.HOLD
    assert len(errors) == track.n_frames  # every frame's command, answered one tick later
    rms = float(np.sqrt(np.mean(np.square(errors))))
    assert rms < 0.05
    stack.close()


def test_after_estop_joint_speeds_decay_under_damping(tmp_path: Path) -> None:
    stack = ramped_stack(MODELS["resolved"], tmp_path)
    loop = stack.loop
    loop.load_track(sine_track("right_shoulder_pitch", 0.8, 1.0, 4.0))
    assert loop.start_track()
    loop.run(max_ticks=25)  # half a period in: the arm swings at its fastest
    speed_before = np.abs(loop.state.dq).max()
    loop.estop_now()
    speeds = []
    # 3 s: damping alone lets the torso sink slowly to its waist limit before all is at rest.
    for _ in range(150):
        loop.run(max_ticks=1)
        speeds.append(np.abs(loop.state.dq).max())
        assert stack.supervisor.mode is Mode.ESTOP
        assert np.all(loop.command.kp == 0.0)
        assert np.all(loop.command.kd > 0.0)
    assert speed_before > 1.0
    assert speeds[-1] < 0.05 * speed_before
    assert max(speeds[-25:]) < 0.2, "the robot is at rest after 3 s of damping"
    assert (tmp_path / "estop.json").exists()
    stack.close()


def test_remote_select_key_estops(tmp_path: Path) -> None:
    stack = ramped_stack(MODELS["builtin"], tmp_path)
    stack.backend.press_keys(int(RemoteKey.SELECT))
    stack.loop.run(max_ticks=2)
    assert stack.supervisor.mode is Mode.ESTOP
    assert stack.supervisor.log.since(0)[-1].cause is Cause.ESTOP_REMOTE
    stack.close()


def test_realtime_mode_runs_physics_at_wall_clock_pace(tmp_path: Path) -> None:
    stack = build_sim_stack(
        MODELS["builtin"],
        StackConfig(sim=SimConfig(mode=SimMode.REALTIME)),
        latch_path=None,
    )
    try:
        stack.loop.run(max_ticks=25)  # 0.5 s of wall time
        assert stack.supervisor.mode is Mode.PASSIVE, "fresh state: nothing tripped"
        steps = stack.backend.physics_steps
        assert 150 <= steps <= 300, steps  # ~250 steps of 2 ms in 0.5 s, with slack
    finally:
        stack.close()


def test_demo_command_writes_a_report_and_plots(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--quiet", "--builtin-model"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["controller"] == "pd_tracker"
    assert report["result"] == "ok"
    assert report["ticks"] > 500
    assert report["tracking_rms_rad"] <= 0.05
    assert set(report["timing"]) >= {"p50_ms", "p99_ms", "max_ms", "misses"}
    modes = [m["mode"] for m in report["modes"]]
    assert modes == ["PASSIVE", "RAMP", "HOLD", "TRACK", "HOLD"]
    # The built-in motion starts and ends at the standing pose: nothing to blend, no jump.
    assert report["blends"] == []
    assert report["track_start_max_step_rad"] <= 0.05
    for name in ("tracking.png", "timing.png", "modes.png", "hands.png"):
        assert (out / name).stat().st_size > 10_000
