"""Runs the demo: PASSIVE -> RAMP -> HOLD -> TRACK -> HOLD in the simulator, then a report."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from controller.assembly import ControlStack, StackConfig
from controller.blend import blend_duration_s
from controller.embodiment import g1
from controller.robot.model_source import ModelSource
from controller.robot.unitree_config import UnitreeDdsConfig
from controller.robot_assembly import RobotStack, build_control_stack
from controller.safety import SAFE_MODES, Mode
from controller.tracking import TrackingController
from daemon.demo.recorder import DemoRecorder
from daemon.system.progress import ProgressLine
from estimators.track import ReferenceTrack

log = logging.getLogger(__name__)

_PASSIVE_S = 0.2
_SETTLE_HOLD_S = 0.4
_FINAL_HOLD_S = 0.5


class DemoFailedError(RuntimeError):
    """The supervisor left the planned modes (a fault or e-stop); the report says why."""


@dataclass
class DemoRun:
    stack: ControlStack | RobotStack
    recorder: DemoRecorder
    track: ReferenceTrack
    wall_s: float
    failure: str | None


def run_demo(
    source: ModelSource,
    config: StackConfig,
    track: ReferenceTrack,
    *,
    latch_path: Path | None,
    show_progress: bool = True,
    controller: TrackingController | None = None,
    release_gantry_on_track: bool = False,
    robot: UnitreeDdsConfig | None = None,
) -> DemoRun:
    """Execute ``track`` on the simulated G1 through the real loop and supervisor.

    With ``release_gantry_on_track`` the gantry holds the robot while it ramps and lets go when
    tracking starts, as SONIC's deployment ramps a hanging robot and then lowers it.
    With ``robot`` the same run drives a G1 on DDS (``exoactor-edge sim-bridge``) in real time.
    """
    period_s = config.loop.period_s
    total_s = _PASSIVE_S + config.supervisor.ramp_time_s + _SETTLE_HOLD_S
    total_s += track.duration_s + _FINAL_HOLD_S
    # Blends in from the standing pose and back out to it: sized like the loop will size them.
    for pose in (track.q_hw[0], track.q_hw[-1]):
        total_s += blend_duration_s(float(np.abs(pose - g1.Q_DEFAULT).max()), config.loop.blend)
    capacity = int(total_s / period_s) + 50
    recorder = DemoRecorder(capacity)
    stack = build_control_stack(
        source, config, robot, latch_path=latch_path, observer=recorder, controller=controller
    )
    loop, sup = stack.loop, stack.supervisor
    progress = ProgressLine("demo") if show_progress else None
    phase = ["passive"]

    def ticks(seconds: float) -> int:
        return max(1, round(seconds / period_s))

    def run_phase(name: str, seconds: float) -> None:
        phase[0] = name
        chunk = ticks(0.1)
        remaining = ticks(seconds)
        while remaining > 0 and sup.mode not in SAFE_MODES:
            n = min(chunk, remaining)
            loop.run(max_ticks=n)
            remaining -= n
            if progress is not None:
                progress.update(loop.ticks / capacity, f"{name:<8} mode={sup.mode.name}")

    started = time.perf_counter()
    failure: str | None = None
    try:
        loop.load_track(track)
        run_phase("passive", _PASSIVE_S)
        if not sup.request_enable(stack.clock.now_ns()):
            raise DemoFailedError(f"enable refused in mode {sup.mode.name}")
        run_phase("ramp", config.supervisor.ramp_time_s + _SETTLE_HOLD_S)
        if release_gantry_on_track and isinstance(stack, ControlStack):
            stack.backend.set_gantry(False)
        if not loop.start_track():
            raise DemoFailedError(f"track refused in mode {sup.mode.name}")
        phase[0] = "track"
        while sup.mode is Mode.TRACK:
            run_phase("track", 0.1)
        run_phase("hold", _FINAL_HOLD_S)
        if sup.mode in SAFE_MODES:
            last = sup.log.since(max(0, sup.log.count - 1))[-1]
            raise DemoFailedError(f"supervisor went to {last.mode.name}: {last.cause.name}")
    except DemoFailedError as exc:
        failure = str(exc)
        log.error("demo failed: %s", failure)
    finally:
        stack.close()
    wall_s = time.perf_counter() - started
    if progress is not None:
        progress.done("failed" if failure else "done")
    return DemoRun(stack, recorder, track, wall_s, failure)
