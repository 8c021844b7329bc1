"""The live motion and the commands that move it: start, stop, pause, resume, load.

One motion action (``startMotion``) can be live at a time. Its VDA status follows the
supervisor: RUNNING while the robot tracks, PAUSED while paused, FINISHED when the track
completes (TRACK -> HOLD, cause TRACK_COMPLETE), FAILED when it is cancelled or when the
supervisor leaves to DAMP or ESTOP. Command results and mode events may arrive in either order;
each transition below is written so that both orders end in the same state, and so that a
pause, stop or cancel that lands at the track's end gives the same outcome on either side of
its last tick.

Sans-I/O: ``FleetState`` feeds it actions, command results and events, and passes the
returned ``Step``s on.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from daemon.control.control_link import CommandResult, ControlStatus, ModeEvent
from daemon.fleet.vda5050.actions import ErrorType, InstantAction
from daemon.fleet.vda5050.robot_model import RobotModel
from daemon.fleet.vda5050.robot_view import describe_cause, is_fault
from daemon.fleet.vda5050.steps import Step, StepKind
from daemon.fleet.vda5050.tracker import ActionStatus


class _Phase(enum.Enum):
    WAITING = "waiting"
    LOADING = "loading"
    ENABLING = "enabling"
    STARTING = "starting"
    TRACKING = "tracking"
    PAUSING = "pausing"
    PAUSED = "paused"
    RESUMING = "resuming"


_MOVING = frozenset({_Phase.STARTING, _Phase.TRACKING, _Phase.PAUSING, _Phase.RESUMING})
"""Phases in which the robot may be tracking, so a stop has to wait for HOLD."""


@dataclass
class _Motion:
    action_id: str
    package_id: str | None
    phase: _Phase = _Phase.WAITING
    has_started: bool = False


class MotionControl:
    """The live motion, and the stop that waits for the robot to hold."""

    def __init__(self, robot: RobotModel) -> None:
        self._robot = robot
        self._motion: _Motion | None = None
        self._stopper: str | None = None
        """A cancelOrder/stopMotion that is RUNNING until the robot holds."""

    @property
    def action_id(self) -> str | None:
        """The live startMotion action, if any."""
        return self._motion.action_id if self._motion else None

    @property
    def has_started(self) -> bool:
        return self._motion is not None and self._motion.has_started

    # ------------------------------------------------------------------ actions in
    def begin_load(self, action: InstantAction) -> list[Step]:
        if self._motion is not None:
            self._robot.refuse(
                action.action_id, f"motion {self._motion.action_id} is live; stop it first"
            )
            return []
        return [Step(StepKind.LOAD, action.action_id, action.text("packageId"))]

    def begin_motion(self, action: InstantAction) -> list[Step]:
        action_id, robot = action.action_id, self._robot
        if self._motion is not None:
            robot.refuse(action_id, f"motion {self._motion.action_id} is live; stop it first")
            return []
        if robot.is_paused:
            robot.refuse(action_id, "the robot is paused; send stopPause first")
            return []
        package_id = action.text("packageId")
        self._motion = _Motion(action_id, package_id)
        if package_id and package_id != robot.status.loaded_package:
            return [Step(StepKind.LOAD, action_id, package_id)]
        return self._after_load(self._motion)

    def begin_stop(self, action: InstantAction) -> list[Step]:
        """stopMotion or cancelOrder: stops the live motion, or whatever tracks (a motion
        started elsewhere: the command line, a stream)."""
        motion, action_id = self._motion, action.action_id
        if motion is None:
            return [Step(StepKind.STOP, action_id)]
        if motion.phase in _MOVING:
            self._stopper = action_id
        else:
            self._end_motion(ActionStatus.FAILED, f"cancelled by {action.action_type.value}")
        return [Step(StepKind.STOP, action_id)]

    def begin_pause(self, action_id: str) -> list[Step]:
        motion = self._motion
        if motion is not None and motion.phase in (_Phase.STARTING, _Phase.TRACKING):
            self._robot.is_pause_pending = True
            return [Step(StepKind.PAUSE, action_id)]
        self._robot.is_paused = True
        self._robot.tracker.set(
            action_id, ActionStatus.FINISHED, "paused: no motion starts meanwhile"
        )
        return []

    def begin_unpause(self, action_id: str) -> list[Step]:
        motion, robot = self._motion, self._robot
        robot.is_pause_pending = False
        if motion is not None and motion.phase is _Phase.PAUSED:
            if motion.has_started:
                return [Step(StepKind.RESUME, action_id)]
            robot.is_paused = False
            robot.tracker.set(action_id, ActionStatus.FINISHED, "pause ended; motion starts")
            return [Step(StepKind.START, motion.action_id)]
        robot.is_paused = False
        robot.tracker.set(action_id, ActionStatus.FINISHED, "pause ended")
        return []

    def cancel_unstarted(self, result: str) -> None:
        """Fail the motion if it has not started (an e-stop overtook its queued steps)."""
        motion = self._motion
        if motion is not None and not motion.has_started:
            self._end_motion(ActionStatus.FAILED, result)

    # ------------------------------------------------------------------ step outcomes
    def before_step(self, step: Step) -> bool:
        """Called just before a step is sent. False: skip it (its action ended meanwhile)."""
        tracker, robot = self._robot.tracker, self._robot
        if not tracker.is_live(step.action_id):
            if step.kind is StepKind.PAUSE:
                robot.is_pause_pending = False  # that pause will not come
            return False
        motion = self._motion_for(step)
        status = ActionStatus.INITIALIZING
        if step.kind is StepKind.LOAD and motion:
            motion.phase = _Phase.LOADING
        elif step.kind is StepKind.ENABLE and motion:
            motion.phase = _Phase.ENABLING
        elif step.kind is StepKind.START and motion:
            motion.phase = _Phase.STARTING
        elif step.kind is StepKind.PAUSE:
            motion = self._motion
            if motion is None or motion.phase not in (_Phase.STARTING, _Phase.TRACKING):
                robot.is_paused, robot.is_pause_pending = True, False
                tracker.set(step.action_id, ActionStatus.FINISHED, "paused")
                return False
            motion.phase, status = _Phase.PAUSING, ActionStatus.RUNNING
        elif step.kind is StepKind.RESUME:
            motion = self._motion
            if motion is None or motion.phase is not _Phase.PAUSED:
                robot.is_paused = False
                tracker.set(step.action_id, ActionStatus.FINISHED, "pause ended")
                return False
            motion.phase, status = _Phase.RESUMING, ActionStatus.RUNNING
        elif step.kind in (StepKind.STOP, StepKind.RESET_ESTOP):
            status = ActionStatus.RUNNING
        current = tracker.status(step.action_id)
        if current in (ActionStatus.WAITING, ActionStatus.PAUSED) or status is ActionStatus.RUNNING:
            tracker.set(step.action_id, status)
        return True

    def step_done(self, step: Step, result: CommandResult) -> list[Step]:
        """The control process answered the step's command; returns follow-up steps."""
        handler = {
            StepKind.LOAD: self._loaded,
            StepKind.ENABLE: self._enabled,
            StepKind.START: self._started,
            StepKind.STOP: self._stopped,
            StepKind.PAUSE: self._paused,
            StepKind.RESUME: self._resumed,
            StepKind.RESET_ESTOP: self._reset,
        }[step.kind]
        return handler(step, result)

    def step_failed(
        self, step: Step, error_type: ErrorType, description: str, hint: str = ""
    ) -> None:
        """A step could not be carried out (e.g. the package is unknown)."""
        if self._motion_for(step) is not None:
            self._motion = None
        self._robot.tracker.fail(step.action_id, error_type, description, hint=hint)

    def _loaded(self, step: Step, result: CommandResult) -> list[Step]:
        motion = self._motion_for(step)
        if not result.accepted:
            self._robot.refuse(
                step.action_id, f"loading {step.package_id} refused: {result.reason}"
            )
            if motion is not None:
                self._motion = None
            return []
        if motion is None:
            self._robot.tracker.set(
                step.action_id, ActionStatus.FINISHED, f"loaded {step.package_id}"
            )
            return []
        return self._after_load(motion)

    def _enabled(self, step: Step, result: CommandResult) -> list[Step]:
        if not result.accepted and self._motion_for(step) is not None:
            self._robot.refuse(step.action_id, f"enable refused: {result.reason}")
            self._motion = None
        return []

    def _started(self, step: Step, result: CommandResult) -> list[Step]:
        motion = self._motion_for(step)
        if motion is None:
            return []
        if not result.accepted:
            self._robot.refuse(step.action_id, f"start refused: {result.reason}")
            self._motion = None
            return []
        motion.has_started = True
        if motion.phase is _Phase.STARTING:
            motion.phase = _Phase.TRACKING
            self._robot.tracker.set(step.action_id, ActionStatus.RUNNING)
        return []

    def _stopped(self, step: Step, result: CommandResult) -> list[Step]:
        if step.action_id == self._stopper and result.accepted:
            return []  # FINISHED when the robot holds (``on_event``)
        if step.action_id == self._stopper:
            self._stopper = None
        text = "stopped; holding" if result.accepted else "no motion was tracking"
        self._robot.tracker.set(step.action_id, ActionStatus.FINISHED, text)
        return []

    def _paused(self, step: Step, result: CommandResult) -> list[Step]:
        motion, robot = self._motion, self._robot
        robot.is_pause_pending = False
        if not result.accepted:
            # The control process pauses only a running track: nothing was running by the
            # time the pause arrived (the track ended, or a fault stopped it; its own event
            # says which). The robot is paused all the same, as a pause of an idle robot is,
            # so the outcome does not depend on which came first.
            robot.is_paused = True
            robot.tracker.set(
                step.action_id,
                ActionStatus.FINISHED,
                f"paused; no motion was running ({result.reason})",
            )
            if motion is not None and motion.phase is _Phase.PAUSING:
                motion.phase = _Phase.TRACKING
            return []
        robot.is_paused = True
        robot.tracker.set(step.action_id, ActionStatus.FINISHED, "paused")
        if motion is not None and motion.phase in (_Phase.PAUSING, _Phase.PAUSED):
            motion.phase = _Phase.PAUSED
            robot.tracker.set(motion.action_id, ActionStatus.PAUSED)
        return []

    def _resumed(self, step: Step, result: CommandResult) -> list[Step]:
        motion, robot = self._motion, self._robot
        if not result.accepted:
            robot.refuse(step.action_id, f"resume refused: {result.reason}")
            if motion is not None and motion.phase is _Phase.RESUMING:
                motion.phase = _Phase.PAUSED
            return []
        robot.is_paused = False
        robot.tracker.set(step.action_id, ActionStatus.FINISHED, "resumed")
        if motion is not None and motion.phase is _Phase.RESUMING:
            motion.phase = _Phase.TRACKING
            robot.tracker.set(motion.action_id, ActionStatus.RUNNING)
        return []

    def _reset(self, step: Step, result: CommandResult) -> list[Step]:
        if result.accepted:
            self._robot.tracker.set(
                step.action_id, ActionStatus.FINISHED, "e-stop reset; robot damped"
            )
        else:
            self._robot.refuse(step.action_id, f"reset refused: {result.reason}")
        return []

    def _after_load(self, motion: _Motion) -> list[Step]:
        """Decide how a motion whose track is loaded gets going, from the current mode."""
        robot = self._robot
        mode = robot.mode
        if not robot.status.is_alive:
            self._fail_motion(ErrorType.CONTROL_PROCESS_DOWN, "the control process is not running")
        elif mode in ("PASSIVE", "DAMP"):
            if robot.config.may_enable:
                return [Step(StepKind.ENABLE, motion.action_id)]
            self._fail_motion(ErrorType.ACTION_REFUSED, f"robot is {mode}; enable it first")
        elif mode == "RAMP":
            motion.phase = _Phase.ENABLING
            robot.tracker.set(motion.action_id, ActionStatus.INITIALIZING)
        elif mode == "HOLD":
            return self._start_unless_paused(motion)
        elif mode == "ESTOP":
            self._fail_motion(ErrorType.EMERGENCY_STOP, "e-stop engaged; reset it first")
        else:
            self._fail_motion(ErrorType.ACTION_REFUSED, f"robot is {mode}; cannot start")
        return []

    def _start_unless_paused(self, motion: _Motion) -> list[Step]:
        if self._robot.is_paused:
            motion.phase = _Phase.PAUSED
            self._robot.tracker.set(
                motion.action_id, ActionStatus.PAUSED, "paused before it started"
            )
            return []
        return [Step(StepKind.START, motion.action_id)]

    # ------------------------------------------------------------------ control process in
    def on_event(self, event: ModeEvent) -> list[Step]:
        """A supervisor transition (the model's mode is already updated); returns follow-up
        steps (start after the ramp)."""
        motion = self._motion
        steps: list[Step] = []
        if motion is not None:
            steps = self._motion_event(motion, event)
        if self._stopper is not None and self._motion is None and event.mode != "TRACK":
            self._robot.tracker.set(self._stopper, ActionStatus.FINISHED, f"robot is {event.mode}")
            self._stopper = None
        return steps

    def _motion_event(self, motion: _Motion, event: ModeEvent) -> list[Step]:
        mode, cause, phase = event.mode, event.cause, motion.phase
        if mode in ("DAMP", "ESTOP", "PASSIVE"):
            self._end_motion(
                ActionStatus.FAILED,
                f"interrupted: supervisor went to {mode} ({cause}: {describe_cause(cause)})",
            )
        elif mode == "TRACK" and phase in (_Phase.STARTING, _Phase.RESUMING):
            motion.phase, motion.has_started = _Phase.TRACKING, True
            self._robot.tracker.set(motion.action_id, ActionStatus.RUNNING)
        elif mode != "HOLD":
            pass
        elif cause == "TRACK_COMPLETE" and (
            phase in _MOVING or (phase is _Phase.PAUSED and motion.has_started)
        ):
            # PAUSED too: a pause acknowledged before the track's own end arrives (the pause
            # landed after the last frame, and the control process completed the track).
            self._end_motion(ActionStatus.FINISHED, "motion complete")
        elif cause == "RAMP_COMPLETE" and phase is _Phase.ENABLING:
            return self._start_unless_paused(motion)
        elif cause == "TRACK_STOPPED" and phase is _Phase.PAUSING:
            motion.phase = _Phase.PAUSED
            self._robot.is_paused = True
            self._robot.tracker.set(motion.action_id, ActionStatus.PAUSED)
        elif (
            phase in (_Phase.STARTING, _Phase.TRACKING, _Phase.RESUMING)
            and cause != "RAMP_COMPLETE"
        ):
            if is_fault(cause):
                text = f"interrupted: {describe_cause(cause)} ({cause})"
            elif self._stopper is not None:
                text = f"cancelled by {self._stopper}"
            else:
                text = "stopped outside the fleet interface"
            self._end_motion(ActionStatus.FAILED, text)
        return []

    def on_status(self, previous: ControlStatus, status: ControlStatus) -> None:
        """A status snapshot's edges: the control process stopping ends the motion."""
        if previous.is_alive and not status.is_alive and self._motion is not None:
            self._end_motion(ActionStatus.FAILED, "interrupted: the control process stopped")

    # ------------------------------------------------------------------ helpers
    def _motion_for(self, step: Step) -> _Motion | None:
        motion = self._motion
        return motion if motion is not None and motion.action_id == step.action_id else None

    def _end_motion(self, status: ActionStatus, result: str) -> None:
        if self._motion is not None:
            self._robot.tracker.set(self._motion.action_id, status, result)
            self._motion = None

    def _fail_motion(self, error_type: ErrorType, description: str) -> None:
        if self._motion is not None:
            self._robot.tracker.fail(self._motion.action_id, error_type, description)
            self._motion = None
