"""The action types this robot executes, the errors it reports, and each action's parameters.

A table (``ACTION_SPECS``) that the instantActions and order parsers check against and that
the factsheet publishes; plus the parameter checks both parsers share.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class ActionType(enum.Enum):
    """Instant action types this robot executes (VDA 5050 predefined ones and custom ones)."""

    START_PAUSE = "startPause"
    STOP_PAUSE = "stopPause"
    CANCEL_ORDER = "cancelOrder"
    STATE_REQUEST = "stateRequest"
    FACTSHEET_REQUEST = "factsheetRequest"
    CLEAR_INSTANT_ACTIONS = "clearInstantActions"
    LOAD_MOTION = "loadMotion"
    START_MOTION = "startMotion"
    STOP_MOTION = "stopMotion"
    EMERGENCY_STOP = "emergencyStop"
    RESET_EMERGENCY_STOP = "resetEmergencyStop"
    GENERATE_MOTION = "generateMotion"


class ErrorType(enum.Enum):
    """``errors[].errorType`` values this robot reports (VDA 5050's list is extensible)."""

    VALIDATION = "validationError"
    """A message that fails the schema, is not JSON, or is addressed to another robot."""
    UNSUPPORTED_ACTION = "unsupportedActionType"
    INVALID_PARAMETER = "invalidActionParameter"
    NO_ORDER_TO_CANCEL = "noOrderToCancel"
    ACTION_REFUSED = "actionRefused"
    """The control process refused the command behind an action (its reason is given)."""
    UNKNOWN_PACKAGE = "unknownMotionPackage"
    EMERGENCY_STOP = "emergencyStop"
    SAFETY_FAULT = "safetyFault"
    CONTROL_PROCESS_DOWN = "controlProcessDown"
    ESTOP_LATCH_NOT_DURABLE = "estopLatchNotDurable"
    """The e-stop could not be written to disk: it holds in memory; reset is refused."""
    DUPLICATE_ACTION_ID = "duplicateActionId"
    """An actionId already used by an earlier message: the new action is not executed."""


class ValueType(enum.Enum):
    """Factsheet ``valueDataType`` of an action parameter."""

    STRING = "STRING"
    INTEGER = "INTEGER"
    NUMBER = "NUMBER"
    BOOL = "BOOL"


@dataclass(frozen=True)
class ParameterSpec:
    key: str
    value_type: ValueType
    description: str
    is_optional: bool = False


@dataclass(frozen=True)
class ActionSpec:
    """What the factsheet says about one action type, and what the parser checks."""

    description: str
    result: str
    parameters: tuple[ParameterSpec, ...] = ()
    is_pause_allowed: bool = False
    is_cancel_allowed: bool = False


_PACKAGE_ID = "packageId"

ACTION_SPECS: Mapping[ActionType, ActionSpec] = {
    ActionType.START_PAUSE: ActionSpec(
        "Pause: a running motion stops where it is and holds (resumable); no motion starts.",
        "FINISHED once paused",
    ),
    ActionType.STOP_PAUSE: ActionSpec(
        "End the pause: a paused motion resumes at the frame where it paused.", "FINISHED"
    ),
    ActionType.CANCEL_ORDER: ActionSpec(
        "Cancel the active order: its waiting actions FAILED, the running one stopped (FAILED); "
        "no order active: stop the running or pending motion or generation. RUNNING until the "
        "robot holds, then FINISHED. FAILED with noOrderToCancel when nothing runs or orderId "
        "names another order.",
        "FINISHED once holding",
        (
            ParameterSpec(
                "orderId",
                ValueType.STRING,
                "the order to cancel; absent: the active one",
                is_optional=True,
            ),
        ),
    ),
    ActionType.STATE_REQUEST: ActionSpec("Publish a state message now.", "FINISHED"),
    ActionType.FACTSHEET_REQUEST: ActionSpec("Publish the factsheet now.", "FINISHED"),
    ActionType.CLEAR_INSTANT_ACTIONS: ActionSpec(
        "Forget finished and failed instant action states and the errors tied to them.",
        "FINISHED",
    ),
    ActionType.LOAD_MOTION: ActionSpec(
        "Load a stored motion package into the control process (refused while one runs).",
        "FINISHED once loaded",
        (ParameterSpec(_PACKAGE_ID, ValueType.STRING, "id of an accepted motion package"),),
    ),
    ActionType.START_MOTION: ActionSpec(
        "Start a motion: loads packageId when given, ramps the robot to its default pose when "
        "it is passive or damped, then tracks. RUNNING while tracking, FINISHED at the end of "
        "the motion, FAILED if the supervisor leaves to DAMP or ESTOP.",
        "FINISHED when the motion completes",
        (
            ParameterSpec(
                _PACKAGE_ID,
                ValueType.STRING,
                "motion package to load first; absent: the loaded one",
                is_optional=True,
            ),
        ),
        is_pause_allowed=True,
        is_cancel_allowed=True,
    ),
    ActionType.STOP_MOTION: ActionSpec(
        "Stop tracking and hold the current pose.", "FINISHED once holding"
    ),
    ActionType.EMERGENCY_STOP: ActionSpec(
        "Engage the latched e-stop (damping) at once. A convenience stop: VDA 5050 is not a "
        "safety standard, the on-robot supervisor stays the authority.",
        "FINISHED once sent to the control process",
    ),
    ActionType.RESET_EMERGENCY_STOP: ActionSpec(
        "Clear a latched e-stop engaged over the fleet or the daemon; the robot rests damped.",
        "FINISHED once reset",
    ),
    ActionType.GENERATE_MOTION: ActionSpec(
        "Generate a motion from the robot's camera image and an instruction (embodiment "
        "transfer, task decomposition, video generation, motion estimation in the cloud), "
        "validate and store the package, load it, and start it when autoStart. RUNNING with the "
        "stage and progress in resultDescription; FAILED with the stage's error; cancelOrder "
        "cancels it.",
        "FINISHED once the package is loaded (and started with autoStart)",
        (
            ParameterSpec("instruction", ValueType.STRING, "the task, in plain words"),
            ParameterSpec(
                "view", ValueType.STRING, "camera view: front (default) or back", is_optional=True
            ),
            ParameterSpec(
                "autoStart", ValueType.BOOL, "start the motion when ready", is_optional=True
            ),
        ),
        is_cancel_allowed=True,
    ),
}


def parameter_problem(spec: ActionSpec, parameters: dict[str, Any], count: int) -> str:
    if count != len(parameters):
        return "a parameter key appears twice"
    known = {p.key: p for p in spec.parameters}
    for key in parameters:
        if key not in known:
            return f"unknown parameter {key!r}"
    for p in spec.parameters:
        if p.key not in parameters:
            if not p.is_optional:
                return f"parameter {p.key!r} is required"
            continue
        if not has_type(parameters[p.key], p.value_type):
            return f"parameter {p.key!r} must be {p.value_type.value}"
        if p.value_type is ValueType.STRING and not parameters[p.key]:
            return f"parameter {p.key!r} must not be empty"
    return ""


def has_type(value: Any, value_type: ValueType) -> bool:
    if value_type is ValueType.STRING:
        return isinstance(value, str)
    if value_type is ValueType.BOOL:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if value_type is ValueType.INTEGER:
        return isinstance(value, int)
    return isinstance(value, (int, float))


def usage(kind: str, spec: ActionSpec) -> str:
    if not spec.parameters:
        return f"{kind} takes no parameters"
    listed = ", ".join(
        f"{p.key} ({p.value_type.value}{', optional' if p.is_optional else ''})"
        for p in spec.parameters
    )
    return f"{kind} takes {listed}"
