"""Configuration of the simulator bridge (``exoactor-edge sim-bridge``)."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

from controller.robot.mujoco_backend import SimConfig, SimMode


class SwitcherBehaviour(enum.Enum):
    """Whether the bridge answers ``motion_switcher`` requests, and how (tests of start-up)."""

    ABSENT = "absent"
    """No service, as in Unitree's own simulators."""
    RELEASES = "releases"
    """Reports mode "ai" until a ReleaseMode arrives, then none (a robot that cooperates)."""
    NEVER_RELEASES = "never"
    """Keeps reporting mode "ai" (a robot whose built-in controller will not let go)."""


@dataclass(frozen=True)
class SimBridgeConfig:
    """The simulated G1 as the DDS bus sees it."""

    domain_id: int = 1
    network_interface: str = "lo"
    sim: SimConfig = field(default_factory=lambda: SimConfig(mode=SimMode.LOCKSTEP))
    """Physics (lock-step: the bridge's own loop paces it at ``physics_dt_s``, one
    ``rt/lowstate`` per physics step: 500 Hz at 2 ms, the robot's rate)."""
    mode_machine: int = 5
    """What ``rt/lowstate`` reports (5: G1 29-DoF rev 1.0, as unitree_mujoco's G1 bridge)."""
    hand_state_rate_hz: float = 100.0
    torso_imu_rate_hz: float = 100.0
    bms_rate_hz: float = 2.0
    battery_soc_pct: int = 87
    dex3_state_prefix: str = "rt/dex3"
    motion_switcher: SwitcherBehaviour = SwitcherBehaviour.ABSENT
    control_endpoint: str | None = None
    """A ZeroMQ REP endpoint for the simulated remote and test hooks (see ``control``)."""

    def __post_init__(self) -> None:
        if self.sim.mode is not SimMode.LOCKSTEP:
            raise ValueError("the bridge paces physics itself: sim.mode must be lockstep")
        if not 0 <= self.domain_id <= 232:
            raise ValueError(f"domain_id must be within 0..232, got {self.domain_id}")
        state_rate = 1.0 / self.sim.physics_dt_s
        for name in ("hand_state_rate_hz", "torso_imu_rate_hz", "bms_rate_hz"):
            rate = getattr(self, name)
            if not (math.isfinite(rate) and 0 < rate <= state_rate):
                raise ValueError(f"{name} must be within 0..{state_rate:g}, got {rate}")
        if not 0 <= self.mode_machine <= 255 or not 0 <= self.battery_soc_pct <= 100:
            raise ValueError("mode_machine must be 0..255 and battery_soc_pct 0..100")

    @property
    def state_period_ns(self) -> int:
        return round(self.sim.physics_dt_s * 1e9)
