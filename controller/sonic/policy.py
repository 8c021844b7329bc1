"""The SONIC policy as a ``TrackingController``: observations -> encoder -> decoder -> targets.

Per tick (``step``), following ARCHITECTURE's tick order:

1. pelvis rotation from the IMU quaternion; gravity direction in the pelvis frame;
2. decoder histories advance by one tick (gyro, q - default, dq, last action, gravity);
3. encoder input for the reference window at ``frame`` (skipped in token mode); on the first
   step after ``start`` the reference heading is aligned to the robot's (and again after a
   stream's catch-up; a stream's heading increments turn it further);
4. finiteness check of both inputs; encoder -> token; decoder -> action;
5. ``q = Q_DEFAULT + ACTION_SCALE * action`` in hardware order, SONIC's kp/kd, dq = tau = 0.

Reference modes (``ReferenceMode``): a motion package and a protocol v3 stream are tracked in
SMPL mode, a protocol v1 stream (G1 joint references) in G1 mode, a protocol v4 stream (or
``token_mode``) feeds tokens straight to the decoder. ``prepare`` picks the mode from the track.

Faults never raise out of ``step``: a non-finite observation or action, or a backend failure,
sets ``last_step_finite = False`` and ``last_fault``, and the proposal becomes pure damping
(kp = 0, kd = SONIC's, q = measured q) so that even an unguarded caller would not jerk the robot.
The supervisor reads ``last_step_finite`` (-> DAMP) and ``last_inference_ns`` (-> budget).
"""

from __future__ import annotations

import enum
import time

import numpy as np
import numpy.typing as npt

from controller.embodiment.g1 import ACTION_SCALE, HW_TO_ISAAC, KD, KP, NUM_BODY_JOINTS, Q_DEFAULT
from controller.robot.base import RobotCommand, RobotState
from controller.safety import Cause
from controller.sonic.obs_config import ENCODER_CONFIGS, G1_MODE_ID, NUM_SMPL_JOINTS, SMPL_MODE_ID
from controller.sonic.observations import DecoderObservation, EncoderObservation, PelvisFrame
from controller.sonic.rotations import quat_to_matrix
from controller.stream_track import StreamTrack
from controller.tracking import ControllerKind
from estimators.track import ReferenceTrack, TrackView
from models import EncoderVariant, InferenceError, Session
from models.contracts import (
    SONIC_DECODER_OUTPUT_NAME,
    SONIC_ENCODER_OUTPUT_NAME,
    SONIC_INPUT_NAME,
    SONIC_TOKEN_DIM,
    detect_encoder_variant,
    sonic_decoder_contract,
    sonic_encoder_contract,
)

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]


class ReferenceMode(enum.Enum):
    """How the reference reaches the decoder."""

    SMPL = "smpl"
    """Encoder in SMPL mode: packages, protocol v3 streams."""
    G1 = "g1"
    """Encoder in G1 mode: G1 joint references, protocol v1 streams."""
    TOKEN = "token"
    """No encoder: tokens from a protocol v4 stream (or ``set_token``)."""


_STREAM_MODES = {1: ReferenceMode.G1, 3: ReferenceMode.SMPL, 4: ReferenceMode.TOKEN}


class UnsupportedReferenceError(ValueError):
    """A track this policy cannot follow (e.g. SMPL references without an encoder)."""


class StepFault(enum.Enum):
    """Why the last ``step`` produced no usable action."""

    NONE = "none"
    NON_FINITE_OBSERVATION = "non_finite_observation"
    NON_FINITE_ACTION = "non_finite_action"
    INFERENCE_FAILED = "inference_failed"


_FAULT_CAUSES: dict[StepFault, Cause | None] = {
    StepFault.NONE: None,
    StepFault.NON_FINITE_OBSERVATION: Cause.NON_FINITE_OBSERVATION,
    StepFault.NON_FINITE_ACTION: Cause.NON_FINITE_COMMAND,
    StepFault.INFERENCE_FAILED: Cause.INFERENCE_FAILED,
}


def _all_finite(values: npt.NDArray[np.floating], scratch: npt.NDArray[np.bool_]) -> bool:
    """No NaN or inf in ``values``. isfinite into scratch + count_nonzero: unlike ``.all()``
    or ``.sum()`` (reductions), this allocates nothing and cannot overflow."""
    np.isfinite(values, out=scratch)
    return int(np.count_nonzero(scratch)) == scratch.size


class SonicPolicy:
    """SONIC encoder + decoder tracking a ``ReferenceTrack`` in SMPL mode, or fed tokens.

    Args:
        decoder: a session with SONIC's decoder contract (checked here).
        encoder: a session with one of SONIC's encoder contracts, or None for token mode only.
        token_mode: skip the encoder; the token comes from ``set_token`` (zeros until then, as
            SONIC does with no encoder and no token yet).
    """

    kind = ControllerKind.SONIC

    def __init__(
        self, *, decoder: Session, encoder: Session | None, token_mode: bool = False
    ) -> None:
        sonic_decoder_contract().check(decoder)
        self.variant: EncoderVariant | None = None
        self._encoder_obs: EncoderObservation | None = None
        if encoder is not None:
            self.variant = detect_encoder_variant(encoder)
            sonic_encoder_contract(self.variant).check(encoder)
            self._encoder_obs = EncoderObservation(ENCODER_CONFIGS[self.variant])
        self._is_token_only = token_mode or encoder is None
        self.mode = ReferenceMode.TOKEN if self._is_token_only else ReferenceMode.SMPL
        self._decoder, self._encoder = decoder, encoder
        self._decoder_obs = DecoderObservation()
        self._token: F32 = np.zeros((1, SONIC_TOKEN_DIM), dtype=np.float32)
        self._external_token: F32 = np.zeros(SONIC_TOKEN_DIM, dtype=np.float32)
        self._token_source: F32 = self._external_token
        self._stream: StreamTrack | None = None
        self._action: F32 = np.zeros((1, NUM_BODY_JOINTS), dtype=np.float32)
        self._last_action: F32 = np.zeros(NUM_BODY_JOINTS, dtype=np.float32)
        self._action_hw: F32 = np.zeros(NUM_BODY_JOINTS, dtype=np.float32)
        self._pelvis = PelvisFrame(
            heading_only=self._encoder_obs is not None
            and self._encoder_obs.config.smpl.anchor_heading_only
        )
        self._prepared: TrackView | None = None
        self._align_pending = True
        # Scratch for the finiteness checks (see ``_all_finite``).
        self._finite_proprio = np.zeros(self._decoder_obs.proprio.shape, dtype=np.bool_)
        self._finite_encoder = np.zeros(
            self._encoder_obs.buffer.shape if self._encoder_obs is not None else (0,), np.bool_
        )
        self._finite_token = np.zeros(SONIC_TOKEN_DIM, dtype=np.bool_)
        self._finite_action = np.zeros(NUM_BODY_JOINTS, dtype=np.bool_)
        # The mappings handed to Session.run: built once so the tick builds no dicts.
        self._encoder_inputs: dict[str, F32] = (
            {SONIC_INPUT_NAME: self._encoder_obs.buffer} if self._encoder_obs is not None else {}
        )
        self._encoder_outputs = {SONIC_ENCODER_OUTPUT_NAME: self._token}
        self._decoder_inputs = {SONIC_INPUT_NAME: self._decoder_obs.buffer}
        self._decoder_outputs = {SONIC_DECODER_OUTPUT_NAME: self._action}
        self.last_step_finite = True
        """False when the last step's observation or action was non-finite or inference failed."""
        self.last_fault = StepFault.NONE
        self.last_obs_build_ns = 0
        self.last_encoder_ns = 0
        self.last_decoder_ns = 0
        self.last_inference_ns = 0
        """Encoder + decoder time of the last step (what the supervisor budgets)."""

    @property
    def heading_offset_rad(self) -> float:
        """Yaw added to the reference at the first step after ``start`` (robot minus reference
        heading at that frame), as SONIC re-captures heading when playback starts."""
        return self._pelvis.heading_offset_rad

    @property
    def token(self) -> F32:
        """(64,) the token the decoder saw last (read-only view)."""
        view: F32 = self._decoder_obs.token.view()
        view.flags.writeable = False
        return view

    @property
    def last_action_isaac(self) -> F32:
        """(29,) the last finite raw action, IsaacLab order (read-only view)."""
        view: F32 = self._last_action.view()
        view.flags.writeable = False
        return view

    @property
    def encoder_input(self) -> F32 | None:
        """(1, E) the encoder input as last built (read-only view); None without encoder."""
        if self._encoder_obs is None:
            return None
        view: F32 = self._encoder_obs.buffer.view()
        view.flags.writeable = False
        return view

    @property
    def decoder_input(self) -> F32:
        """(1, 994) the decoder input as last built (read-only view)."""
        view: F32 = self._decoder_obs.buffer.view()
        view.flags.writeable = False
        return view

    @property
    def is_token_mode(self) -> bool:
        return self.mode is ReferenceMode.TOKEN

    def set_token(self, token: npt.NDArray[np.floating]) -> None:
        """Supply the token used in token mode (64 floats, e.g. from ZMQ protocol v4)."""
        np.copyto(self._external_token, np.reshape(token, SONIC_TOKEN_DIM))

    def stream_refusal(self, protocol: int) -> str:
        """Why a stream of this protocol cannot be tracked ("" when it can)."""
        mode = _STREAM_MODES.get(protocol)
        if mode is None:
            return f"protocol v{protocol} is not supported"
        if mode is not ReferenceMode.TOKEN and self._encoder_obs is None:
            return (f"protocol v{protocol} needs SONIC's encoder ({mode.value} mode); this "
                    "policy runs in token mode only (sonic.encoder_path is not set)")  # fmt: skip
        return ""

    def prepare(self, track: TrackView) -> None:
        """Bind ``track``'s references and pick the reference mode (off the control path).

        A motion package is tracked in SMPL mode (token mode without an encoder); a stream in
        the mode of its protocol, reading the stream's window arrays in place.

        Raises:
            UnsupportedReferenceError: a stream this policy cannot track (``stream_refusal``).
        """
        if isinstance(track, StreamTrack):
            refusal = self.stream_refusal(track.protocol)
            if refusal:
                raise UnsupportedReferenceError(refusal)
            self._prepare_stream(track)
        elif isinstance(track, ReferenceTrack):
            self._stream = None
            self._token_source = self._external_token
            self.mode = ReferenceMode.TOKEN if self._is_token_only else ReferenceMode.SMPL
            if self._encoder_obs is not None:
                self._encoder_obs.set_mode(SMPL_MODE_ID)
                joints = track.smpl_joints_local.reshape(track.n_frames, 3 * NUM_SMPL_JOINTS)
                self._encoder_obs.bind_track(
                    joints.astype(np.float32),
                    track.wrist_isaac.astype(np.float32),
                    quat_to_matrix(track.root_quat_wxyz),
                )
        else:
            raise UnsupportedReferenceError(f"cannot track a {type(track).__name__}")
        self._prepared = track

    def _prepare_stream(self, stream: StreamTrack) -> None:
        self._stream = stream
        self.mode = _STREAM_MODES[stream.protocol]
        if self.mode is ReferenceMode.TOKEN:
            self._token_source = stream.token
            return
        self._token_source = self._external_token
        encoder_obs = self._encoder_obs
        if encoder_obs is None:  # ruled out by stream_refusal
            raise UnsupportedReferenceError("no encoder")
        encoder_obs.set_mode(SMPL_MODE_ID if self.mode is ReferenceMode.SMPL else G1_MODE_ID)
        encoder_obs.bind_views(
            joints_local=stream.window_smpl32,
            wrists_isaac=stream.window_wrists32,
            root_columns=stream.window_columns,
            root_yaw=stream.window_yaw,
            q_isaac=stream.window_q_isaac32,
            dq_isaac=stream.window_dq_isaac32,
        )

    def start(self, track: TrackView, state: RobotState) -> None:
        """Clear all history; the heading is aligned on the first step (its frame and pose)."""
        if self._prepared is not track:
            self.prepare(track)  # a late prepare costs time here; callers prepare on load
        self._decoder_obs.reset()
        self._last_action.fill(0.0)
        self._align_pending = True
        self.last_step_finite, self.last_fault = True, StepFault.NONE

    def warm_up(self, runs: int = 20) -> None:
        """Run both models ``runs`` times on the current buffers (first runs are slow)."""
        for _ in range(runs):
            if not self.is_token_mode and self._encoder is not None:
                self._encoder.run(self._encoder_inputs, self._encoder_outputs)
            self._decoder.run(self._decoder_inputs, self._decoder_outputs)

    def build_observations(self, state: RobotState, frame: int) -> bool:
        """Write both model inputs for this tick (advances the decoder histories once).

        ``step`` calls this first; it is public for tests and the benchmark. Returns False if
        any written observation is non-finite.
        """
        pelvis = self._pelvis
        pelvis.update(state.imu_quat_wxyz)
        self._decoder_obs.push(
            state.imu_gyro_b, state.q, state.dq, self._last_action, pelvis.gravity_b
        )
        finite = _all_finite(self._decoder_obs.proprio, self._finite_proprio)
        encoder_obs = self._encoder_obs
        if encoder_obs is not None and self.mode is not ReferenceMode.TOKEN:
            stream = self._stream
            if stream is not None:
                if stream.take_realign():
                    self._align_pending = True
                delta = stream.take_heading()
                if delta != 0.0:
                    pelvis.add_heading(delta)
            if self._align_pending:
                pelvis.align_heading(encoder_obs.reference_yaw(frame))
                self._align_pending = False
            pelvis.update_anchor_transform()
            encoder_obs.fill(frame, pelvis.anchor_transform)
            finite = _all_finite(encoder_obs.buffer, self._finite_encoder) and finite
        return finite

    def step(self, state: RobotState, frame: int, out: RobotCommand) -> None:
        """Propose body targets for ``frame`` into ``out`` (see the module docstring)."""
        t_start = time.perf_counter_ns()
        finite = self.build_observations(state, frame)
        t_obs = time.perf_counter_ns()
        self.last_obs_build_ns = t_obs - t_start
        self.last_encoder_ns = self.last_decoder_ns = self.last_inference_ns = 0
        if not finite:
            self._fault(StepFault.NON_FINITE_OBSERVATION, state, out)
            return
        token = self._decoder_obs.token
        try:
            if self._encoder is not None and self.mode is not ReferenceMode.TOKEN:
                self._encoder.run(self._encoder_inputs, self._encoder_outputs)
                np.copyto(token, self._token[0])
            else:
                np.copyto(token, self._token_source)
            t_encoded = time.perf_counter_ns()
            self.last_encoder_ns = t_encoded - t_obs
            if not _all_finite(token, self._finite_token):
                self.last_inference_ns = self.last_encoder_ns
                self._fault(StepFault.NON_FINITE_OBSERVATION, state, out)
                return
            self._decoder.run(self._decoder_inputs, self._decoder_outputs)
        except InferenceError:
            self.last_inference_ns = time.perf_counter_ns() - t_obs
            self._fault(StepFault.INFERENCE_FAILED, state, out)
            return
        t_decoded = time.perf_counter_ns()
        self.last_decoder_ns = t_decoded - t_encoded
        self.last_inference_ns = t_decoded - t_obs
        action = self._action[0]
        if not _all_finite(action, self._finite_action):
            self._fault(StepFault.NON_FINITE_ACTION, state, out)
            return
        np.copyto(self._last_action, action)
        # take() needs out= of the source dtype (else it casts via a temporary).
        action.take(HW_TO_ISAAC, 0, self._action_hw, "clip")
        np.multiply(self._action_hw, ACTION_SCALE, out=out.q)
        np.add(out.q, Q_DEFAULT, out=out.q)
        np.copyto(out.kp, KP)
        np.copyto(out.kd, KD)
        out.dq.fill(0.0)
        out.tau.fill(0.0)
        self.last_step_finite, self.last_fault = True, StepFault.NONE

    @property
    def last_fault_cause(self) -> Cause | None:
        """The supervisor's cause for the last step's fault, None when the step was usable."""
        return _FAULT_CAUSES[self.last_fault]

    def _fault(self, fault: StepFault, state: RobotState, out: RobotCommand) -> None:
        """Propose damping at the measured pose and flag the fault for the supervisor."""
        self.last_step_finite, self.last_fault = False, fault
        np.copyto(out.q, state.q)
        out.kp.fill(0.0)
        np.copyto(out.kd, KD)
        out.dq.fill(0.0)
        out.tau.fill(0.0)

    def close(self) -> None:
        """Release both sessions."""
        self._decoder.close()
        if self._encoder is not None:
            self._encoder.close()
