"""How the supervisor's mode and cause read in VDA 5050 terms: errors, safetyState, figures.

VDA 5050 is not a safety standard. These entries only *report* what the on-robot supervisor
decided; nothing here decides anything.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from controller import estop_latch
from daemon.control.control_link import ControlStatus
from daemon.fleet.vda5050.actions import ErrorType


class OperatingMode(enum.Enum):
    """VDA 5050 v3 ``operatingMode``."""

    STARTUP = "STARTUP"
    AUTOMATIC = "AUTOMATIC"
    SEMIAUTOMATIC = "SEMIAUTOMATIC"
    INTERVENED = "INTERVENED"
    MANUAL = "MANUAL"
    SERVICE = "SERVICE"
    TEACH_IN = "TEACH_IN"


class BatterySource(enum.Enum):
    """Where ``powerSupply.stateOfCharge`` comes from."""

    ROBOT = "robot"
    """The robot's BMS (DDS ``rt/lf/bmsstate``)."""
    SIMULATED = "simulated"
    """The in-process simulator: no battery; the figure is not a measurement."""
    NONE = "none"
    """No reading (yet): VDA 5050 requires a figure; 80 % ("good") is a placeholder."""


SIMULATED_SOC_PCT = 100.0
"""The simulator's stateOfCharge (labelled simulated in ``information``)."""
PLACEHOLDER_SOC_PCT = 80.0
"""VDA 5050's "good" in its two-level convention, reported while no reading exists."""


@dataclass(frozen=True)
class RobotExtras:
    """What the daemon knows beyond the control process (battery, who is in control).

    ``FleetService(extra_status=...)`` polls a callable returning this.
    """

    state_of_charge_pct: float | None = None
    """None: no battery reading; the state then reports 80 % ("good" in VDA 5050's two-level
    convention) and says so in ``information``."""
    battery_source: BatterySource | None = None
    """None: ``ROBOT`` when a figure is given, else ``NONE``. ``SIMULATED`` reports
    ``SIMULATED_SOC_PCT`` (or the figure given) and says it is simulated."""
    battery_voltage_v: float | None = None
    is_charging: bool = False
    operating_mode: OperatingMode | None = None
    """None: STARTUP while the control process is down, else AUTOMATIC."""
    information: tuple[tuple[str, str], ...] = ()
    """Extra ``(infoType, infoDescriptor)`` pairs for ``state.information``."""


_ESTOP_CAUSES: Mapping[str, str] = {
    "ESTOP_COMMAND": "e-stop commanded over the fleet interface or the daemon",
    "ESTOP_REMOTE": "e-stop pressed on the robot's remote",
    "ESTOP_LATCHED": "e-stop latched from before the last restart",
}
MANUAL_ESTOP_CAUSES = frozenset({"ESTOP_REMOTE"})
"""Causes reported as ``activeEmergencyStop: MANUAL`` when the origin is not known."""
ROBOT_SIDE_ORIGINS = frozenset(origin.value for origin in estop_latch.ROBOT_SIDE_ORIGINS)
"""E-stop origins acknowledged at the robot (``MANUAL``): remote key, local CLI, unknown."""


def is_manual_estop(*, cause: str, origin: str) -> bool:
    """Whether an engaged e-stop must be acknowledged at the robot (VDA 5050 ``MANUAL``).

    The persisted origin decides (it survives restarts, when the cause reads ESTOP_LATCHED);
    without one, the cause does.
    """
    if origin:
        return origin in ROBOT_SIDE_ORIGINS
    return cause in MANUAL_ESTOP_CAUSES


FAULT_CAUSES: Mapping[str, str] = {
    "STATE_STALE": "robot state stopped arriving",
    "IMU_MISSING": "the IMU reading is missing",
    "NON_FINITE_STATE": "the robot state holds non-finite values",
    "TILT": "the pelvis tilted beyond its limit (falling)",
    "JOINT_VELOCITY": "a joint moved faster than its limit",
    "OVER_TEMPERATURE": "a motor is over temperature",
    "NON_FINITE_COMMAND": "the policy produced a non-finite command",
    "POLICY_OVER_BUDGET": "the policy overran its compute budget repeatedly",
    "REFERENCE_STALE": "the streamed reference stopped arriving",
    "STREAM_PROTOCOL_CHANGED": "the streaming producer changed protocol version within a stream",
    "HEARTBEAT_LOST": "the daemon's heartbeat was lost",
    "FAULT_HOLD_TIMEOUT": "a fault was not cleared while holding",
    "NON_FINITE_OBSERVATION": "the policy observation holds non-finite values",
    "INFERENCE_FAILED": "the policy inference failed",
    "RESTARTED": "the control process died and was restarted; it starts damped",
}
"""Supervisor causes that are faults, with what each means for an operator."""

OTHER_CAUSES: Mapping[str, str] = {
    "STARTUP": "started",
    "ENABLE_REQUESTED": "enable requested",
    "RAMP_COMPLETE": "ramp to the default pose complete",
    "TRACK_REQUESTED": "motion started",
    "TRACK_COMPLETE": "motion complete",
    "TRACK_STOPPED": "motion stopped",
    "DAMP_REQUESTED": "damping requested",
    "ESTOP_RESET": "e-stop reset",
}


def is_fault(cause: str) -> bool:
    """A fault cause; a cause this module does not know yet counts as one (reported, not hidden)."""
    return cause not in OTHER_CAUSES and cause not in _ESTOP_CAUSES


def describe_cause(cause: str) -> str:
    """A short human description of a ``controller.safety.Cause`` name."""
    return _ESTOP_CAUSES.get(cause) or FAULT_CAUSES.get(cause) or OTHER_CAUSES.get(cause) or cause


def safety_state(*, is_estopped: bool, cause: str, origin: str = "") -> dict[str, Any]:
    """``safetyState``: REMOTE for an e-stop the fleet may acknowledge, MANUAL for one engaged
    at the robot (remote key, local command line, an unreadable latch).

    ``fieldViolation`` is always False: the G1 has no protective-field scanner.
    """
    if not is_estopped:
        stop = "NONE"
    elif is_manual_estop(cause=cause, origin=origin):
        stop = "MANUAL"
    else:
        stop = "REMOTE"
    return {"activeEmergencyStop": stop, "fieldViolation": False}


def status_errors(
    *, is_alive: bool, mode: str, cause: str, origin: str = "", latch_error: str = ""
) -> list[dict[str, Any]]:
    """Errors that last as long as the supervisor's condition does (not tied to an action)."""
    errors = []
    if latch_error:
        errors.append(
            _error(
                ErrorType.ESTOP_LATCH_NOT_DURABLE,
                "FATAL",
                f"the e-stop could not be written to disk ({latch_error}); it holds in memory "
                "and is retried; reset and enable are refused until it is on disk",
                "free space on, or remount read-write, the daemon's state directory",
            )
        )
    return errors + _condition_errors(is_alive=is_alive, mode=mode, cause=cause, origin=origin)


def _condition_errors(
    *, is_alive: bool, mode: str, cause: str, origin: str
) -> list[dict[str, Any]]:
    if not is_alive:
        return [
            _error(
                ErrorType.CONTROL_PROCESS_DOWN,
                "FATAL",
                "the control process is not running; the daemon restarts it",
                "wait for the restart; check the daemon's journal if it repeats",
            )
        ]
    if mode == "ESTOP":
        hint = "check the robot, then send resetEmergencyStop"
        if is_manual_estop(cause=cause, origin=origin):
            hint = "check the robot, then reset the e-stop at the robot (exoactor-edge reset)"
        return [
            _error(
                ErrorType.EMERGENCY_STOP,
                "FATAL",
                f"emergency stop engaged: {describe_cause(cause)} ({cause}); motors damped",
                hint,
            )
        ]
    if is_fault(cause) and mode in ("DAMP", "HOLD"):
        level = "CRITICAL" if mode == "DAMP" else "URGENT"
        action = "motors damped" if mode == "DAMP" else "holding, then damping unless it clears"
        return [
            _error(
                ErrorType.SAFETY_FAULT,
                level,
                f"safety supervisor fault: {describe_cause(cause)} ({cause}); {action}",
                "fix the cause; startMotion enables the robot again",
            )
        ]
    return []


def battery_source(extras: RobotExtras) -> BatterySource:
    if extras.battery_source is not None:
        return extras.battery_source
    return BatterySource.NONE if extras.state_of_charge_pct is None else BatterySource.ROBOT


def power_supply(extras: RobotExtras) -> dict[str, Any]:
    charge = extras.state_of_charge_pct
    source = battery_source(extras)
    if source is BatterySource.SIMULATED and charge is None:
        charge = SIMULATED_SOC_PCT
    elif source is BatterySource.NONE:
        charge = None
    supply: dict[str, Any] = {
        "stateOfCharge": PLACEHOLDER_SOC_PCT if charge is None else min(max(charge, 0.0), 100.0),
        "charging": extras.is_charging,
    }
    if extras.battery_voltage_v is not None:
        supply["batteryVoltage"] = extras.battery_voltage_v
    return supply


def operating_mode(*, is_alive: bool, extras: RobotExtras) -> str:
    mode = extras.operating_mode
    if mode is None:
        mode = OperatingMode.AUTOMATIC if is_alive else OperatingMode.STARTUP
    return str(mode.value)


RELEVANT_INFO_LEVEL = "INFO"
"""Information entries at this level are part of "a relevant change"; DEBUG ones are figures
that change every tick and are only refreshed at ``info_interval_s``."""


def information(
    status: ControlStatus, *, mode: str, cause: str, is_paused: bool, extras: RobotExtras
) -> list[dict[str, Any]]:
    """``state.information``: the supervisor's mode and our figures (not for fleet logic)."""
    package = status.loaded_package or ""
    infos = [
        _info(
            "controlMode",
            "INFO",
            mode,
            cause=cause,
            causeDescription=describe_cause(cause),
            package=package,
            paused=str(is_paused).lower(),
        ),
        _info(
            "controlProcess",
            "INFO",
            "alive" if status.is_alive else "down",
            restarts=str(status.restarts),
        ),
        _info(
            "trackProgress",
            "DEBUG",
            package,
            frame=str(status.track_frame),
            frames=str(status.track_frames),
            trackingRmsRad=_figure(status.tracking_rms_rad),
        ),
        _info(
            "loopTiming",
            "DEBUG",
            "milliseconds over the last window",
            latenessP50Ms=_figure(status.timing.lateness_p50_ms),
            latenessP99Ms=_figure(status.timing.lateness_p99_ms),
            latenessMaxMs=_figure(status.timing.lateness_max_ms),
            computeP99Ms=_figure(status.timing.compute_p99_ms),
            misses=str(status.timing.misses),
            ticks=str(status.timing.ticks),
            stateAgeMs=_figure(status.state_age_ms),
        ),
    ]
    source = battery_source(extras)
    if source is BatterySource.SIMULATED:
        infos.append(
            _info(
                "batteryReading",
                "INFO",
                "simulated: the simulator has no battery; stateOfCharge is not a measurement",
            )
        )
    elif source is BatterySource.NONE:
        infos.append(
            _info(
                "batteryReading",
                "INFO",
                "none: no battery reading (yet); stateOfCharge 80 is a placeholder",
            )
        )
    infos.extend(_info(kind, "INFO", text) for kind, text in extras.information)
    return infos


def _figure(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) else "none"


def _error(error_type: ErrorType, level: str, description: str, hint: str) -> dict[str, Any]:
    return {
        "errorType": error_type.value,
        "errorLevel": level,
        "errorDescription": description,
        "errorHint": hint,
        "errorReferences": [],
    }


def _info(kind: str, level: str, descriptor: str, **references: str) -> dict[str, Any]:
    return {
        "infoType": kind,
        "infoLevel": level,
        "infoDescriptor": descriptor,
        "infoReferences": [{"referenceKey": k, "referenceValue": v} for k, v in references.items()],
    }
