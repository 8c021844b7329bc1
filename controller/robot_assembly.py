"""Assembles the control stack for the configured robot: the in-process simulator or a G1 on DDS.

The simulator stack is ``controller.assembly.build_sim_stack``; this module adds the robot's:
the same supervisor, controller and loop over ``UnitreeDdsBackend``, on the monotonic clock
with the sleep-then-spin waiter (the daemon's server replaces it), the writer's damping taken
from the supervisor's own limits so both stop the robot the same way.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import mujoco

from controller.assembly import ControlStack, StackConfig, build_sim_stack
from controller.clock import Clock, MonotonicClock, SleepSpinWaiter
from controller.dynamics import GravityModel, load_robot_model
from controller.estop_latch import EstopLatch
from controller.loop import ControlLoop, TickObserver
from controller.pd_tracker import PdTracker
from controller.robot.model_source import ModelSource
from controller.robot.unitree_config import UnitreeDdsConfig
from controller.robot.unitree_dds import DampingGains, UnitreeDdsBackend
from controller.safety import Supervisor, SupervisorStart
from controller.tracking import TrackingController


@dataclass
class RobotStack:
    """Like ``ControlStack``, over the DDS backend."""

    backend: UnitreeDdsBackend
    supervisor: Supervisor
    loop: ControlLoop
    clock: Clock
    dynamics: mujoco.MjModel

    def close(self) -> None:
        self.backend.close()


def build_control_stack(
    source: ModelSource,
    config: StackConfig,
    robot: UnitreeDdsConfig | None,
    *,
    latch_path: Path | None,
    controller: TrackingController | None = None,
    observer: TickObserver | None = None,
    start: SupervisorStart | None = None,
) -> ControlStack | RobotStack:
    """The simulator stack when ``robot`` is None, else the G1 on DDS."""
    if robot is None:
        return build_sim_stack(
            source, config, latch_path=latch_path, controller=controller, observer=observer,
            start=start,
        )  # fmt: skip
    return build_unitree_stack(
        source, config, robot, latch_path=latch_path, controller=controller, observer=observer,
        start=start,
    )  # fmt: skip


def build_unitree_stack(
    source: ModelSource,
    config: StackConfig,
    robot: UnitreeDdsConfig,
    *,
    latch_path: Path | None,
    controller: TrackingController | None = None,
    observer: TickObserver | None = None,
    start: SupervisorStart | None = None,
) -> RobotStack:
    """A real-time loop over the G1's bus (runs the backend's start-up: may raise
    ``BackendUnavailableError`` with the fix in its message)."""
    dynamics = load_robot_model(source, hand_armature=config.sim.hand_armature)
    clock = MonotonicClock()
    sup_cfg = config.supervisor
    backend = UnitreeDdsBackend(
        robot,
        clock=clock,
        damping=DampingGains(
            stale_after_s=sup_cfg.max_state_age_s,
            damping_kd=sup_cfg.damping_kd,
            hand_damping_kd=sup_cfg.hand_damping_kd,
            tick_period_s=config.loop.period_s,
        ),
    )
    # Threads here share the interpreter lock: a thread that wants it waits up to the switch
    # interval (5 ms by default) for a holder running Python. 0.25 ms bounds how long the writer
    # or the state reader can be held up by the tick's numpy work, and the tick by theirs.
    sys.setswitchinterval(min(sys.getswitchinterval(), 0.00025))
    try:
        supervisor = Supervisor(
            sup_cfg,
            EstopLatch(latch_path),
            GravityModel(dynamics, config.gravity_feedforward),
            start,
        )
        loop = ControlLoop(
            backend=backend,
            supervisor=supervisor,
            controller=controller or PdTracker(dynamics, config.pd_tracker),
            clock=clock,
            waiter=SleepSpinWaiter(clock, spin_ns=int(config.spin_s * 1e9)),
            config=config.loop,
            observer=observer,
        )
    except BaseException:
        backend.close()
        raise
    return RobotStack(backend, supervisor, loop, clock, dynamics)
