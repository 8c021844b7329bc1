"""Configuration of the Unitree DDS backend (``[robot.unitree]``) and the backend choice.

Defaults are the robot's: domain 0 on the Jetson's NIC, the motion switcher released before
low-level control. The simulator bridge (``exoactor-edge sim-bridge``) is domain 1 on ``lo``
with ``release_motion_control = false``, as Unitree's own ``unitree_mujoco`` does.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass


class BackendKind(enum.Enum):
    """Which robot the control process drives."""

    SIM = "sim"
    """The in-process MuJoCo simulator (fast tests, ``make demo``)."""
    UNITREE = "unitree"
    """A G1 on its DDS bus: the real robot, or the simulator bridge."""


class Dex3StatePrefix(enum.Enum):
    """Where the Dex3 hands publish their state (both are seen on G1s, §2.1)."""

    DEX3 = "rt/dex3"
    LF_DEX3 = "rt/lf/dex3"


G1_29DOF_MODE_MACHINES = (5,)
"""``mode_machine`` values of the 29-DoF G1 rev 1.0 (with or without hands) that this runtime's
joint tables, limits and gains describe (../shared/reference/unitree-g1.md §1.4)."""


@dataclass(frozen=True)
class UnitreeDdsConfig:
    """How to reach the G1's DDS bus and how to drive it."""

    network_interface: str = "eth0"
    """The NIC on the robot's 192.168.123.0/24 network; ``lo`` for the simulator bridge."""
    domain_id: int = 0
    """0 on the robot, 1 for the simulator (Unitree's convention)."""
    release_motion_control: bool = True
    """Ask the motion switcher to release the built-in controller before writing ``rt/lowcmd``
    (true on the robot; false for the simulator, which has no such service)."""
    command_rate_hz: float = 250.0
    """How often the writer re-sends the latest supervised command. A new command goes out the
    moment the tick hands it over whatever this rate, so the rate only keeps the firmware fed
    between ticks. ``scripts/bench_dds.py`` (two runs, medians of 3 interleaved each, SONIC on
    CPU): at 250 Hz the tick's lateness p99 stays at the writer-less figure (0.005-0.008 ms vs
    0.011-0.020 ms) with period jitter p99 0.16-0.29 ms; at 500 Hz (SONIC's and Unitree's rate)
    jitter is the same but lateness p99 grows 2-6x (0.038-0.064 ms), past the 1.5x budget, for
    1.4-3 % of a core more. A 4 ms gap is far inside what a G1 tolerates: unitree_rl_gym's
    Python deploy writes once per 20 ms step."""
    hand_command_rate_hz: float = 100.0
    """Dex3 command rate (Unitree's teleoperation stack drives the hands at 100 Hz)."""
    dex3_state_prefix: Dex3StatePrefix = Dex3StatePrefix.DEX3
    has_hands: bool = True
    """Send Dex3 commands and wait for hand state; false for a G1 without Dex3."""
    start_timeout_s: float = 3.0
    """How long start-up waits for the first valid ``rt/lowstate``."""
    motion_switcher_timeout_s: float = 10.0
    """How long start-up tries to release the built-in motion controller."""
    accepted_mode_machines: tuple[int, ...] = G1_29DOF_MODE_MACHINES
    """``mode_machine`` values accepted at start; anything else is refused."""
    writer_fifo_priority: int | None = 85
    """SCHED_FIFO priority of the command writer thread where permitted (None: normal)."""
    reader_fifo_priority: int | None = 84
    """SCHED_FIFO priority of the thread that takes and decodes incoming samples. Both sit
    above the control loop's 80: each does tens of microseconds of work per wake-up, and a
    tick waiting for the GIL behind a normal-priority thread would inherit its latency."""

    def __post_init__(self) -> None:
        if not self.network_interface or "/" in self.network_interface:
            raise ValueError(
                f"robot.unitree.network_interface {self.network_interface!r} is not an "
                "interface name"
            )
        if not 0 <= self.domain_id <= 232:
            raise ValueError(f"robot.unitree.domain_id must be within 0..232, got {self.domain_id}")
        for name in ("command_rate_hz", "hand_command_rate_hz"):
            rate = getattr(self, name)
            if not (math.isfinite(rate) and 50.0 <= rate <= 2000.0):
                raise ValueError(f"robot.unitree.{name} must be within 50..2000, got {rate}")
        for name in ("start_timeout_s", "motion_switcher_timeout_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"robot.unitree.{name} must be positive, got {value}")
        for name in ("writer_fifo_priority", "reader_fifo_priority"):
            priority = getattr(self, name)
            if priority is not None and not 1 <= priority <= 99:
                raise ValueError(f"robot.unitree.{name} must be within 1..99, got {priority}")
        if not self.accepted_mode_machines or any(
            not 0 <= m <= 255 for m in self.accepted_mode_machines
        ):
            raise ValueError("robot.unitree.accepted_mode_machines must list values in 0..255")

    @property
    def hand_state_topics(self) -> tuple[str, str]:
        """Left and right Dex3 state topics."""
        prefix = self.dex3_state_prefix.value
        return f"{prefix}/left/state", f"{prefix}/right/state"


SIM_BRIDGE_CONFIG = UnitreeDdsConfig(
    network_interface="lo", domain_id=1, release_motion_control=False
)
"""What the daemon uses to drive ``exoactor-edge sim-bridge`` (its defaults)."""
