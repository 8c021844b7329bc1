"""The built-in joint-space PD tracker: follows a track's G1 joint references with SONIC's gains.

It stands in for the SONIC policy where no weights are configured. It cannot balance, so it is
meant for a robot whose pelvis is held (the simulator's gantry). Besides the position target it
sends the reference velocity and a model-based feed-forward torque (inverse dynamics of the
reference, precomputed per track in ``prepare``) plus gravity compensation at the measured pose
(one rigid-body pass per tick; see ``controller.dynamics`` for why not at the reference pose).
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from controller.dynamics import FeedforwardJoints, GravityModel, inverse_dynamics_track
from controller.embodiment import g1
from controller.robot.base import F64, RobotCommand, RobotState
from controller.safety import Cause
from controller.tracking import ControllerKind
from estimators.track import TRACK_FPS, TrackView


@dataclass(frozen=True)
class PdTrackerConfig:
    feedforward: FeedforwardJoints = FeedforwardJoints.ALL
    """Inverse-dynamics torque for these joints (ALL assumes the pelvis is supported)."""
    use_velocity_feedforward: bool = True


class PdTracker:
    """``TrackingController`` that plays a track's ``q_hw`` through the motor PD loops."""

    kind = ControllerKind.PD_TRACKER
    last_fault_cause: Cause | None = None  # copying a validated track cannot fail

    def __init__(self, model: mujoco.MjModel | None, config: PdTrackerConfig) -> None:
        self._model = model
        self._config = config
        self._gravity = GravityModel(model, config.feedforward) if model is not None else None
        self._prepared: tuple[TrackView, F64, F64] | None = None
        self._active: tuple[TrackView, F64, F64] | None = None

    def stream_refusal(self, protocol: int) -> str:
        """G1 joint references (v1) and mapped SMPL frames (v3) only: v4 tokens need SONIC."""
        if protocol == 4:
            return ("protocol v4 streams SONIC tokens; the PD tracker cannot follow them "
                    "(configure [sonic] to track token streams)")  # fmt: skip
        if protocol not in (1, 3):
            return f"protocol v{protocol} is not supported"
        return ""

    def prepare(self, track: TrackView) -> None:
        """Precompute velocity and torque feed-forward for ``track`` (off the control path).

        A track that carries ``dq_hw`` and ``tau_ff_hw`` (computed by the daemon) is used as is,
        so loading it in the control process costs no inverse dynamics between ticks.
        """
        n = track.n_frames
        if track.dq_hw is not None and track.tau_ff_hw is not None:
            dq, tau = track.dq_hw, track.tau_ff_hw
        elif self._model is not None and self._config.feedforward is not FeedforwardJoints.NONE:
            dq, tau = inverse_dynamics_track(
                self._model, track.q_hw, 1.0 / TRACK_FPS, self._config.feedforward
            )
        else:
            dq = np.gradient(track.q_hw, 1.0 / TRACK_FPS, axis=0) if n > 1 else np.zeros((n, 29))
            tau = np.zeros((n, g1.NUM_BODY_JOINTS))
        if not self._config.use_velocity_feedforward:
            dq = np.zeros_like(dq)
        self._prepared = (track, dq, tau)

    def start(self, track: TrackView, state: RobotState) -> None:
        if self._prepared is None or self._prepared[0] is not track:
            self.prepare(track)  # a late prepare costs time in this one tick; callers avoid it
        self._active = self._prepared

    def step(self, state: RobotState, frame: int, out: RobotCommand) -> None:
        if self._active is None:
            raise RuntimeError("PdTracker.step called before start")
        track, dq, tau = self._active
        i = track.frame(frame)
        np.copyto(out.q, track.q_hw[i])
        np.copyto(out.dq, dq[i])
        np.copyto(out.tau, tau[i])
        if self._gravity is not None:
            self._gravity.add_torque(state.q, state.imu_quat_wxyz, out.tau)
        np.copyto(out.kp, g1.KP)
        np.copyto(out.kd, g1.KD)
