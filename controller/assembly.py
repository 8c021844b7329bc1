"""Assembles a control stack (backend, supervisor, controller, loop) from typed configs.

The demo, the benchmarks and the daemon's control process all build their stacks here, so
there is one place that decides how clock, waiter and backend fit together for each mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import mujoco

from controller.clock import Clock, LockstepWaiter, MonotonicClock, SimulatedClock, SleepSpinWaiter
from controller.dynamics import FeedforwardJoints, GravityModel, load_robot_model
from controller.estop_latch import EstopLatch
from controller.loop import ControlLoop, HandFeed, LoopConfig, TickObserver
from controller.pd_tracker import PdTracker, PdTrackerConfig
from controller.robot.model_source import ModelSource
from controller.robot.mujoco_backend import MujocoBackend, SimConfig, SimMode
from controller.safety import Supervisor, SupervisorConfig, SupervisorStart
from controller.tracking import TrackingController

# Lock-step simulated time starts at 1 s so that a state stamp of 0 still means "never received".
_LOCKSTEP_EPOCH_NS = 1_000_000_000


@dataclass(frozen=True)
class StackConfig:
    """Everything needed to build a simulated control stack."""

    sim: SimConfig = field(default_factory=SimConfig)
    supervisor: SupervisorConfig = field(default_factory=SupervisorConfig)
    loop: LoopConfig = field(default_factory=LoopConfig)
    pd_tracker: PdTrackerConfig = field(default_factory=PdTrackerConfig)
    gravity_feedforward: FeedforwardJoints = FeedforwardJoints.ALL
    """Joints that get gravity feed-forward in RAMP and HOLD (ALL assumes a supported pelvis)."""
    spin_s: float = 0.0003
    """Real-time mode: spin this long before each deadline instead of sleeping."""


@dataclass
class ControlStack:
    backend: MujocoBackend
    supervisor: Supervisor
    loop: ControlLoop
    clock: Clock
    dynamics: mujoco.MjModel

    def close(self) -> None:
        self.backend.close()


def build_sim_stack(
    source: ModelSource,
    config: StackConfig,
    *,
    latch_path: Path | None,
    controller: TrackingController | None = None,
    hands: HandFeed | None = None,
    observer: TickObserver | None = None,
    start: SupervisorStart | None = None,
) -> ControlStack:
    """A control loop over the MuJoCo backend; lock-step or real-time as ``config.sim.mode``."""
    dynamics = load_robot_model(source, hand_armature=config.sim.hand_armature)
    clock: Clock
    if config.sim.mode is SimMode.LOCKSTEP:
        sim_clock = SimulatedClock(_LOCKSTEP_EPOCH_NS)
        backend = MujocoBackend(source, config.sim, sim_clock)
        waiter: LockstepWaiter | SleepSpinWaiter = LockstepWaiter(sim_clock, backend.advance)
        clock = sim_clock
    else:
        clock = MonotonicClock()
        backend = MujocoBackend(source, config.sim, clock)
        waiter = SleepSpinWaiter(clock, spin_ns=int(config.spin_s * 1e9))
    gravity = GravityModel(dynamics, config.gravity_feedforward)
    supervisor = Supervisor(config.supervisor, EstopLatch(latch_path), gravity, start)
    if controller is None:
        controller = PdTracker(dynamics, config.pd_tracker)
    loop = ControlLoop(
        backend=backend,
        supervisor=supervisor,
        controller=controller,
        clock=clock,
        waiter=waiter,
        config=config.loop,
        hands=hands,
        observer=observer,
    )
    return ControlStack(backend, supervisor, loop, clock, dynamics)
