"""Start-up check of the robot before the service starts: one line naming the fix, or nothing.

With ``[robot] backend = "unitree"``, ``exoactor-edge run`` first opens the bus itself and runs
the DDS backend's whole start-up (SDK, Cyclone version, NIC, domain, first ``rt/lowstate``,
``mode_machine``, motion switcher) without starting its writer, so a wrong setting stops the
command with exit status 2 and no ``rt/lowcmd`` ever written. The control process repeats the
start-up when it starts; a failure there (the robot went away) is retried by the daemon.
"""

from __future__ import annotations

from controller.clock import MonotonicClock
from controller.robot.base import BackendUnavailableError
from controller.robot.unitree_config import BackendKind
from daemon.config import ConfigError, EdgeConfig


def check_robot(config: EdgeConfig) -> None:
    """Raise ``ConfigError`` (key ``robot.unitree``) when the configured robot cannot be driven."""
    if config.robot.backend is not BackendKind.UNITREE:
        return
    from controller.robot.unitree_dds import UnitreeDdsBackend

    try:
        backend = UnitreeDdsBackend(
            config.robot.unitree, clock=MonotonicClock(), start_writer=False
        )
    except BackendUnavailableError as exc:
        raise ConfigError("robot.unitree", str(exc)) from None
    backend.close()
